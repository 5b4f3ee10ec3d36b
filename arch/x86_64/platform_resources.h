// PlatformResources: the resources of an x86_64 mini-vmm machine that are
// handed out at run time, with the platform's fixed ones already taken
// (layout.h declares them once). Devices get their windows and GSIs here,
// never by index arithmetic; PCI BAR windows and MSI GSIs will join them.
//
//   PlatformResources r = CreatePlatformResources();
//   uint64_t base = TRY(r.mmio_devices.Allocate(0x1000, 0x1000, "virtio-blk0"));
//   uint32_t gsi = static_cast<uint32_t>(TRY(r.gsis.Allocate(1, 1, "virtio-blk0")));
#pragma once

#include "vmm/memory/address_allocator.h"

namespace mini_vmm::arch::x86_64 {

struct PlatformResources {
  AddressAllocator mmio_devices;  // Platform MMIO device windows (virtio-mmio).
  AddressAllocator gsis;          // IOAPIC pins, the legacy ISA IRQs reserved.
};

PlatformResources CreatePlatformResources();

}  // namespace mini_vmm::arch::x86_64
