// PlatformResources: the resources of an x86_64 mini-vmm machine that are
// handed out at run time, with the platform's fixed ones already taken
// (platform/layout.h declares them once). Devices get their windows, GSIs
// and PCI BAR windows here, never by index arithmetic (PCI device numbers
// come from the root bus, devices/pci/root_bus.h).
//
//   PlatformResources r = CreatePlatformResources(ram_bytes);
//   uint64_t base = TRY(r.mmio_devices.Allocate(0x1000, 0x1000, "virtio-blk0"));
//   uint32_t gsi = static_cast<uint32_t>(TRY(r.gsis.Allocate(1, 1, "virtio-blk0")));
//   uint64_t bar = TRY(r.pci_mmio64.Allocate(size, size, "virtio-net0 BAR 0"));
//
// Not thread-safe: used while the machine is built.
#pragma once

#include <cstdint>

#include "vmm/memory/address_allocator.h"

namespace mini_vmm::arch::x86_64 {

struct PlatformResources {
  AddressAllocator mmio_devices;  // Platform MMIO device windows (virtio-mmio).
  AddressAllocator gsis;          // IOAPIC pins; legacy ISA IRQs and PCI INTx reserved.
  AddressAllocator pci_mmio32;    // 32-bit PCI memory BARs, in the MMIO hole.
  AddressAllocator pci_mmio64;    // 64-bit PCI memory BARs, above the end of RAM.
  AddressAllocator pci_io;        // PCI I/O BARs: ports.
};

// The 64-bit PCI window for a guest with `ram_bytes` of RAM: the first
// kPciMmio64Alignment boundary at or above both 4 GiB and the end of RAM.
uint64_t PciMmio64Base(uint64_t ram_bytes);

PlatformResources CreatePlatformResources(uint64_t ram_bytes);

}  // namespace mini_vmm::arch::x86_64
