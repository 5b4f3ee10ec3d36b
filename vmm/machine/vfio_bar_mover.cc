#include "vmm/machine/vfio_bar_mover.h"

#include "vmm/base/log.h"

namespace mini_vmm {

Result<void> VfioBarMover::Map(vfio::DeviceIo& io) {
  for (const vfio_pci::BarLayout& bar : function_->layout().bars) {
    for (const vfio::SparseArea& area : bar.mapped) {
      MmapRegion mapping =
          TRY(io.MapRegion(static_cast<uint32_t>(bar.index), area.offset, area.size));
      parts_.push_back({bar.index, area.offset, std::move(mapping), std::nullopt});
    }
  }
  return {};
}

void VfioBarMover::Place(Part& part, std::optional<uint64_t> base) noexcept {
  if (!base) {
    if (part.region) memory_map_.Remove(*part.region);
    part.region.reset();
    return;
  }
  const GuestAddress at(*base + part.offset);
  Result<void> placed;
  if (part.region) {
    placed = memory_map_.Move(*part.region, at);
  } else {
    auto id = memory_map_.Add({.start = at,
                               .size = part.mapping.size(),
                               .host = part.mapping.bytes().data(),
                               .kind = MappedRegion::Kind::kDevice,
                               .read_only = false,
                               .id = 0});
    if (id.ok()) part.region = *id;
    placed = id.ok() ? Result<void>() : Result<void>(std::move(id).error());
  }
  if (!placed.ok()) {
    // Out of the map, the part's accesses trap and are forwarded.
    if (part.region) memory_map_.Remove(*part.region);
    part.region.reset();
    LOG_WARN_RATELIMITED("{}: BAR {} + {:#x} at {:#x} is trapped, not mapped: {}", name_, part.bar,
                         part.offset, at.value(), placed.error().ToString());
  }
}

void VfioBarMover::BarMoved(int bar, std::optional<uint64_t> old_address,
                            std::optional<uint64_t> new_address) noexcept {
  const vfio_pci::BarLayout* layout = function_->layout().bar(bar);
  if (layout == nullptr) return;
  auto& trap = traps_[static_cast<size_t>(bar)];
  trap.reset();
  if (new_address) {
    devices::Bus& bus = layout->kind == pci::BarKind::kIo ? pio_bus_ : mmio_bus_;
    auto attached = bus.Attach(function_->BarDevice(bar), *new_address, layout->size);
    if (attached.ok()) {
      trap.emplace(std::move(attached).value());
    } else {
      LOG_WARN_RATELIMITED("{}: BAR {} at {:#x} (from {:#x}) not attached: {}", name_, bar,
                           *new_address, old_address.value_or(0), attached.error().ToString());
    }
  }
  for (Part& part : parts_) {
    if (part.bar == bar) Place(part, new_address);
  }
}

void VfioBarMover::UnmapAll() noexcept {
  for (Part& part : parts_) Place(part, std::nullopt);
  for (auto& trap : traps_) trap.reset();
}

size_t VfioBarMover::placed() const {
  size_t n = 0;
  for (const Part& part : parts_) n += part.region ? 1u : 0u;
  return n;
}

}  // namespace mini_vmm
