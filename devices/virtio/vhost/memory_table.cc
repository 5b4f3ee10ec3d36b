#include "devices/virtio/vhost/memory_table.h"

#include <algorithm>

#include "vmm/base/check.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::vhost {
namespace {

// RAM the driver may place rings and buffers in. Read-only RAM (a ROM
// image) is left out: vhost writes used rings and received frames.
bool Listed(const MappedRegion& region) {
  return region.kind == MappedRegion::Kind::kRam && !region.read_only;
}

}  // namespace

VhostMemoryTable::VhostMemoryTable(uint32_t max_regions) : max_regions_(max_regions) {
  VMM_CHECK(max_regions > 0);
}

VhostMemoryTable::~VhostMemoryTable() {
  // A backend still attached would keep a pointer to this table's users.
  VMM_CHECK(backends_.empty());
}

std::vector<VhostMemoryRegion> VhostMemoryTable::TableLocked() const {
  std::vector<VhostMemoryRegion> table;
  table.reserve(entries_.size());
  for (const Entry& entry : entries_) table.push_back(entry.region);
  return table;
}

std::vector<VhostMemoryRegion> VhostMemoryTable::regions() const {
  std::lock_guard lock(mutex_);
  return TableLocked();
}

Result<void> VhostMemoryTable::PushLocked(const std::vector<VhostMemoryRegion>& next,
                                          const std::vector<VhostMemoryRegion>& previous) {
  for (size_t i = 0; i < backends_.size(); ++i) {
    if (auto pushed = backends_[i]->SetMemTable(next); !pushed.ok()) {
      // A larger table was refused: those that took it go back to the one
      // they had, which still maps only memory that stays mapped.
      for (size_t j = 0; j < i; ++j) {
        if (auto restored = backends_[j]->SetMemTable(previous); !restored.ok()) {
          LOG_ERROR("vhost: cannot restore the memory table: {}", restored.error().ToString());
        }
      }
      return pushed;
    }
  }
  return {};
}

Result<void> VhostMemoryTable::ShrinkLocked(const std::vector<VhostMemoryRegion>& next) {
  // Every backend must drop the range, whatever the others did.
  Result<void> result;
  for (VhostBackend* backend : backends_) {
    if (auto pushed = backend->SetMemTable(next); !pushed.ok() && result.ok()) result = pushed;
  }
  return result;
}

Result<void> VhostMemoryTable::RegionAdded(const MappedRegion& region) {
  if (!Listed(region)) return {};
  std::lock_guard lock(mutex_);
  if (entries_.size() >= max_regions_) {
    return Error::Invalid(
        "guest RAM at {:#x} needs vhost memory region {}, but the host allows {} (vhost "
        "module parameter max_mem_regions)",
        region.start.value(), entries_.size() + 1, max_regions_);
  }
  const std::vector<VhostMemoryRegion> previous = TableLocked();
  const Entry entry{.id = region.id,
                    .region = {.guest_phys_addr = region.start.value(),
                               .size = region.size,
                               .userspace_addr = reinterpret_cast<uint64_t>(region.host)}};
  auto at =
      std::upper_bound(entries_.begin(), entries_.end(), entry, [](const Entry& a, const Entry& b) {
        return a.region.guest_phys_addr < b.region.guest_phys_addr;
      });
  at = entries_.insert(at, entry);
  if (auto pushed = PushLocked(TableLocked(), previous); !pushed.ok()) {
    entries_.erase(at);
    return pushed;
  }
  return {};
}

void VhostMemoryTable::RegionRemoved(const MappedRegion& region) noexcept {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.id == region.id; });
  if (it == entries_.end()) return;  // Not listed, or vetoed before we took it.
  entries_.erase(it);
  // A smaller table cannot exceed the kernel's limit, so only a host
  // failure (ENOMEM) gets here. The backends that refused still translate
  // through the removed range, which its owner unmaps once we return: the
  // kernel's worker could then write guest frames into whatever the host
  // maps there next. That must not happen, so it is fatal.
  const Result<void> pushed = ShrinkLocked(TableLocked());
  if (!pushed.ok()) {
    LOG_ERROR(
        "vhost: cannot remove guest RAM at {:#x} from the memory table: {}; a vhost "
        "backend would keep a region that is being unmapped",
        region.start.value(), pushed.error().ToString());
  }
  VMM_CHECK(pushed.ok());
}

Result<void> VhostMemoryTable::Attach(VhostBackend* backend) {
  std::lock_guard lock(mutex_);
  VMM_CHECK(std::find(backends_.begin(), backends_.end(), backend) == backends_.end());
  TRY(backend->SetMemTable(TableLocked()));
  backends_.push_back(backend);
  return {};
}

void VhostMemoryTable::Detach(VhostBackend* backend) noexcept {
  std::lock_guard lock(mutex_);
  std::erase(backends_, backend);
}

}  // namespace mini_vmm::virtio::vhost
