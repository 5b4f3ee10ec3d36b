#include "vmm/base/mmap_region.h"

#include <sys/mman.h>

#include <cerrno>

#include "vmm/base/log.h"

namespace mini_vmm {

Result<MmapRegion> MmapRegion::MapShared(int fd, size_t size, uint64_t offset) {
  void* addr =
      ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(offset));
  if (addr == MAP_FAILED) return Error::Errno(errno, "cannot map {} bytes", size);
  return MmapRegion(addr, size);
}

Result<MmapRegion> MmapRegion::MapSharedAligned(int fd, size_t size, uint64_t offset,
                                                size_t alignment) {
  return MapAligned(fd, size, offset, alignment, MAP_SHARED);
}

Result<MmapRegion> MmapRegion::MapAnonymousAligned(size_t size, size_t alignment) {
  return MapAligned(-1, size, 0, alignment, MAP_PRIVATE | MAP_ANONYMOUS);
}

Result<MmapRegion> MmapRegion::MapAligned(int fd, size_t size, uint64_t offset, size_t alignment,
                                          int flags) {
  VMM_CHECK(alignment != 0 && (alignment & (alignment - 1)) == 0);
  // Reserve enough address space to find an aligned start, then map over the
  // aligned part and give back the slack on both sides.
  const size_t reserve = size + alignment;
  void* base =
      ::mmap(nullptr, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED)
    return Error::Errno(errno, "cannot reserve {} bytes of address space", reserve);
  const uintptr_t start = reinterpret_cast<uintptr_t>(base);
  const uintptr_t aligned = (start + alignment - 1) & ~(uintptr_t{alignment} - 1);
  void* addr = ::mmap(reinterpret_cast<void*>(aligned), size, PROT_READ | PROT_WRITE,
                      flags | MAP_FIXED, fd, static_cast<off_t>(offset));
  if (addr == MAP_FAILED) {
    const int err = errno;
    ::munmap(base, reserve);
    return Error::Errno(err, "cannot map {} bytes", size);
  }
  if (aligned > start) ::munmap(base, aligned - start);
  const uintptr_t end = aligned + size;
  if (start + reserve > end) ::munmap(reinterpret_cast<void*>(end), start + reserve - end);
  return MmapRegion(addr, size);
}

Result<MmapRegion> MmapRegion::MapAnonymous(size_t size) {
  void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (addr == MAP_FAILED) return Error::Errno(errno, "cannot allocate {} bytes", size);
  return MmapRegion(addr, size);
}

MmapRegion& MmapRegion::operator=(MmapRegion&& other) noexcept {
  if (this != &other) {
    Unmap();
    addr_ = std::exchange(other.addr_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MmapRegion::~MmapRegion() { Unmap(); }

void MmapRegion::Unmap() noexcept {
  if (addr_ != nullptr && ::munmap(addr_, size_) != 0) {
    LOG_ERROR("cannot unmap {} bytes at {}: errno {}", size_, addr_, errno);
  }
  addr_ = nullptr;
  size_ = 0;
}

}  // namespace mini_vmm
