#include "vmm/memory/memory_map.h"

#include <algorithm>

namespace mini_vmm {

Result<void> MemoryMap::CheckPlace(const MappedRegion& region, uint32_t ignore_id) const {
  if (region.size == 0 || region.host == nullptr || !region.start.CheckedAdd(region.size)) {
    return Error::Invalid("memory region {:#x}+{:#x} is empty, unmapped or wraps",
                          region.start.value(), region.size);
  }
  for (const MappedRegion& other : regions_) {
    if (other.id == ignore_id) continue;
    if (region.start.value() < other.end() && other.start.value() < region.end()) {
      return Error::Invalid("memory region {:#x}+{:#x} overlaps {:#x}+{:#x}",
                            region.start.value(), region.size, other.start.value(), other.size);
    }
  }
  return {};
}

// Tells every listener; if one refuses, those before it drop it again.
Result<void> MemoryMap::Announce(const MappedRegion& region) {
  for (size_t i = 0; i < listeners_.size(); ++i) {
    if (auto added = listeners_[i]->RegionAdded(region); !added.ok()) {
      while (i-- > 0) listeners_[i]->RegionRemoved(region);
      return added;
    }
  }
  return {};
}

Result<uint32_t> MemoryMap::Add(MappedRegion region) {
  std::lock_guard lock(mutex_);
  TRY(CheckPlace(region, 0));
  region.id = next_id_;
  TRY(Announce(region));
  ++next_id_;
  auto at = std::lower_bound(
      regions_.begin(), regions_.end(), region.start,
      [](const MappedRegion& r, GuestAddress start) { return r.start < start; });
  regions_.insert(at, region);
  return region.id;
}

bool MemoryMap::Remove(uint32_t id) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(regions_.begin(), regions_.end(),
                         [id](const MappedRegion& r) { return r.id == id; });
  if (it == regions_.end()) return false;
  const MappedRegion gone = *it;
  regions_.erase(it);
  for (auto l = listeners_.rbegin(); l != listeners_.rend(); ++l) (*l)->RegionRemoved(gone);
  return true;
}

Result<void> MemoryMap::Move(uint32_t id, GuestAddress start) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(regions_.begin(), regions_.end(),
                         [id](const MappedRegion& r) { return r.id == id; });
  if (it == regions_.end()) return Error::Invalid("no memory region {} to move", id);
  MappedRegion moved = *it;
  moved.start = start;
  TRY(CheckPlace(moved, id));
  const MappedRegion old = *it;
  for (auto l = listeners_.rbegin(); l != listeners_.rend(); ++l) (*l)->RegionRemoved(old);
  if (auto added = Announce(moved); !added.ok()) {
    // Put it back where it was; the listeners held it there a moment ago.
    if (!Announce(old).ok()) regions_.erase(it);
    return added;
  }
  regions_.erase(it);
  auto at = std::lower_bound(
      regions_.begin(), regions_.end(), moved.start,
      [](const MappedRegion& r, GuestAddress s) { return r.start < s; });
  regions_.insert(at, moved);
  return {};
}

Result<void> MemoryMap::AddListener(MemoryMapListener* listener) {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < regions_.size(); ++i) {
    if (auto added = listener->RegionAdded(regions_[i]); !added.ok()) {
      while (i-- > 0) listener->RegionRemoved(regions_[i]);
      return added;
    }
  }
  listeners_.push_back(listener);
  return {};
}

void MemoryMap::RemoveListener(MemoryMapListener* listener) {
  std::lock_guard lock(mutex_);
  std::erase(listeners_, listener);
}

std::vector<MappedRegion> MemoryMap::regions() const {
  std::lock_guard lock(mutex_);
  return regions_;
}

}  // namespace mini_vmm
