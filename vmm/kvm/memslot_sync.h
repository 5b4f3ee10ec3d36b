// MemslotSync: keeps KVM's memory slots equal to the MemoryMap, one slot
// per region (MemoryMapListener). A BAR that moves becomes a slot removed
// and a slot added.
//
//   kvm::MemslotSync slots(vm);
//   TRY(memory_map.AddListener(&slots));
//
// Declare it after the host mappings it points into: KVM must forget a
// slot before its memory is unmapped. Threading: called by MemoryMap,
// under the map's lock.
#pragma once

#include <cstdint>
#include <map>

#include "vmm/kvm/vm_interfaces.h"
#include "vmm/memory/memory_map.h"

namespace mini_vmm::kvm {

class MemslotSync final : public MemoryMapListener {
 public:
  explicit MemslotSync(MemslotTable& vm) : vm_(vm) {}

  Result<void> RegionAdded(const MappedRegion& region) override;
  void RegionRemoved(const MappedRegion& region) noexcept override;

  size_t slots() const { return slots_.size(); }

 private:
  MemslotTable& vm_;
  std::map<uint32_t, Memslot> slots_;  // By MappedRegion::id.
};

}  // namespace mini_vmm::kvm
