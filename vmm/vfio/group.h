// Group: one IOMMU group (/dev/vfio/<N>), attached to the shared
// container. Opening it fails with one sentence when another process holds
// it or when the kernel says it is not viable (a device of the group bound
// to a host driver); check the group's devices in sysfs first
// (host_check.h) to name the device at fault.
//
//   vfio::Group group = TRY(vfio::Group::Open("/dev/vfio", 12, container));
//   vfio::Device dev = TRY(vfio::Device::Open(group, bdf));
//
// Move-only; the group leaves its container when destroyed (closed).
#pragma once

#include <cstdint>
#include <string>

#include "vmm/base/result.h"
#include "vmm/base/unique_fd.h"
#include "vmm/vfio/container.h"

namespace mini_vmm::vfio {

class Group {
 public:
  // Opens <dev_dir>/<number>, checks it is viable, attaches it to
  // `container` and sets the container's IOMMU if this is its first group.
  // Error texts: "is in use by another process", "IOMMU group N is not
  // viable".
  static Result<Group> Open(const std::string& dev_dir, uint32_t number, Container& container);

  Group(Group&&) noexcept = default;
  Group& operator=(Group&&) noexcept = default;

  uint32_t number() const { return number_; }
  int fd() const { return fd_.get(); }

 private:
  Group(uint32_t number, UniqueFd fd) : number_(number), fd_(std::move(fd)) {}

  uint32_t number_;
  UniqueFd fd_;
};

}  // namespace mini_vmm::vfio
