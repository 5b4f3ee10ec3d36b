#include "vmm/vfio/container.h"

#include <fcntl.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "vmm/base/log.h"

namespace mini_vmm::vfio {

Result<IommuInfo> ParseIommuInfo(std::span<const uint8_t> buffer) {
  vfio_iommu_type1_info info{};
  if (buffer.size() < sizeof(info)) {
    return Error::Invalid("VFIO IOMMU info of {} bytes is truncated", buffer.size());
  }
  std::memcpy(&info, buffer.data(), sizeof(info));
  IommuInfo result;
  result.page_sizes = (info.flags & VFIO_IOMMU_INFO_PGSIZES) != 0 ? info.iova_pgsizes : 0;
  result.iova_ranges = {IovaRange{.start = 0, .end = ~uint64_t{0}}};
  if ((info.flags & VFIO_IOMMU_INFO_CAPS) == 0) return result;
  const auto caps = TRY(WalkCapabilities(buffer, info.cap_offset, sizeof(info)));
  if (auto cap = FindCapability(caps, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)) {
    result.iova_ranges = TRY(ParseIovaRanges(buffer, *cap));
    if (result.iova_ranges.empty()) {
      return Error::Invalid("the VFIO IOMMU reports no usable IOVA range");
    }
  }
  return result;
}

Result<Container> Container::Open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return Error::Errno(errno, "cannot open {}", path);
  const int version = ::ioctl(fd.get(), VFIO_GET_API_VERSION);
  if (version != VFIO_API_VERSION) {
    return Error::Invalid("{} speaks VFIO API version {}, not {}", path, version, VFIO_API_VERSION);
  }
  if (::ioctl(fd.get(), VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
    return Error::Invalid("{} has no type1v2 IOMMU (is vfio_iommu_type1 loaded?)", path);
  }
  return Container(std::move(fd));
}

Result<void> Container::SetIommu() {
  if (iommu_set_) return {};
  if (::ioctl(fd(), VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) != 0) {
    return Error::Errno(errno, "cannot set the VFIO container's IOMMU to type1v2");
  }
  iommu_set_ = true;
  return {};
}

Result<IommuInfo> Container::GetIommuInfo() const {
  std::vector<uint8_t> buffer(sizeof(vfio_iommu_type1_info));
  for (int attempt = 0; attempt < 2; ++attempt) {
    vfio_iommu_type1_info info{};
    info.argsz = static_cast<uint32_t>(buffer.size());
    std::memcpy(buffer.data(), &info, sizeof(info));
    if (::ioctl(fd(), VFIO_IOMMU_GET_INFO, buffer.data()) != 0) {
      return Error::Errno(errno, "VFIO_IOMMU_GET_INFO failed");
    }
    std::memcpy(&info, buffer.data(), sizeof(info));
    if (info.argsz <= buffer.size()) break;
    if (info.argsz > kMaxInfoSize) {
      return Error::Invalid("VFIO IOMMU info wants {} bytes", info.argsz);
    }
    buffer.resize(info.argsz);  // Room for the capabilities; ask again.
  }
  return ParseIommuInfo(buffer);
}

Result<DmaMapping> Container::Map(uint64_t iova, uint64_t size, void* host) {
  vfio_iommu_type1_dma_map map{};
  map.argsz = sizeof(map);
  map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
  map.vaddr = reinterpret_cast<uint64_t>(host);
  map.iova = iova;
  map.size = size;
  if (::ioctl(fd(), VFIO_IOMMU_MAP_DMA, &map) != 0) {
    return Error::Errno(errno, "VFIO_IOMMU_MAP_DMA of [{:#x}, +{:#x}) failed", iova, size);
  }
  return DmaMapping(iova, size, [fd = fd_, iova, size] {
    vfio_iommu_type1_dma_unmap unmap{};
    unmap.argsz = sizeof(unmap);
    unmap.iova = iova;
    unmap.size = size;
    if (::ioctl(fd->get(), VFIO_IOMMU_UNMAP_DMA, &unmap) != 0) {
      LOG_WARN("VFIO_IOMMU_UNMAP_DMA of [{:#x}, +{:#x}) failed: {}", iova, size,
               std::strerror(errno));
    }
  });
}

}  // namespace mini_vmm::vfio
