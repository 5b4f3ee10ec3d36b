// VhostMemoryTable: the guest-physical → host-virtual table that the
// kernel's vhost devices translate ring and buffer addresses with
// (VHOST_SET_MEM_TABLE), kept equal to the RAM of the MemoryMap.
//
//   VhostMemoryTable table;                 // limit: VhostMaxMemRegions()
//   TRY(memory_map.AddListener(&table));    // replays guest RAM
//   TRY(table.Attach(vhost_backend));       // pushes the table now ...
//   ...                                     // ... and on every RAM change
//   table.Detach(vhost_backend);            // before the backend goes
//
// Only RAM the guest may put rings and buffers in is listed: writable
// MappedRegion::Kind::kRam. Device regions (BARs) never are: a guest that
// points a ring into one is refused before vhost sees it (vring.h), and
// vhost faults (VHOST_SET_VRING_ERR) if a buffer does.
//
// The kernel caps the table (vhost's max_mem_regions, 64 by default); a
// region beyond the cap is refused with one error, and MemoryMap then
// rolls the addition back everywhere. An attached backend that refuses a
// new table gets the previous one again, so all attached backends always
// hold the same table.
//
// VFIO: regions() is the same list in the form VFIO_IOMMU_MAP_DMA wants
// (iova = guest_phys_addr, vaddr = userspace_addr, size). A VFIO container
// should follow the MemoryMap through a listener built on this class (or
// share its region filter) rather than keep a second notion of "guest RAM".
//
// Threading: RegionAdded/RegionRemoved come from MemoryMap under its lock;
// Attach/Detach from device activation and reset. `mutex_` guards the table
// and the backends; lock order: the map's mutex, then this one. Backends
// are called under `mutex_`.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "devices/virtio/vhost/vhost_backend.h"
#include "vmm/memory/memory_map.h"

namespace mini_vmm::virtio::vhost {

class VhostMemoryTable final : public MemoryMapListener {
 public:
  explicit VhostMemoryTable(uint32_t max_regions);
  ~VhostMemoryTable() override;
  VhostMemoryTable(const VhostMemoryTable&) = delete;
  VhostMemoryTable& operator=(const VhostMemoryTable&) = delete;

  Result<void> RegionAdded(const MappedRegion& region) override;
  void RegionRemoved(const MappedRegion& region) noexcept override;

  // Sends the table to `backend` (which must have its owner set) and keeps
  // sending it after every change, until Detach. `backend` must outlive
  // its attachment.
  Result<void> Attach(VhostBackend* backend);
  void Detach(VhostBackend* backend) noexcept;

  // The table, by guest address.
  std::vector<VhostMemoryRegion> regions() const;
  uint32_t max_regions() const { return max_regions_; }

 private:
  struct Entry {
    uint32_t id;  // MappedRegion::id
    VhostMemoryRegion region;
  };

  std::vector<VhostMemoryRegion> TableLocked() const;
  // Sends `next` to every backend; on a refusal, restores `previous` on
  // those that took `next` and returns the refusal.
  Result<void> PushLocked(const std::vector<VhostMemoryRegion>& next,
                          const std::vector<VhostMemoryRegion>& previous);
  // Sends a table without a removed range to every backend.
  Result<void> ShrinkLocked(const std::vector<VhostMemoryRegion>& next);

  const uint32_t max_regions_;
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;           // Guarded by mutex_; by guest address.
  std::vector<VhostBackend*> backends_;  // Guarded by mutex_.
};

}  // namespace mini_vmm::virtio::vhost
