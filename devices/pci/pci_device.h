// PciDevice: a PCI function as the root bus sees it, i.e. its configuration
// space. Its BARs are ordinary BusDevices that the machine places on the
// MMIO or port I/O bus where the guest programs them (see BarObserver in
// config_space.h).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace mini_vmm::pci {

// Size of one function's configuration space (PCI Express: 4 KiB, of which
// the type-0 header and the capability list use the first 256 bytes).
inline constexpr uint32_t kConfigSpaceSize = 0x1000;

// Threading: PciRootBus serializes every configuration access of the bus
// (one mutex), so ReadConfig/WriteConfig of one function never run
// concurrently. The function's BAR handlers do run concurrently with them
// (on other vCPUs), so state the two paths share needs the function's own
// lock.
class PciDevice {
 public:
  virtual ~PciDevice() = default;
  virtual std::string_view name() const = 0;
  // `offset` + `data.size()` <= kConfigSpaceSize and 1 <= size <= 4, checked
  // by the root bus; the offset may be unaligned (the guest is hostile).
  virtual void ReadConfig(uint32_t offset, std::span<uint8_t> data) noexcept = 0;
  virtual void WriteConfig(uint32_t offset, std::span<const uint8_t> data) noexcept = 0;
};

}  // namespace mini_vmm::pci
