// PciRootBus: PCI bus 0 with up to 32 single-function devices, the host
// bridge at 00:00.0, and a slot allocator. The guest reaches it through
// PciEcam (MMIO, config_access.h) or PciConfigIo (ports 0xcf8-0xcff).
//
//   auto root = std::make_shared<PciRootBus>();
//   uint8_t slot = TRY(root->Add(virtio_pci));     // 00:<slot>.0
//   TRY(mmio.Insert(std::make_shared<PciEcam>(root), kEcamBase, PciEcam::kWindowSize));
//   TRY(pio.Insert(std::make_shared<PciConfigIo>(root), 0xcf8, PciConfigIo::kPortCount));
//
// Threading: one mutex serializes every configuration access on the bus and
// every Add, so a function's ReadConfig/WriteConfig never run concurrently
// (what PciDevice promises). Config accesses are rare (probe, BAR moves,
// MSI-X enable), so one lock costs nothing measurable. A BarObserver called
// from a WriteConfig runs under this lock and must not access config space.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>

#include "devices/pci/pci_device.h"
#include "vmm/base/result.h"

namespace mini_vmm::pci {

// A function's place in configuration space.
struct PciAddress {
  uint8_t bus = 0;
  uint8_t device = 0;    // 0-31
  uint8_t function = 0;  // 0-7
};

class PciRootBus {
 public:
  static constexpr uint8_t kMaxDevices = 32;
  static constexpr uint8_t kHostBridgeSlot = 0;

  PciRootBus();
  PciRootBus(const PciRootBus&) = delete;
  PciRootBus& operator=(const PciRootBus&) = delete;

  // Puts `device` in the lowest free slot, as function 0; fails when all 32
  // are taken.
  Result<uint8_t> Add(std::shared_ptr<PciDevice> device);

  // A configuration access of 1, 2 or 4 bytes at `offset` inside the
  // function's 4 KiB (callers check; violations abort). Functions that do
  // not exist read as all-ones and ignore writes, as a master abort does.
  void ReadConfig(const PciAddress& address, uint32_t offset, std::span<uint8_t> data) noexcept;
  void WriteConfig(const PciAddress& address, uint32_t offset,
                   std::span<const uint8_t> data) noexcept;

 private:
  PciDevice* Find(const PciAddress& address);  // Caller holds mutex_.

  std::mutex mutex_;
  std::array<std::shared_ptr<PciDevice>, kMaxDevices> slots_;  // Guarded by mutex_.
};

}  // namespace mini_vmm::pci
