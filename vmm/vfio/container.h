// Container: /dev/vfio/vfio with the type1v2 IOMMU, the one container all
// passed-through groups share (so guest RAM is mapped for DMA once).
//
//   vfio::Container container = TRY(vfio::Container::Open("/dev/vfio/vfio"));
//   vfio::Group group = TRY(vfio::Group::Open("/dev/vfio", 12, container, bdf));
//   // after the first group: TRY(container.SetIommu()) (Group::Open does it)
//   vfio::IommuInfo info = TRY(container.GetIommuInfo());
//   vfio::DmaMapping m = TRY(container.Map(iova, size, host));   // unmapped when dropped
//
// Move-only. The fd is shared with the DmaMappings it hands out, so it
// outlives them. Thread-safe (ioctls).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vmm/base/result.h"
#include "vmm/base/unique_fd.h"
#include "vmm/vfio/capability_chain.h"

namespace mini_vmm::vfio {

// One range of IOVA space mapped to host memory; unmapped when destroyed.
class DmaMapping {
 public:
  DmaMapping() = default;
  DmaMapping(uint64_t iova, uint64_t size, std::function<void()> release)
      : iova_(iova), size_(size), release_(std::move(release)) {}
  DmaMapping(DmaMapping&& other) noexcept
      : iova_(other.iova_), size_(other.size_), release_(std::exchange(other.release_, nullptr)) {}
  DmaMapping& operator=(DmaMapping&&) = delete;
  DmaMapping(const DmaMapping&) = delete;
  DmaMapping& operator=(const DmaMapping&) = delete;
  ~DmaMapping() {
    if (release_) release_();
  }
  uint64_t iova() const { return iova_; }
  uint64_t size() const { return size_; }

 private:
  uint64_t iova_ = 0;
  uint64_t size_ = 0;
  std::function<void()> release_;
};

// Where DMA mappings are made: the container, or a test's fake.
class DmaSpace {
 public:
  virtual ~DmaSpace() = default;
  // Maps [host, host + size) at `iova`, readable and writable by devices.
  // errno ENOMEM means the pages could not be pinned (RLIMIT_MEMLOCK).
  virtual Result<DmaMapping> Map(uint64_t iova, uint64_t size, void* host) = 0;
};

struct IommuInfo {
  uint64_t page_sizes = 0;  // Bitmap of supported IOMMU page sizes.
  // Where DMA may go; reported by Linux >= 5.4, else the whole 64-bit space.
  std::vector<IovaRange> iova_ranges;
};

// Parses a VFIO_IOMMU_GET_INFO result (the fixed struct and its caps).
Result<IommuInfo> ParseIommuInfo(std::span<const uint8_t> buffer);

class Container final : public DmaSpace {
 public:
  static Result<Container> Open(const std::string& path);

  Container(Container&&) noexcept = default;
  Container& operator=(Container&&) noexcept = default;

  int fd() const { return fd_->get(); }
  // VFIO_SET_IOMMU type1v2, once, after the first group joined.
  Result<void> SetIommu();
  bool iommu_set() const { return iommu_set_; }
  Result<IommuInfo> GetIommuInfo() const;
  Result<DmaMapping> Map(uint64_t iova, uint64_t size, void* host) override;

 private:
  explicit Container(UniqueFd fd) : fd_(std::make_shared<UniqueFd>(std::move(fd))) {}

  std::shared_ptr<UniqueFd> fd_;
  bool iommu_set_ = false;
};

}  // namespace mini_vmm::vfio
