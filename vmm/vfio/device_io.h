// DeviceIo: what a passed-through PCI function needs from its VFIO device
// (linux/vfio.h): its regions (BARs, ROM, config space), its interrupts,
// reset. vfio::Device implements it on the kernel's device fd; tests use
// the fake in tests/support/fake_vfio.h.
//
//   const RegionInfo* bar0 = io.region(VFIO_PCI_BAR0_REGION_INDEX);
//   TRY(io.ReadRegion(VFIO_PCI_CONFIG_REGION_INDEX, PCI_VENDOR_ID, bytes));
//   MmapRegion mapped = TRY(io.MapRegion(VFIO_PCI_BAR0_REGION_INDEX, 0, 0x1000));
//   IrqsSet set = TRY(io.SetIrqTriggers(VFIO_PCI_MSIX_IRQ_INDEX, 0, fds));
//   if (set.only_available != 0) { /* retry with fewer vectors */ }
//
// Threading: implementations are thread-safe (the kernel's ioctls and
// pread/pwrite are; the fake takes a lock).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "vmm/base/mmap_region.h"
#include "vmm/base/result.h"
#include "vmm/vfio/capability_chain.h"

namespace mini_vmm::vfio {

struct RegionInfo {
  uint32_t index = 0;
  uint32_t flags = 0;  // VFIO_REGION_INFO_FLAG_*.
  uint64_t size = 0;
  uint64_t offset = 0;  // Of the region in the device fd.
  // Where the region may be mmapped: the whole region when it is
  // mmappable without a sparse-mmap capability, the sparse areas when it
  // has one, nothing otherwise.
  std::vector<SparseArea> mmap_areas;
  // VFIO_REGION_INFO_CAP_MSIX_MAPPABLE: the kernel would let the MSI-X
  // table be mapped. mini-vmm traps it anyway.
  bool msix_mappable = false;
};

struct IrqInfo {
  uint32_t index = 0;
  uint32_t flags = 0;  // VFIO_IRQ_INFO_*.
  uint32_t count = 0;
};

// What a SET_IRQS with eventfds did when the ioctl itself did not fail.
struct [[nodiscard]] IrqsSet {
  // 0: every vector asked for was set. Otherwise the call would have
  // enabled an MSI or MSI-X index, but the host could allocate only this
  // many vectors: Linux's vfio_msi_enable() frees the short allocation of
  // pci_alloc_irq_vectors() and returns its count as SET_IRQS's positive
  // result. Nothing was enabled; a call with at most this many vectors
  // (for MSI, a power of two) may succeed.
  uint32_t only_available = 0;
};

class DeviceIo {
 public:
  virtual ~DeviceIo() = default;
  virtual std::string_view name() const = 0;
  // The region with `index`, or nullptr if the device has none (size 0).
  virtual const RegionInfo* region(uint32_t index) const = 0;
  // The interrupt index `index`; count 0 if the device has none.
  virtual IrqInfo irq(uint32_t index) const = 0;

  // Reads or writes all of `data` at `offset` in the region (pread/pwrite).
  virtual Result<void> ReadRegion(uint32_t index, uint64_t offset, std::span<uint8_t> data) = 0;
  virtual Result<void> WriteRegion(uint32_t index, uint64_t offset,
                                   std::span<const uint8_t> data) = 0;
  // Maps [offset, offset + size) of the region (inside one of its
  // mmap_areas, page-aligned) shared and read-write.
  virtual Result<MmapRegion> MapRegion(uint32_t index, uint64_t offset, uint64_t size) = 0;

  // VFIO_DEVICE_SET_IRQS, ACTION_TRIGGER with eventfds: vectors
  // [start, start + fds.size()) of `index` signal those fds (-1: none).
  // The first call on an index enables it with that many vectors, or sets
  // nothing if the host cannot allocate them all (see IrqsSet).
  virtual Result<IrqsSet> SetIrqTriggers(uint32_t index, uint32_t start,
                                         std::span<const int> fds) = 0;
  // ACTION_UNMASK with an eventfd: signalling `fd` unmasks vector 0 of
  // `index` (INTx after the guest's EOI).
  virtual Result<void> SetIrqUnmask(uint32_t index, int fd) = 0;
  // ACTION_TRIGGER, DATA_NONE, count 0: disables the index.
  virtual Result<void> DisableIrqs(uint32_t index) = 0;
  // VFIO_DEVICE_RESET.
  virtual Result<void> Reset() = 0;
};

}  // namespace mini_vmm::vfio
