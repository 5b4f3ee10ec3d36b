#include "vmm/vfio/device.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace mini_vmm::vfio {

Result<RegionInfo> ParseRegionInfo(std::span<const uint8_t> buffer) {
  vfio_region_info info{};
  if (buffer.size() < sizeof(info)) {
    return Error::Invalid("VFIO region info of {} bytes is truncated", buffer.size());
  }
  std::memcpy(&info, buffer.data(), sizeof(info));
  RegionInfo region;
  region.index = info.index;
  region.flags = info.flags;
  region.size = info.size;
  region.offset = info.offset;
  if (info.size != 0 && info.offset + info.size < info.offset) {
    return Error::Invalid("VFIO region {} wraps the device fd", info.index);
  }
  std::optional<Capability> sparse;
  if ((info.flags & VFIO_REGION_INFO_FLAG_CAPS) != 0) {
    const auto caps = TRY(WalkCapabilities(buffer, info.cap_offset, sizeof(info)));
    region.msix_mappable = FindCapability(caps, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE).has_value();
    sparse = FindCapability(caps, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
  }
  if ((info.flags & VFIO_REGION_INFO_FLAG_MMAP) != 0 && info.size != 0) {
    if (sparse) {
      region.mmap_areas = TRY(ParseSparseMmap(buffer, *sparse, info.size));
    } else {
      region.mmap_areas = {SparseArea{.offset = 0, .size = info.size}};
    }
  }
  return region;
}

Result<Device> Device::Open(const Group& group, const HostPciAddress& address) {
  const std::string name = address.ToString();
  const int fd = ::ioctl(group.fd(), VFIO_GROUP_GET_DEVICE_FD, name.c_str());
  if (fd < 0) {
    if (errno == EBUSY) return Error::Invalid("{} is in use by another process", name);
    return Error::Errno(errno, "cannot get the VFIO device fd of {}", name);
  }
  Device device(name, UniqueFd(fd));
  TRY(device.LoadInfo());
  return device;
}

Result<void> Device::LoadInfo() {
  vfio_device_info info{};
  info.argsz = sizeof(info);
  if (::ioctl(fd_.get(), VFIO_DEVICE_GET_INFO, &info) != 0) {
    return Error::Errno(errno, "VFIO_DEVICE_GET_INFO of {} failed", name_);
  }
  if ((info.flags & VFIO_DEVICE_FLAGS_PCI) == 0) {
    return Error::Invalid("{} is not a vfio-pci device", name_);
  }
  flags_ = info.flags;
  const uint32_t num_regions = std::min<uint32_t>(info.num_regions, VFIO_PCI_NUM_REGIONS);
  for (uint32_t i = 0; i < num_regions; ++i) regions_[i] = TRY(QueryRegion(i));
  const uint32_t num_irqs = std::min<uint32_t>(info.num_irqs, VFIO_PCI_NUM_IRQS);
  for (uint32_t i = 0; i < num_irqs; ++i) {
    vfio_irq_info irq{};
    irq.argsz = sizeof(irq);
    irq.index = i;
    if (::ioctl(fd_.get(), VFIO_DEVICE_GET_IRQ_INFO, &irq) != 0) {
      if (errno == EINVAL) continue;  // An index the function does not have.
      return Error::Errno(errno, "VFIO_DEVICE_GET_IRQ_INFO {} of {} failed", i, name_);
    }
    irqs_[i] = {.index = i, .flags = irq.flags, .count = irq.count};
  }
  return {};
}

Result<RegionInfo> Device::QueryRegion(uint32_t index) const {
  std::vector<uint8_t> buffer(sizeof(vfio_region_info));
  for (int attempt = 0; attempt < 2; ++attempt) {
    vfio_region_info info{};
    info.argsz = static_cast<uint32_t>(buffer.size());
    info.index = index;
    std::memcpy(buffer.data(), &info, sizeof(info));
    if (::ioctl(fd_.get(), VFIO_DEVICE_GET_REGION_INFO, buffer.data()) != 0) {
      // Optional regions (VGA, ROM) a function does not have.
      if (errno == EINVAL) {
        RegionInfo absent;
        absent.index = index;
        return absent;
      }
      return Error::Errno(errno, "VFIO_DEVICE_GET_REGION_INFO {} of {} failed", index, name_);
    }
    std::memcpy(&info, buffer.data(), sizeof(info));
    if (info.argsz <= buffer.size()) break;
    if (info.argsz > kMaxInfoSize) {
      return Error::Invalid("VFIO region {} of {} wants {} bytes of info", index, name_,
                            info.argsz);
    }
    buffer.resize(info.argsz);  // Room for the capabilities; ask again.
  }
  auto region = ParseRegionInfo(buffer);
  if (!region.ok()) return Error::Invalid("{}: {}", name_, region.error().ToString());
  return region;
}

const RegionInfo* Device::region(uint32_t index) const {
  if (index >= regions_.size() || regions_[index].size == 0) return nullptr;
  return &regions_[index];
}

IrqInfo Device::irq(uint32_t index) const {
  if (index >= irqs_.size()) return IrqInfo{.index = index};
  return irqs_[index];
}

Result<uint64_t> Device::FileOffset(uint32_t index, uint64_t offset, uint64_t size) const {
  const RegionInfo* r = region(index);
  if (r == nullptr || offset > r->size || size > r->size - offset) {
    return Error::Invalid("{}: [{:#x}, +{:#x}) is outside region {}", name_, offset, size, index);
  }
  return r->offset + offset;
}

Result<void> Device::ReadRegion(uint32_t index, uint64_t offset, std::span<uint8_t> data) {
  const uint64_t at = TRY(FileOffset(index, offset, data.size()));
  const ssize_t n = ::pread(fd_.get(), data.data(), data.size(), static_cast<off_t>(at));
  if (n != static_cast<ssize_t>(data.size())) {
    return Error::Errno(n < 0 ? errno : EIO, "{}: read of region {} at {:#x} failed", name_, index,
                        offset);
  }
  return {};
}

Result<void> Device::WriteRegion(uint32_t index, uint64_t offset, std::span<const uint8_t> data) {
  const uint64_t at = TRY(FileOffset(index, offset, data.size()));
  const ssize_t n = ::pwrite(fd_.get(), data.data(), data.size(), static_cast<off_t>(at));
  if (n != static_cast<ssize_t>(data.size())) {
    return Error::Errno(n < 0 ? errno : EIO, "{}: write of region {} at {:#x} failed", name_, index,
                        offset);
  }
  return {};
}

Result<MmapRegion> Device::MapRegion(uint32_t index, uint64_t offset, uint64_t size) {
  const uint64_t at = TRY(FileOffset(index, offset, size));
  return MmapRegion::MapShared(fd_.get(), size, at);
}

Result<IrqsSet> InterpretSetIrqs(int rc, int saved_errno, std::string_view what) {
  if (rc < 0) return Error::Errno(saved_errno, "{} failed", what);
  // Positive: vfio_msi_enable() could allocate only `rc` vectors, and its
  // errno is whatever an earlier call left; it is no error code.
  return IrqsSet{.only_available = static_cast<uint32_t>(rc)};
}

Result<IrqsSet> Device::SetIrqs(uint32_t index, uint32_t flags, uint32_t start,
                                std::span<const int> fds) {
  std::vector<uint8_t> buffer(sizeof(vfio_irq_set) + fds.size_bytes());
  vfio_irq_set set{};
  set.argsz = static_cast<uint32_t>(buffer.size());
  set.flags = flags;
  set.index = index;
  set.start = start;
  set.count = static_cast<uint32_t>(fds.size());
  std::memcpy(buffer.data(), &set, sizeof(set));
  if (!fds.empty()) std::memcpy(buffer.data() + sizeof(set), fds.data(), fds.size_bytes());
  const int rc = ::ioctl(fd_.get(), VFIO_DEVICE_SET_IRQS, buffer.data());
  // The message is built only for a failure: a guest's mask and unmask
  // writes come through here one ioctl each.
  if (rc >= 0) return InterpretSetIrqs(rc, 0, {});
  const int saved_errno = errno;
  return InterpretSetIrqs(
      rc, saved_errno,
      Format("{}: VFIO_DEVICE_SET_IRQS on index {} ({} from {})", name_, index, fds.size(), start));
}

Result<void> Device::SetIrqsNoAlloc(uint32_t index, uint32_t flags, std::span<const int> fds) {
  const IrqsSet set = TRY(SetIrqs(index, flags, 0, fds));
  if (set.only_available != 0) {
    return Error::Invalid("{}: VFIO_DEVICE_SET_IRQS on index {} returned {}", name_, index,
                          set.only_available);
  }
  return {};
}

Result<IrqsSet> Device::SetIrqTriggers(uint32_t index, uint32_t start, std::span<const int> fds) {
  return SetIrqs(index, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, start, fds);
}

Result<void> Device::SetIrqUnmask(uint32_t index, int fd) {
  const int fds[] = {fd};
  return SetIrqsNoAlloc(index, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK, fds);
}

Result<void> Device::DisableIrqs(uint32_t index) {
  return SetIrqsNoAlloc(index, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, {});
}

Result<void> Device::Reset() {
  if (!reset_supported()) return {};
  if (::ioctl(fd_.get(), VFIO_DEVICE_RESET) != 0) {
    return Error::Errno(errno, "VFIO_DEVICE_RESET of {} failed", name_);
  }
  return {};
}

}  // namespace mini_vmm::vfio
