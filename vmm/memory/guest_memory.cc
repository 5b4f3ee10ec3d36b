#include "vmm/memory/guest_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "vmm/base/log.h"

namespace mini_vmm {
namespace {

constexpr uint64_t kPageSize = 4096;
constexpr size_t kHugePageSize = 2 << 20;

Result<void> ValidateLayout(std::span<const GuestRegionSpec> layout) {
  if (layout.empty()) return Error::Invalid("guest memory layout has no regions");
  uint64_t prev_end = 0;
  for (size_t i = 0; i < layout.size(); ++i) {
    const GuestRegionSpec& r = layout[i];
    if (r.size == 0 || r.size % kPageSize != 0 || r.start.value() % kPageSize != 0) {
      return Error::Invalid("guest memory region {:#x}+{:#x} is empty or not page-aligned",
                            r.start.value(), r.size);
    }
    auto end = r.start.CheckedAdd(r.size);
    if (!end) return Error::Invalid("guest memory region at {:#x} wraps around", r.start.value());
    if (i > 0 && r.start.value() < prev_end) {
      return Error::Invalid("guest memory regions overlap or are unsorted at {:#x}",
                            r.start.value());
    }
    prev_end = end->value();
  }
  return {};
}

}  // namespace

Result<GuestMemory> GuestMemory::Create(std::span<const GuestRegionSpec> layout, Options options) {
  TRY(ValidateLayout(layout));
  uint64_t total = 0;
  for (const GuestRegionSpec& r : layout) {
    if (__builtin_add_overflow(total, r.size, &total)) {
      return Error::Invalid("guest memory size overflows");
    }
  }

  UniqueFd memfd(::memfd_create("mini-vmm-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd.valid()) return Error::Errno(errno, "cannot create the guest RAM memfd");
  if (::ftruncate(memfd.get(), static_cast<off_t>(total)) != 0) {
    return Error::Errno(errno, "cannot size guest RAM to {} MiB", total >> 20);
  }
  // The size is final: a backend holding the fd must not be able to shrink
  // it under the guest's feet (which would turn guest accesses into SIGBUS).
  if (::fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return Error::Errno(errno, "cannot seal the guest RAM memfd");
  }

  std::vector<GuestRegion> regions;
  regions.reserve(layout.size());
  uint64_t fd_offset = 0;
  for (const GuestRegionSpec& r : layout) {
    MmapRegion mapping;
    if (options.hugepages && fd_offset % kHugePageSize == 0) {
      mapping = TRY(MmapRegion::MapSharedAligned(memfd.get(), r.size, fd_offset, kHugePageSize));
      // Only advice: shmem THP depends on the host's shmem_enabled setting.
      if (::madvise(mapping.data(), mapping.size(), MADV_HUGEPAGE) != 0) {
        LOG_DEBUG("transparent huge pages unavailable for guest RAM (errno {})", errno);
      }
    } else {
      mapping = TRY(MmapRegion::MapShared(memfd.get(), r.size, fd_offset));
    }
    regions.emplace_back(r.start, std::move(mapping), memfd.get(), fd_offset);
    fd_offset += r.size;
  }
  return GuestMemory(std::move(memfd), std::move(regions), total);
}

GuestMemory::GuestMemory(GuestMemory&& other) noexcept
    : memfd_(std::move(other.memfd_)),
      regions_(std::move(other.regions_)),
      total_size_(other.total_size_),
      last_hit_(0) {}

const GuestRegion* GuestMemory::FindRegion(GuestAddress addr) const noexcept {
  const size_t hint = last_hit_.load(std::memory_order_relaxed);
  if (hint < regions_.size() && regions_[hint].Contains(addr)) return &regions_[hint];
  for (size_t i = 0; i < regions_.size(); ++i) {
    if (regions_[i].Contains(addr)) {
      last_hit_.store(i, std::memory_order_relaxed);
      return &regions_[i];
    }
  }
  return nullptr;
}

std::optional<std::span<uint8_t>> GuestMemory::GetSlice(GuestAddress addr,
                                                        uint64_t len) const noexcept {
  const GuestRegion* region = FindRegion(addr);
  if (region == nullptr) return std::nullopt;
  const uint64_t offset = addr.OffsetFrom(region->start());
  // offset < size() holds (Contains); check len against what is left so the
  // sum can never overflow.
  if (len > region->size() - offset) return std::nullopt;
  return std::span<uint8_t>(region->host_address() + offset, static_cast<size_t>(len));
}

bool GuestMemory::Read(GuestAddress addr, std::span<uint8_t> out) const noexcept {
  auto slice = GetSlice(addr, out.size());
  if (!slice) return false;
  // memcpy with a null pointer is undefined even for 0 bytes.
  if (!out.empty()) std::memcpy(out.data(), slice->data(), out.size());
  return true;
}

bool GuestMemory::Write(GuestAddress addr, std::span<const uint8_t> in) const noexcept {
  auto slice = GetSlice(addr, in.size());
  if (!slice) return false;
  if (!in.empty()) std::memcpy(slice->data(), in.data(), in.size());
  return true;
}

}  // namespace mini_vmm
