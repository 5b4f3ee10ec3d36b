#include "vmm/kvm/memslot_sync.h"

namespace mini_vmm::kvm {

Result<void> MemslotSync::RegionAdded(const MappedRegion& region) {
  Memslot slot = TRY(vm_.AddMemslot(region.start, region.size, region.host, region.read_only));
  slots_.emplace(region.id, std::move(slot));
  return {};
}

void MemslotSync::RegionRemoved(const MappedRegion& region) noexcept { slots_.erase(region.id); }

}  // namespace mini_vmm::kvm
