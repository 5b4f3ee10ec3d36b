// MmapRegion: an owned mapping, exposed only as a bounded span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "vmm/base/result.h"

namespace mini_vmm {

class MmapRegion {
 public:
  // Maps `size` bytes of `fd` at `offset` shared and read-write.
  static Result<MmapRegion> MapShared(int fd, size_t size, uint64_t offset);
  // Like MapShared, but the mapping starts on an `alignment` boundary (a power
  // of two), so transparent huge pages can back it.
  static Result<MmapRegion> MapSharedAligned(int fd, size_t size, uint64_t offset,
                                             size_t alignment);
  // Anonymous private memory (tests, scratch buffers).
  static Result<MmapRegion> MapAnonymous(size_t size);
  // Anonymous private memory starting on an `alignment` boundary (a power of
  // two): guest RAM, which transparent huge pages can back whatever the
  // host's shmem_enabled setting says.
  static Result<MmapRegion> MapAnonymousAligned(size_t size, size_t alignment);
  // Adopts an existing mapping (e.g. a kvm_run page); unmapped on destruction.
  static MmapRegion Adopt(void* addr, size_t size) { return MmapRegion(addr, size); }

  MmapRegion() = default;
  ~MmapRegion();
  MmapRegion(MmapRegion&& other) noexcept
      : addr_(std::exchange(other.addr_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  MmapRegion& operator=(MmapRegion&& other) noexcept;
  MmapRegion(const MmapRegion&) = delete;
  MmapRegion& operator=(const MmapRegion&) = delete;

  std::span<uint8_t> bytes() const { return {static_cast<uint8_t*>(addr_), size_}; }
  void* data() const { return addr_; }
  size_t size() const { return size_; }

 private:
  MmapRegion(void* addr, size_t size) : addr_(addr), size_(size) {}
  // mmap(fd, offset, `flags`) read-write at an `alignment` boundary; fd -1
  // with MAP_ANONYMOUS in `flags` for anonymous memory.
  static Result<MmapRegion> MapAligned(int fd, size_t size, uint64_t offset, size_t alignment,
                                       int flags);
  void Unmap() noexcept;

  void* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace mini_vmm
