#include "vmm/machine/vfio_devices.h"

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>

#include "devices/pci/intx.h"
#include "devices/vfio_pci/vfio_pci_function.h"
#include "vmm/base/event_fd.h"
#include "vmm/base/log.h"
#include "vmm/machine/pci_interrupts.h"
#include "vmm/machine/vfio_bar_mover.h"

namespace mini_vmm {
namespace {

// The function's vectors as KVM MSI routes with irqfds (MsiVectors), and
// each routed vector's eventfd for VFIO to signal.
class KvmVectorRoutes final : public vfio_pci::VectorRoutes {
 public:
  KvmVectorRoutes(std::string name, kvm::InterruptRouter& router, uint16_t vectors)
      : vectors_(std::move(name), router, vectors) {}
  void UpdateRoute(uint16_t vector, std::optional<pci::MsiMessage> message) noexcept override {
    vectors_.UpdateRoute(vector, message);
  }
  void Fire(uint16_t vector) noexcept override { vectors_.Fire(vector); }
  int TriggerFd(uint16_t vector) const override {
    const EventFd* fd = vectors_.eventfd(vector);
    return fd == nullptr ? -1 : fd->fd();
  }

 private:
  MsiVectors vectors_;
};

// INTx: VFIO signals `trigger` while the device asserts its pin (and masks
// it); KVM raises the GSI, and on the guest's EOI deasserts it and signals
// `resample`, which VFIO takes as the unmask.
struct IntxWiring {
  IntxWiring(EventFd t, EventFd r) : trigger(std::move(t)), resample(std::move(r)) {}
  EventFd trigger;
  EventFd resample;
};

AddressAllocator* WindowFor(const vfio_pci::BarLayout& bar,
                            arch::x86_64::PlatformResources& resources) {
  switch (bar.kind) {
    case pci::BarKind::kMemory32:
      return &resources.pci_mmio32;
    case pci::BarKind::kMemory64:
      // The 64-bit window is described as prefetchable (firmware/acpi):
      // a non-prefetchable 64-bit BAR goes below 4 GiB, as firmware puts
      // it, or the guest would move it there itself.
      return bar.prefetchable ? &resources.pci_mmio64 : &resources.pci_mmio32;
    case pci::BarKind::kIo:
      return &resources.pci_io;
    case pci::BarKind::kNone:
      return nullptr;
  }
  return nullptr;
}

}  // namespace

Result<void> VfioDevices::Add(vfio::DeviceIo& device) {
  const std::string name(device.name());
  const long page = ::sysconf(_SC_PAGESIZE);
  // MSI-X and MSI share the routes (never both enabled): room for either.
  const uint32_t msix = std::min<uint32_t>(device.irq(VFIO_PCI_MSIX_IRQ_INDEX).count,
                                           pci::MsixVectors::kMaxVectors);
  const uint32_t msi = std::min<uint32_t>(device.irq(VFIO_PCI_MSI_IRQ_INDEX).count,
                                          pci::MsiCapability::kMaxVectors);
  const auto vectors = static_cast<uint16_t>(std::max({1u, msix, msi}));
  // Held first, so released last: the routes outlive the function's use.
  auto routes = std::make_unique<KvmVectorRoutes>(name, w_.irqs, vectors);
  auto function =
      TRY(vfio_pci::VfioPciFunction::Create(device, *routes, static_cast<uint64_t>(page)));
  auto mover =
      std::make_shared<VfioBarMover>(name, function, w_.mmio_bus, w_.pio_bus, w_.memory_map);
  DeviceAttachment attachment(name, [function, mover, &device] {
    function->Shutdown();
    function->set_bar_observer(nullptr);
    mover->UnmapAll();
    if (auto reset = device.Reset(); !reset.ok()) LOG_WARN("{}", reset.error().ToString());
  });
  attachment.Hold(std::move(routes));
  attachment.Hold(function);
  attachment.Hold(mover);
  TRY(mover->Map(device));

  const uint8_t slot = TRY(w_.pci.root().Add(function));
  const uint8_t pin = function->layout().header.interrupt_pin;
  uint32_t gsi = 0;
  if (pin != 0) {
    IntxWiring& intx = *attachment.Hold(
        std::make_unique<IntxWiring>(TRY(EventFd::Create()), TRY(EventFd::Create())));
    gsi = w_.pci.intx_pins().gsi(pci::SwizzleIntxPin(slot, pin));
    attachment.Hold(TRY(w_.irqs.ConnectIrqFd(intx.trigger, gsi, &intx.resample)));
    TRY(function->interrupts().ConnectIntx(intx.trigger.fd(), intx.resample.fd()));
  }
  function->set_bar_observer(mover.get());
  std::string bars;
  for (const vfio_pci::BarLayout& bar : function->layout().bars) {
    AddressAllocator* window = WindowFor(bar, w_.resources);
    if (window == nullptr) continue;
    const uint64_t address =
        TRY(window->Allocate(bar.size, bar.size, Format("{} BAR {}", name, bar.index)));
    function->AssignBar(bar.index, address);
    bars += Format("{}{} at {:#x} ({:#x} bytes)", bars.empty() ? "" : ", ", bar.index, address,
                   bar.size);
  }
  const pci::PciHeader& header = function->layout().header;
  LOG_INFO(
      "vfio {}: {:04x}:{:04x} at guest 00:{:02x}.0, BARs {}, MSI-X {} vectors, MSI {} vectors, "
      "INTx GSI {}",
      name, header.vendor_id, header.device_id, slot, bars.empty() ? "none" : bars,
      function->msix_vectors(), function->msi_vectors(),
      pin == 0 ? std::string("none") : std::to_string(gsi));
  functions_.push_back(std::move(attachment));
  return {};
}

void VfioDevices::StopAll() noexcept {
  for (DeviceAttachment& f : functions_) f.Stop();
}

}  // namespace mini_vmm
