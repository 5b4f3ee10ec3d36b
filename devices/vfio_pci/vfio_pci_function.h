// VfioPciFunction: a host PCI function passed through to the guest with
// VFIO, as the guest's root bus sees it.
//
// Configuration space is read from the device, and what mini-vmm must own
// is virtualised, in a shadow pci::PciConfigSpace:
//  - the BARs (the guest programs guest-physical addresses; the host's BARs
//    stay as the host assigned them), sized from the VFIO regions;
//  - the expansion ROM BAR (hidden: reads as zero, writes ignored);
//  - the command register (the shadow decides what the guest has mapped;
//    I/O, memory, bus-master, parity, SERR and INTx-disable are forwarded);
//  - the capability list's pointers (capabilities the guest cannot use are
//    unlinked: an MSI capability VFIO offers no vectors for) and the MSI-X
//    Message Control register;
//  - the whole MSI capability after its ID and next pointer, emulated by a
//    pci::MsiCapability whose sink is the relay's msi_sink();
//  - the interrupt line and pin;
//  - extended configuration space (0x100-0xfff), when the device's config
//    region has it: the capability chain's headers (hidden capabilities
//    unlinked, see extended_capabilities.h) and the hidden capabilities'
//    bytes (zero, writes ignored). A conventional function (a 256-byte
//    region) reads zero up there.
// Everything else is passed through to the device, where the kernel's
// vfio-pci filters it again.
//
// MSI and MSI-X are never enabled together: while one is enabled, the
// guest's write of the other's enable bit is dropped (it reads back 0), so
// the first one enabled wins. Linux never tries; PCI 3.0 §6.8 leaves it
// undefined.
//
// The MSI-X table and PBA are always trapped and emulated (pci::MsixVectors
// with an InterruptRelay as its sink), never mapped. Every other part of a
// BAR the kernel lets mmap is mapped by the machine (layout().bars[i].mapped)
// as a KVM memslot at the guest's BAR address; the rest of the BAR, and
// I/O BARs, reach BarDevice(i), which forwards to the device (pread/pwrite).
//
//   auto fn = TRY(VfioPciFunction::Create(io, routes, /*page_size=*/4096));
//   fn->set_bar_observer(&mover);        // BarMoved(i, old, new)
//   uint8_t slot = TRY(root_bus.Add(fn));
//   fn->AssignBar(0, TRY(resources.pci_mmio64.Allocate(...)));
//
// Threading: config accesses come serialized by the root bus; BAR accesses
// come from any vCPU thread. `mutex_` guards the shadow config; MSI-X state
// has MsixVectors' lock, MSI state MsiCapability's, interrupt wiring the
// relay's (lock order: mutex_, capability, relay). The BarObserver runs
// with the root bus lock and `mutex_` held.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "devices/bus/bus_device.h"
#include "devices/pci/config_space.h"
#include "devices/pci/msi.h"
#include "devices/pci/msix.h"
#include "devices/pci/pci_device.h"
#include "devices/vfio_pci/function_layout.h"
#include "devices/vfio_pci/interrupt_relay.h"
#include "vmm/vfio/device_io.h"

namespace mini_vmm::vfio_pci {

class VfioPciFunction final : public pci::PciDevice,
                              public std::enable_shared_from_this<VfioPciFunction> {
 public:
  // Reads the device's configuration header and layout. `io` and `routes`
  // must outlive the function.
  static Result<std::shared_ptr<VfioPciFunction>> Create(vfio::DeviceIo& io, VectorRoutes& routes,
                                                         uint64_t page_size);
  VfioPciFunction(const VfioPciFunction&) = delete;
  VfioPciFunction& operator=(const VfioPciFunction&) = delete;

  // pci::PciDevice.
  std::string_view name() const override { return name_; }
  void ReadConfig(uint32_t offset, std::span<uint8_t> data) noexcept override;
  void WriteConfig(uint32_t offset, std::span<const uint8_t> data) noexcept override;

  const FunctionLayout& layout() const { return layout_; }
  // The handler of BAR `index` for accesses that trap (everything not
  // mmapped): the MSI-X table and PBA, and the rest forwarded to the device.
  std::shared_ptr<devices::BusDevice> BarDevice(int index);
  void set_bar_observer(pci::BarObserver* observer);
  // Places BAR `index` at `address` and turns on its decoding, through the
  // guest's path (so the observer is told), as firmware would.
  void AssignBar(int index, uint64_t address);
  InterruptRelay& interrupts() { return relay_; }
  uint16_t msix_vectors() const { return layout_.msix ? layout_.msix->vectors : 0; }
  uint8_t msi_vectors() const { return layout_.msi ? layout_.msi->vectors : 0; }
  // Disables the device's interrupts (teardown). Sticky: a vCPU not yet
  // joined may still write the enable or mask bits, which then only change
  // the emulated registers (InterruptRelay::Shutdown), so the caller need
  // not join the vCPUs first.
  void Shutdown() noexcept { relay_.Shutdown(); }

  // BAR accesses (from BarDevice): offset inside the BAR.
  void ReadBar(int index, uint64_t offset, std::span<uint8_t> data) noexcept;
  void WriteBar(int index, uint64_t offset, std::span<const uint8_t> data) noexcept;

 private:
  // Where a configuration byte comes from: the device, the shadow (shadow_
  // below 0x100, ext_shadow_ above, which is read-only), the emulated MSI
  // capability, or nowhere (past the device's config space: zero).
  enum class Source : uint8_t { kDevice, kShadow, kMsi, kZero };

  VfioPciFunction(vfio::DeviceIo& io, VectorRoutes& routes, FunctionLayout layout);
  void BuildShadow();
  void BuildExtendedShadow();
  // Caller holds mutex_ for these.
  void ForwardCommand() noexcept;
  void ReadRun(Source source, uint32_t at, std::span<uint8_t> run) noexcept;
  void WriteMsi(uint32_t at, std::span<const uint8_t> run) noexcept;
  void MsixControlWritten() noexcept;
  void MsiWritten() noexcept;
  // Where [offset, offset + size) of BAR `index` falls: in the MSI-X table
  // or PBA (starting inside it), across one of their edges (dropped: the
  // device's own table must never be reached), or elsewhere.
  enum class MsixPart : uint8_t { kNone, kTable, kPba, kStraddle };
  MsixPart FindMsixPart(int index, uint64_t offset, uint64_t size, uint64_t* relative) const;

  const std::string name_;
  vfio::DeviceIo& io_;
  const FunctionLayout layout_;
  InterruptRelay relay_;
  std::optional<pci::MsixVectors> msix_;
  std::optional<pci::MsiCapability> msi_;
  std::array<Source, pci::kConfigSpaceSize> source_{};
  std::array<uint8_t, pci::kConfigSpaceSize - pci::kHeaderSize> ext_shadow_{};
  std::mutex mutex_;
  pci::PciConfigSpace shadow_;  // Guarded by mutex_; guest-controlled where writable.
};

}  // namespace mini_vmm::vfio_pci
