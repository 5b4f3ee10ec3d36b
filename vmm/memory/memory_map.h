// MemoryMap: the one table of guest-physical regions backed by host memory
// (guest RAM now; device BARs mapped into the guest later), with the host
// address of each. Whatever must mirror it follows it as a listener: KVM's
// memslots (kvm::MemslotSync), and later the vhost memory table and VFIO's
// DMA mappings. A listener added late is replayed every region first.
//
//   MemoryMap map;
//   kvm::MemslotSync slots(vm);
//   TRY(map.AddListener(&slots));
//   for (const GuestRegion& r : memory.regions())
//     TRY(map.Add({.start = r.start(), .size = r.size(), .host = r.host_address()}));
//   // A BAR moves: TRY(map.Move(bar_id, new_gpa));
//
// A listener that refuses a region (KVM out of slots, vhost's table full)
// makes Add fail as a whole: the listeners that took it are told to drop it
// again, so all of them always agree with the map.
//
// Threading: all methods take `mutex_`, and listeners are called under it,
// in the order the changes happen. Listeners must not call back into the
// map. Listeners must outlive the map or be removed first.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "vmm/base/result.h"
#include "vmm/memory/guest_address.h"

namespace mini_vmm {

struct MappedRegion {
  enum class Kind { kRam, kDevice };
  GuestAddress start;
  uint64_t size = 0;
  uint8_t* host = nullptr;  // Mapped for as long as the region is in the map.
  Kind kind = Kind::kRam;
  bool read_only = false;
  uint32_t id = 0;  // Given by MemoryMap::Add.

  uint64_t end() const { return start.value() + size; }
};

class MemoryMapListener {
 public:
  virtual ~MemoryMapListener() = default;
  // The map is about to contain `region`; an error vetoes it.
  virtual Result<void> RegionAdded(const MappedRegion& region) = 0;
  // `region` is gone from the map (or its addition was vetoed by another
  // listener). Must not fail.
  virtual void RegionRemoved(const MappedRegion& region) noexcept = 0;
};

class MemoryMap {
 public:
  MemoryMap() = default;
  MemoryMap(const MemoryMap&) = delete;
  MemoryMap& operator=(const MemoryMap&) = delete;

  // Adds a region (its id is ignored) and returns its id. Fails if it is
  // empty, wraps, overlaps another region, or a listener refuses it.
  Result<uint32_t> Add(MappedRegion region);
  // Removes region `id`; false if there is none.
  bool Remove(uint32_t id);
  // Moves region `id` to `start` (a reprogrammed BAR): removed, then added
  // at the new address; on failure it stays where it was.
  Result<void> Move(uint32_t id, GuestAddress start);

  // Replays every region to `listener`, then keeps it informed.
  Result<void> AddListener(MemoryMapListener* listener);
  void RemoveListener(MemoryMapListener* listener);

  std::vector<MappedRegion> regions() const;

 private:
  Result<void> CheckPlace(const MappedRegion& region, uint32_t ignore_id) const;
  Result<void> Announce(const MappedRegion& region);

  mutable std::mutex mutex_;
  std::vector<MappedRegion> regions_;           // Guarded by mutex_; by start.
  std::vector<MemoryMapListener*> listeners_;  // Guarded by mutex_.
  uint32_t next_id_ = 1;                        // Guarded by mutex_.
};

}  // namespace mini_vmm
