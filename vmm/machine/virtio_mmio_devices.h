// VirtioMmioDevices: puts virtio devices on the MMIO bus, one virtio-mmio
// window and GSI each, with the doorbells as KVM ioeventfds (datamatch =
// queue index, so a kick never returns to the vCPU thread) and the
// interrupt as a KVM irqfd. Also describes the devices for the guest: ACPI
// DSDT entries, and virtio_mmio.device= parameters for acpi=off boots.
//
// Each device's registrations are one DeviceAttachment. StopAll() stops
// every device (threads joined) and must run before anything the devices
// use goes; the destructor does it too, and then releases the attachments.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arch/x86_64/platform_resources.h"
#include "devices/bus/bus.h"
#include "devices/bus/interrupt.h"
#include "devices/virtio/device.h"
#include "devices/virtio/transport/mmio.h"
#include "firmware/acpi/tables.h"
#include "vmm/base/result.h"
#include "vmm/kvm/interrupt_router.h"
#include "vmm/kvm/vm_interfaces.h"
#include "vmm/machine/device_attachment.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm {

class VirtioMmioDevices {
 public:
  // Everything given must outlive this object.
  VirtioMmioDevices(kvm::IoEvents& io_events, kvm::InterruptRouter& irqs, devices::Bus& mmio_bus,
                    const GuestMemory& memory, arch::x86_64::PlatformResources& resources)
      : io_events_(io_events),
        irqs_(irqs),
        mmio_bus_(mmio_bus),
        memory_(memory),
        resources_(resources) {}

  VirtioMmioDevices(const VirtioMmioDevices&) = delete;
  VirtioMmioDevices& operator=(const VirtioMmioDevices&) = delete;
  ~VirtioMmioDevices() { StopAll(); }

  // Fails if no slot is left or KVM refuses a registration; then nothing of
  // the device stays registered.
  Result<void> Add(std::shared_ptr<virtio::VirtioDevice> device);
  // Stops every device; idempotent.
  void StopAll() noexcept;

  std::vector<firmware::acpi::VirtioMmioDevice> AcpiDescriptions() const;
  // "virtio_mmio.device=4K@0xd0000000:5 ..." (empty without devices).
  std::string KernelParameters() const;

 private:
  // The device's transport and registrations at `base` and `gsi`.
  Result<DeviceAttachment> Attach(std::shared_ptr<virtio::VirtioDevice> device, uint64_t base,
                                  uint32_t gsi);

  struct Slot {
    uint64_t base = 0;
    uint32_t gsi = 0;
    DeviceAttachment attachment;
  };

  kvm::IoEvents& io_events_;
  kvm::InterruptRouter& irqs_;
  devices::Bus& mmio_bus_;
  const GuestMemory& memory_;
  arch::x86_64::PlatformResources& resources_;
  std::vector<Slot> slots_;
};

// Whether `cmdline` contains `param` as a whole word (e.g. "acpi=off").
bool HasKernelParameter(std::string_view cmdline, std::string_view param);

}  // namespace mini_vmm
