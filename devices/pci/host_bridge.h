// PciHostBridge: function 00:00.0, the host bridge Linux expects to find
// first on a root bus (class 0x0600). No BARs, no interrupt.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "devices/pci/config_space.h"
#include "devices/pci/pci_device.h"

namespace mini_vmm::pci {

class PciHostBridge final : public PciDevice {
 public:
  // Red Hat's ID for a generic PCIe host bridge (PCI ID registry); no guest
  // driver binds to it, which is what a plain host bridge wants.
  static constexpr uint16_t kVendorId = 0x1b36;
  static constexpr uint16_t kDeviceId = 0x0008;

  PciHostBridge();
  std::string_view name() const override { return "pci-host-bridge"; }
  // Called with the root bus's config lock held (see PciDevice).
  void ReadConfig(uint32_t offset, std::span<uint8_t> data) noexcept override;
  void WriteConfig(uint32_t offset, std::span<const uint8_t> data) noexcept override;

 private:
  PciConfigSpace config_;
};

}  // namespace mini_vmm::pci
