#include "devices/pci/host_bridge.h"

#include <linux/pci_regs.h>

namespace mini_vmm::pci {
namespace {

// PCI Code and ID Assignment: base class 06h (bridge), sub-class 00h (host).
constexpr uint32_t kClassHostBridge = 0x060000;

}  // namespace

PciHostBridge::PciHostBridge()
    : config_(PciHeader{.vendor_id = kVendorId,
                        .device_id = kDeviceId,
                        .class_code = kClassHostBridge,
                        .subsystem_vendor_id = kVendorId,
                        .subsystem_id = kDeviceId}) {}

void PciHostBridge::ReadConfig(uint32_t offset, std::span<uint8_t> data) noexcept {
  config_.Read(offset, data);
}

void PciHostBridge::WriteConfig(uint32_t offset, std::span<const uint8_t> data) noexcept {
  config_.Write(offset, data);
}

}  // namespace mini_vmm::pci
