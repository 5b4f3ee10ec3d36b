// Bus: maps address ranges (a port I/O space or the MMIO space) to devices.
//
//   Bus pio("pio");
//   TRY(pio.Insert(serial, 0x3f8, 8));
//   if (!pio.Write(0x3f8, data, vcpu)) { /* nobody there */ }
//
// Ranges are registered while the VM is built and fixed once vCPUs run, so
// dispatch takes no lock.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "devices/bus/bus_device.h"
#include "vmm/base/result.h"

namespace mini_vmm::devices {

class Bus {
 public:
  explicit Bus(std::string name) : name_(std::move(name)) {}

  // Fails if the range is empty, wraps, or overlaps a registered range.
  Result<void> Insert(std::shared_ptr<BusDevice> device, uint64_t base, uint64_t len);

  // Dispatch an access; false if no device covers the whole access.
  bool Read(uint64_t address, std::span<uint8_t> data, uint32_t vcpu) const noexcept;
  bool Write(uint64_t address, std::span<const uint8_t> data, uint32_t vcpu) const noexcept;

  // The device covering [address, address + len), or nullptr.
  BusDevice* Find(uint64_t address, uint64_t len, uint64_t* offset) const noexcept;

 private:
  struct Range {
    uint64_t base;
    uint64_t len;
    std::shared_ptr<BusDevice> device;
  };

  std::string name_;
  std::vector<Range> ranges_;  // Sorted by base, non-overlapping.
};

}  // namespace mini_vmm::devices
