// Config-space accesses of a given width for the PCI unit tests.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>

#include "devices/pci/config_space.h"

namespace mini_vmm::pci::testing {

template <typename T>
T ReadAs(const PciConfigSpace& config, uint32_t offset) {
  std::array<uint8_t, sizeof(T)> bytes{};
  config.Read(offset, bytes);
  T value{};
  std::memcpy(&value, bytes.data(), sizeof(T));
  return value;
}

template <typename T>
void WriteAs(PciConfigSpace& config, uint32_t offset, T value) {
  std::array<uint8_t, sizeof(T)> bytes{};
  std::memcpy(bytes.data(), &value, sizeof(T));
  config.Write(offset, bytes);
}

}  // namespace mini_vmm::pci::testing
