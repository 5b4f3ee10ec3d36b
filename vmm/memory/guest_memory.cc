#include "vmm/memory/guest_memory.h"

#include <fcntl.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "vmm/base/log.h"
#include "vmm/memory/smaps.h"

namespace mini_vmm {
namespace {

constexpr uint64_t kPageSize = 4096;

Result<void> ValidateLayout(std::span<const GuestRegionSpec> layout, uint64_t granule) {
  if (layout.empty()) return Error::Invalid("guest memory layout has no regions");
  uint64_t prev_end = 0;
  for (size_t i = 0; i < layout.size(); ++i) {
    const GuestRegionSpec& r = layout[i];
    if (r.size == 0 || r.size % granule != 0 || r.start.value() % granule != 0) {
      return Error::Invalid("guest memory region {:#x}+{:#x} is empty or not {} KiB-aligned",
                            r.start.value(), r.size, granule >> 10);
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

// Advice that holds for every backing: never copy guest RAM into a child
// (a fork would otherwise copy-on-write gigabytes, and DMA-pinned pages must
// stay where they are), and huge pages unless the user asked for none.
void Advise(const MmapRegion& mapping, const GuestMemory::Options& options) {
  if (::madvise(mapping.data(), mapping.size(), MADV_DONTFORK) != 0) {
    LOG_DEBUG("MADV_DONTFORK on guest RAM failed (errno {})", errno);
  }
  if (options.backing == GuestMemory::Backing::kHugetlb) return;
  // Only advice: private memory gets huge pages when THP `enabled` is
  // always or madvise, shared memory when `shmem_enabled` allows it.
  const int advice = options.hugepages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE;
  if (::madvise(mapping.data(), mapping.size(), advice) != 0) {
    LOG_DEBUG("transparent huge page advice for guest RAM failed (errno {})", errno);
  }
}

// Private RAM gets huge pages only when THP `enabled` is not "never"; say so
// where it matters, since the guest then runs noticeably slower.
void ReportHostThpMode() {
  FILE* setting = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
  if (setting == nullptr) return;
  char line[128] = {};
  const bool read = std::fgets(line, sizeof(line), setting) != nullptr;
  std::fclose(setting);
  if (read && std::strstr(line, "[never]") != nullptr) {
    LOG_INFO(
        "transparent huge pages are disabled on this host: guest RAM uses 4 KiB pages "
        "(--memory SIZE,hugetlb=on uses the hugetlbfs pool instead)");
  }
}

Result<std::vector<GuestRegion>> MapPrivate(std::span<const GuestRegionSpec> layout,
                                            const GuestMemory::Options& options) {
  if (options.hugepages) ReportHostThpMode();
  std::vector<GuestRegion> regions;
  regions.reserve(layout.size());
  const size_t alignment = options.hugepages ? GuestMemory::kHugePageSize : kPageSize;
  for (const GuestRegionSpec& r : layout) {
    auto mapping = MmapRegion::MapAnonymousAligned(r.size, alignment);
    if (!mapping.ok()) {
      return Error::Errno(mapping.error().errno_value(), "cannot allocate {} MiB of guest RAM",
                          r.size >> 20);
    }
    Advise(*mapping, options);
    regions.emplace_back(r.start, std::move(mapping).value(), -1, 0);
  }
  return regions;
}

// A file-size limit applies to memfds too, and sizing past it raises SIGXFSZ:
// say which limit is in the way before touching it.
Result<void> CheckFileSizeLimit(uint64_t total) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_FSIZE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY ||
      total <= limit.rlim_cur) {
    return {};
  }
  return Error::Invalid(
      "shared guest RAM of {} MiB is a file larger than this process's file-size limit "
      "(ulimit -f {} KiB); raise it to at least {} KiB or drop shared=on",
      total >> 20, limit.rlim_cur >> 10, total >> 10);
}

uint64_t FreeHugePages() {
  FILE* meminfo = std::fopen("/proc/meminfo", "re");
  if (meminfo == nullptr) return 0;
  unsigned long long free_pages = 0;
  char line[128];
  while (std::fgets(line, sizeof(line), meminfo) != nullptr) {
    if (std::sscanf(line, "HugePages_Free: %llu", &free_pages) == 1) break;
  }
  std::fclose(meminfo);
  return free_pages;
}

Result<UniqueFd> CreateSharedFile(uint64_t total, GuestMemory::Backing backing) {
  const bool hugetlb = backing == GuestMemory::Backing::kHugetlb;
  const unsigned flags =
      MFD_CLOEXEC | MFD_ALLOW_SEALING | (hugetlb ? MFD_HUGETLB | MFD_HUGE_2MB : 0u);
  UniqueFd memfd(::memfd_create("mini-vmm-guest-ram", flags));
  if (!memfd.valid() && hugetlb) {
    return Error::Errno(errno, "this host cannot back guest RAM with 2 MiB hugetlbfs pages");
  }
  if (!memfd.valid()) return Error::Errno(errno, "cannot create the guest RAM memfd");
  TRY(CheckFileSizeLimit(total));
  if (::ftruncate(memfd.get(), static_cast<off_t>(total)) != 0) {
    return Error::Errno(errno, "cannot size guest RAM to {} MiB", total >> 20);
  }
  // The size is final: a backend holding the fd must not be able to shrink
  // it under the guest's feet (which would turn guest accesses into SIGBUS).
  if (::fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return Error::Errno(errno, "cannot seal the guest RAM memfd");
  }
  return memfd;
}

Result<MmapRegion> MapSharedRegion(int fd, const GuestRegionSpec& r, uint64_t fd_offset,
                                   const GuestMemory::Options& options) {
  if (options.backing == GuestMemory::Backing::kHugetlb) {
    // A shared hugetlbfs mapping reserves its pages at mmap time, so a short
    // pool fails here, with a reason, instead of as SIGBUS inside the guest.
    auto mapping = MmapRegion::MapShared(fd, r.size, fd_offset);
    if (!mapping.ok() && mapping.error().errno_value() == ENOMEM) {
      return Error::Invalid(
          "cannot reserve {} huge pages of 2 MiB for guest RAM: the host has {} free "
          "(raise vm.nr_hugepages)",
          r.size / GuestMemory::kHugePageSize, FreeHugePages());
    }
    return mapping;
  }
  if (options.hugepages && fd_offset % GuestMemory::kHugePageSize == 0) {
    return MmapRegion::MapSharedAligned(fd, r.size, fd_offset, GuestMemory::kHugePageSize);
  }
  return MmapRegion::MapShared(fd, r.size, fd_offset);
}

// The whole of a /proc file (whose size stat() does not tell).
Result<std::string> ReadProcFile(const char* path) {
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::Errno(errno, "cannot open {}", path);
  std::string text;
  char chunk[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::Errno(errno, "cannot read {}", path);
    if (n == 0) return text;
    text.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace

Result<GuestMemory> GuestMemory::Create(std::span<const GuestRegionSpec> layout, Options options) {
  TRY(ValidateLayout(layout, options.backing == Backing::kHugetlb ? kHugePageSize : kPageSize));
  uint64_t total = 0;
  for (const GuestRegionSpec& r : layout) {
    if (__builtin_add_overflow(total, r.size, &total)) {
      return Error::Invalid("guest memory size overflows");
    }
  }
  if (options.backing == Backing::kPrivate) {
    return GuestMemory(UniqueFd(), TRY(MapPrivate(layout, options)), total);
  }

  UniqueFd memfd = TRY(CreateSharedFile(total, options.backing));
  std::vector<GuestRegion> regions;
  regions.reserve(layout.size());
  uint64_t fd_offset = 0;
  for (const GuestRegionSpec& r : layout) {
    MmapRegion mapping = TRY(MapSharedRegion(memfd.get(), r, fd_offset, options));
    Advise(mapping, options);
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

Result<GuestMemory::Residency> GuestMemory::MeasureResidency() const {
  std::vector<HostRange> ranges;
  for (const GuestRegion& r : regions_) {
    const auto start = reinterpret_cast<uintptr_t>(r.host_address());
    ranges.push_back({start, start + r.size()});
  }
  const std::string smaps = TRY(ReadProcFile("/proc/self/smaps"));
  const SmapsTotals totals = SumSmaps(smaps, ranges);
  return Residency{.resident_bytes = totals.resident_bytes, .huge_bytes = totals.huge_bytes};
}

}  // namespace mini_vmm
