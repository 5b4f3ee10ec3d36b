// VfioDevices: the passed-through functions (--vfio) on PCI bus 0, each a
// vfio_pci::VfioPciFunction wired to the machine:
//  - placed in the next free slot (after the virtio-pci functions), its
//    memory BARs assigned from the PCI windows as firmware would;
//  - each mmappable part of a BAR (never the MSI-X table or PBA) mapped and
//    put in the MemoryMap as a device region, so it becomes a KVM memslot
//    at the guest's BAR address and follows the BAR when the guest moves
//    it (VfioBarMover); the rest of the BAR traps to the function, which
//    forwards it to the device;
//  - MSI-X and MSI vectors as KVM MSI routes with irqfds (MsiVectors, one
//    set sized for the larger of the two: they are never enabled together)
//    whose eventfds VFIO signals directly (InterruptRelay);
//  - INTx as an eventfd VFIO signals, connected with a resampling irqfd to
//    the slot's shared INTx pin, KVM's resample eventfd unmasking it in VFIO.
//
// StopAll() disables the interrupts, unmaps the BARs and resets each device;
// it must run before the MemoryMap, the buses and the VfioHost go (the
// destructor does it too).
//
// Threading: built and destroyed on the machine's thread; VfioBarMover
// runs on vCPU threads (under the root bus's configuration lock).
#pragma once

#include <vector>

#include "arch/x86_64/platform_resources.h"
#include "devices/bus/bus.h"
#include "vmm/base/result.h"
#include "vmm/kvm/interrupt_router.h"
#include "vmm/machine/device_attachment.h"
#include "vmm/machine/pci_devices.h"
#include "vmm/memory/memory_map.h"
#include "vmm/vfio/device.h"

namespace mini_vmm {

struct VfioWiring {
  PciDevices& pci;
  kvm::InterruptRouter& irqs;
  devices::Bus& mmio_bus;
  devices::Bus& pio_bus;
  MemoryMap& memory_map;
  arch::x86_64::PlatformResources& resources;
};

class VfioDevices {
 public:
  // Everything in `wiring` must outlive this object.
  explicit VfioDevices(const VfioWiring& wiring) : w_(wiring) {}
  VfioDevices(const VfioDevices&) = delete;
  VfioDevices& operator=(const VfioDevices&) = delete;
  ~VfioDevices() { StopAll(); }

  // Puts `device` on the bus; `device` must outlive this object. On
  // failure the machine is not started (what was registered goes with it).
  Result<void> Add(vfio::DeviceIo& device);
  void StopAll() noexcept;
  size_t size() const { return functions_.size(); }

 private:
  VfioWiring w_;
  std::vector<DeviceAttachment> functions_;
};

}  // namespace mini_vmm
