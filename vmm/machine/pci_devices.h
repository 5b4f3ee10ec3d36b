// PciDevices: PCI bus 0 of the machine and the virtio devices on it as
// virtio-pci functions (devices/virtio/transport/pci.h).
//
// The root bus is reached through ECAM (MMIO, described by the MCFG) and
// through ports 0xcf8-0xcff, which it shares with the chipset's reset
// control register at 0xcf9. Each function gets:
//  - BAR 0, assigned by mini-vmm from the 32-bit PCI window as firmware
//    would; when the guest moves it, the BAR follows on the MMIO bus and
//    its doorbells are re-registered (BarMapper);
//  - one KVM ioeventfd per queue doorbell, so a kick never returns to a
//    vCPU thread;
//  - its MSI-X vectors as KVM MSI routes with irqfds (MsiVectors), and its
//    INTA# on the shared, swizzled INTx pins (IntxPins) when the guest does
//    not enable MSI-X.
//
// Each function's registrations are one DeviceAttachment; StopAll() stops
// every device (threads joined) and must run before anything they use
// goes; the destructor does it too.
//
// Threading: built and destroyed on the machine's thread; BarMapper runs on
// vCPU threads (under the root bus's configuration lock).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "arch/x86_64/platform_resources.h"
#include "devices/bus/bus.h"
#include "devices/pci/root_bus.h"
#include "devices/virtio/device.h"
#include "firmware/acpi/tables.h"
#include "vmm/base/result.h"
#include "vmm/kvm/interrupt_router.h"
#include "vmm/kvm/vm_interfaces.h"
#include "vmm/machine/device_attachment.h"
#include "vmm/machine/pci_interrupts.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm {

class PciDevices {
 public:
  // Everything given must outlive this object.
  PciDevices(kvm::IoEvents& io_events, kvm::InterruptRouter& irqs, devices::Bus& mmio_bus,
             devices::Bus& pio_bus, const GuestMemory& memory,
             arch::x86_64::PlatformResources& resources);
  PciDevices(const PciDevices&) = delete;
  PciDevices& operator=(const PciDevices&) = delete;
  ~PciDevices() { StopAll(); }

  // Puts the host bridge's configuration mechanisms on the buses;
  // `reset_control` answers byte accesses to port 0xcf9.
  Result<void> AttachRootBus(std::shared_ptr<devices::BusDevice> reset_control);
  // Fails if no slot or BAR space is left, or KVM refuses a registration;
  // then nothing of the device stays.
  Result<void> Add(std::shared_ptr<virtio::VirtioDevice> device);
  // Stops every device; idempotent.
  void StopAll() noexcept;

  // The host bridge as ACPI (and the MP table) describe it.
  firmware::acpi::PciHostBridge AcpiDescription() const;
  size_t size() const { return functions_.size(); }
  pci::PciRootBus& root() { return *root_; }
  // The shared INTx pins (passed-through functions wire theirs to them).
  IntxPins& intx_pins() { return intx_; }

 private:
  kvm::IoEvents& io_events_;
  kvm::InterruptRouter& irqs_;
  devices::Bus& mmio_bus_;
  devices::Bus& pio_bus_;
  const GuestMemory& memory_;
  arch::x86_64::PlatformResources& resources_;
  std::shared_ptr<pci::PciRootBus> root_;
  IntxPins intx_;
  std::optional<devices::BusRegistration> ecam_;
  std::optional<devices::BusRegistration> config_ports_;
  std::vector<DeviceAttachment> functions_;
};

}  // namespace mini_vmm
