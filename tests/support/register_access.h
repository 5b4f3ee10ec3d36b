// 32-bit register accesses to a BusDevice, as a driver's readl()/writel()
// make them (little-endian). Catch2-free, so the fuzzers use it too.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "devices/bus/bus_device.h"

namespace mini_vmm::testing {

inline uint32_t ReadRegister32(devices::BusDevice& device, const devices::IoAccess& at) {
  std::array<uint8_t, 4> data{};
  device.Read(at, data);
  uint32_t value = 0;
  std::memcpy(&value, data.data(), sizeof(value));
  return value;
}

inline void WriteRegister32(devices::BusDevice& device, const devices::IoAccess& at,
                            uint32_t value) {
  std::array<uint8_t, 4> data{};
  std::memcpy(data.data(), &value, sizeof(value));
  device.Write(at, data);
}

}  // namespace mini_vmm::testing
