// BusDevice: anything the guest reaches through port I/O or MMIO.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace mini_vmm::devices {

// One guest access, as the device sees it.
struct IoAccess {
  uint64_t address = 0;  // Absolute port number or guest-physical address.
  uint64_t offset = 0;   // Offset from the start of the device's range.
  uint32_t vcpu = 0;     // The vCPU that made the access.
};

// Devices are called concurrently from every vCPU thread and must protect
// their own state. Read() must fill all of `data`; guest accesses of odd
// sizes or at odd offsets are the device's to reject (usually: read as
// all-ones, write ignored, rate-limited log).
class BusDevice {
 public:
  virtual ~BusDevice() = default;
  virtual std::string_view name() const = 0;
  virtual void Read(const IoAccess& access, std::span<uint8_t> data) noexcept = 0;
  virtual void Write(const IoAccess& access, std::span<const uint8_t> data) noexcept = 0;
};

}  // namespace mini_vmm::devices
