// GuestMemory: guest RAM, and the only way host code touches it. Every access is bounds- and overflow-checked and never crosses
// a region, so a guest-supplied (address, length) can never reach host memory
// outside guest RAM.
//
//   GuestMemory mem = TRY(GuestMemory::Create({{GuestAddress(0), 512 << 20}}));
//   auto hdr = mem.ReadObj<virtio_blk_outhdr>(desc_addr);   // guest-controlled
//   if (!hdr) return Status::kIoErr;
//
// Regions are fixed after creation, so lookups need no lock; the last region
// hit is cached because consecutive accesses almost always land in the same
// region. The regions also give the guest-physical to host-virtual mapping
// that KVM memslots, vhost memory tables and VFIO DMA maps are built from:
// all three take host virtual addresses, so every backing below serves them.
//
// Backings (Options::backing):
//   kPrivate   private anonymous memory, 2 MiB-aligned with MADV_HUGEPAGE:
//              transparent huge pages with a stock host's settings
//              (THP enabled=always or madvise). The default; no fd.
//   kShared    one sealed memfd, for a backend in another process that maps
//              guest RAM (vhost-user style). shmem only gets huge pages when
//              the host's THP shmem_enabled allows it (stock: never).
//   kHugetlb   a hugetlbfs memfd of 2 MiB pages, reserved up front from the
//              host's pool (vm.nr_hugepages); shared like kShared.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "vmm/base/mmap_region.h"
#include "vmm/base/result.h"
#include "vmm/base/unique_fd.h"
#include "vmm/memory/guest_address.h"

namespace mini_vmm {

struct GuestRegionSpec {
  GuestAddress start;
  uint64_t size = 0;
};

class GuestRegion {
 public:
  GuestRegion(GuestAddress start, MmapRegion mapping, int fd, uint64_t fd_offset)
      : start_(start), mapping_(std::move(mapping)), fd_(fd), fd_offset_(fd_offset) {}

  GuestAddress start() const { return start_; }
  uint64_t size() const { return mapping_.size(); }
  // One past the last byte; regions never end at 2^64 (checked at creation).
  uint64_t end() const { return start_.value() + size(); }
  uint8_t* host_address() const { return static_cast<uint8_t*>(mapping_.data()); }
  // The memfd backing this region and the region's offset in it (for
  // backends in other processes, such as vhost-user); -1 for private RAM.
  int fd() const { return fd_; }
  uint64_t fd_offset() const { return fd_offset_; }

  bool Contains(GuestAddress addr) const {
    return addr >= start_ && addr.value() - start_.value() < size();
  }

 private:
  GuestAddress start_;
  MmapRegion mapping_;
  int fd_;  // Borrowed from GuestMemory::memfd_, or -1.
  uint64_t fd_offset_;
};

class GuestMemory {
 public:
  enum class Backing { kPrivate, kShared, kHugetlb };
  static constexpr uint64_t kHugePageSize = 2 << 20;

  struct Options {
    Backing backing = Backing::kPrivate;
    // Align each region's mapping to 2 MiB and ask for transparent huge
    // pages: every 4 KiB first touch is a (nested) page fault otherwise.
    // Ignored for kHugetlb, which is huge pages only.
    bool hugepages = true;
  };

  // How much of guest RAM the host has actually backed, and with what.
  struct Residency {
    uint64_t resident_bytes = 0;
    uint64_t huge_bytes = 0;  // Of those, on 2 MiB (or larger) pages.
  };

  // Maps all regions with `options.backing`; shared backings hold them back
  // to back in one memfd. Regions must be non-empty, page-aligned (2 MiB for
  // kHugetlb), sorted and non-overlapping.
  static Result<GuestMemory> Create(std::span<const GuestRegionSpec> layout, Options options);
  static Result<GuestMemory> Create(std::span<const GuestRegionSpec> layout) {
    return Create(layout, Options{});
  }

  GuestMemory(GuestMemory&& other) noexcept;
  GuestMemory& operator=(GuestMemory&&) = delete;
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;
  ~GuestMemory() = default;

  // The region containing `addr`, or nullptr.
  const GuestRegion* FindRegion(GuestAddress addr) const noexcept;

  // `len` bytes at `addr`, all inside one region; nullopt if any byte is not
  // guest RAM or `addr + len` overflows. A zero-length slice is valid inside
  // RAM.
  std::optional<std::span<uint8_t>> GetSlice(GuestAddress addr, uint64_t len) const noexcept;

  // Host pointer for [addr, addr + len), or nullptr (same rules as GetSlice).
  uint8_t* TranslateToHost(GuestAddress addr, uint64_t len) const noexcept {
    auto slice = GetSlice(addr, len);
    return slice ? slice->data() : nullptr;
  }

  [[nodiscard]] bool Read(GuestAddress addr, std::span<uint8_t> out) const noexcept;
  [[nodiscard]] bool Write(GuestAddress addr, std::span<const uint8_t> in) const noexcept;

  template <typename T>
  std::optional<T> ReadObj(GuestAddress addr) const noexcept {
    static_assert(std::is_trivially_copyable_v<T>, "guest objects are copied byte-wise");
    T value;
    if (!Read(addr, {reinterpret_cast<uint8_t*>(&value), sizeof(T)})) return std::nullopt;
    return value;
  }

  template <typename T>
  [[nodiscard]] bool WriteObj(GuestAddress addr, const T& value) const noexcept {
    static_assert(std::is_trivially_copyable_v<T>, "guest objects are copied byte-wise");
    return Write(addr, {reinterpret_cast<const uint8_t*>(&value), sizeof(T)});
  }

  std::span<const GuestRegion> regions() const { return regions_; }
  uint64_t total_size() const { return total_size_; }
  // The shared backing's memfd, or -1 for private RAM.
  int memfd() const { return memfd_.get(); }

  // Reads /proc/self/smaps: what the host backs guest RAM with right now.
  Result<Residency> MeasureResidency() const;

 private:
  GuestMemory(UniqueFd memfd, std::vector<GuestRegion> regions, uint64_t total_size)
      : memfd_(std::move(memfd)), regions_(std::move(regions)), total_size_(total_size) {}

  UniqueFd memfd_;
  std::vector<GuestRegion> regions_;
  uint64_t total_size_;
  // Index of the region that satisfied the last lookup; a hint only, so
  // relaxed ordering is enough.
  mutable std::atomic<size_t> last_hit_{0};
};

}  // namespace mini_vmm
