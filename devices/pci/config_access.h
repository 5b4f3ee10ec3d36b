// The two ways a guest reaches PCI configuration space:
//  - PciEcam: the PCI Express enhanced configuration access mechanism, a
//    memory window (ACPI MCFG) where function bus:dev.fn register `reg`
//    sits at bus << 20 | dev << 15 | fn << 12 | reg. This one covers bus 0.
//  - PciConfigIo: configuration mechanism #1, ports 0xcf8 (CONFIG_ADDRESS:
//    bit 31 enable, bus 23:16, device 15:11, function 10:8, register 7:2)
//    and 0xcfc-0xcff (CONFIG_DATA, byte lanes of the addressed dword).
//    Linux uses it with acpi=off, and to probe before ECAM.
//
// Both are BusDevices; threading is PciRootBus's (one config lock), except
// that PciConfigIo's CONFIG_ADDRESS is one atomic shared by all vCPUs, as
// the hardware register is: guests serialize their cf8/cfc pairs
// themselves (Linux's pci_config_lock).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "devices/bus/bus_device.h"
#include "devices/pci/root_bus.h"

namespace mini_vmm::pci {

class PciEcam final : public devices::BusDevice {
 public:
  // One bus: 32 devices x 8 functions x 4 KiB.
  static constexpr uint64_t kWindowSize = 1 << 20;

  explicit PciEcam(std::shared_ptr<PciRootBus> root) : root_(std::move(root)) {}
  std::string_view name() const override { return "pci-ecam"; }
  // Accesses of 1, 2 or 4 bytes inside one function's 4 KiB reach it (at
  // any alignment); others read as all-ones and are ignored when written.
  void Read(const devices::IoAccess& access, std::span<uint8_t> data) noexcept override;
  void Write(const devices::IoAccess& access, std::span<const uint8_t> data) noexcept override;

 private:
  std::shared_ptr<PciRootBus> root_;
};

class PciConfigIo final : public devices::BusDevice {
 public:
  static constexpr uint16_t kBasePort = 0xcf8;
  static constexpr uint64_t kPortCount = 8;

  explicit PciConfigIo(std::shared_ptr<PciRootBus> root) : root_(std::move(root)) {}
  std::string_view name() const override { return "pci-config-io"; }
  // CONFIG_ADDRESS takes 4-byte accesses at 0xcf8 only (narrower ones, like
  // the 0xcfb byte a type-1 probe writes, are not it: reads all-ones,
  // writes ignored). CONFIG_DATA takes 1, 2 or 4 bytes within 0xcfc-0xcff.
  void Read(const devices::IoAccess& access, std::span<uint8_t> data) noexcept override;
  void Write(const devices::IoAccess& access, std::span<const uint8_t> data) noexcept override;

  uint32_t config_address() const { return address_.load(std::memory_order_relaxed); }

 private:
  // The function and register offset CONFIG_DATA at `offset` (4-7) with
  // `size` bytes reaches, or false if the access is not a valid data access
  // or CONFIG_ADDRESS is not enabled.
  bool Decode(uint64_t offset, size_t size, PciAddress* address, uint32_t* reg) const;

  std::shared_ptr<PciRootBus> root_;
  std::atomic<uint32_t> address_{0};  // guest-controlled
};

}  // namespace mini_vmm::pci
