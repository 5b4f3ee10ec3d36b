#include "devices/pci/root_bus.h"

#include <algorithm>

#include "devices/pci/host_bridge.h"
#include "vmm/base/check.h"

namespace mini_vmm::pci {
namespace {

void CheckAccess(uint32_t offset, size_t size) {
  VMM_CHECK(size >= 1 && size <= 4 && offset < kConfigSpaceSize &&
            size <= kConfigSpaceSize - offset);
}

}  // namespace

PciRootBus::PciRootBus() { slots_[kHostBridgeSlot] = std::make_shared<PciHostBridge>(); }

Result<uint8_t> PciRootBus::Add(std::shared_ptr<PciDevice> device) {
  VMM_CHECK(device != nullptr);
  std::lock_guard lock(mutex_);
  const auto free = std::find(slots_.begin(), slots_.end(), nullptr);
  if (free == slots_.end()) {
    return Error::Invalid("cannot add PCI device {}: all {} slots of bus 0 are taken",
                          device->name(), kMaxDevices);
  }
  *free = std::move(device);
  return static_cast<uint8_t>(free - slots_.begin());
}

PciDevice* PciRootBus::Find(const PciAddress& address) {
  if (address.bus != 0 || address.function != 0 || address.device >= kMaxDevices) return nullptr;
  return slots_[address.device].get();
}

void PciRootBus::ReadConfig(const PciAddress& address, uint32_t offset,
                            std::span<uint8_t> data) noexcept {
  CheckAccess(offset, data.size());
  std::lock_guard lock(mutex_);
  if (PciDevice* device = Find(address)) {
    device->ReadConfig(offset, data);
  } else {
    std::fill(data.begin(), data.end(), 0xff);
  }
}

void PciRootBus::WriteConfig(const PciAddress& address, uint32_t offset,
                             std::span<const uint8_t> data) noexcept {
  CheckAccess(offset, data.size());
  std::lock_guard lock(mutex_);
  if (PciDevice* device = Find(address)) device->WriteConfig(offset, data);
}

}  // namespace mini_vmm::pci
