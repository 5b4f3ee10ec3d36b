#include "vmm/vfio/group.h"

#include <fcntl.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>

#include <cerrno>

namespace mini_vmm::vfio {

Result<Group> Group::Open(const std::string& dev_dir, uint32_t number, Container& container) {
  const std::string path = Format("{}/{}", dev_dir, number);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == EBUSY) {
      return Error::Invalid("IOMMU group {} ({}) is in use by another process", number, path);
    }
    return Error::Errno(errno, "cannot open IOMMU group {} ({})", number, path);
  }
  vfio_group_status status{};
  status.argsz = sizeof(status);
  if (::ioctl(fd.get(), VFIO_GROUP_GET_STATUS, &status) != 0) {
    return Error::Errno(errno, "VFIO_GROUP_GET_STATUS of IOMMU group {} failed", number);
  }
  if ((status.flags & VFIO_GROUP_FLAGS_VIABLE) == 0) {
    return Error::Invalid(
        "IOMMU group {} is not viable: every device in it must be bound to vfio-pci or unbound",
        number);
  }
  if ((status.flags & VFIO_GROUP_FLAGS_CONTAINER_SET) != 0) {
    return Error::Invalid("IOMMU group {} is in use by another process", number);
  }
  int container_fd = container.fd();
  if (::ioctl(fd.get(), VFIO_GROUP_SET_CONTAINER, &container_fd) != 0) {
    return Error::Errno(errno, "cannot add IOMMU group {} to the VFIO container", number);
  }
  TRY(container.SetIommu());
  return Group(number, std::move(fd));
}

}  // namespace mini_vmm::vfio
