// What sysfs says about host PCI functions and IOMMU groups, read under a
// root path ("/sys" on a real host, a temporary tree in tests):
//
//   <root>/bus/pci/devices/<bdf>/driver        -> .../drivers/<name>
//   <root>/bus/pci/devices/<bdf>/iommu_group   -> .../kernel/iommu_groups/<N>
//   <root>/kernel/iommu_groups/<N>/devices/<bdf>...
//
//   vfio::Sysfs sysfs("/sys");
//   if (!sysfs.Exists(bdf)) ...
//   std::optional<std::string> driver = sysfs.Driver(bdf);
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vmm/base/result.h"
#include "vmm/vfio/pci_address.h"

namespace mini_vmm::vfio {

class Sysfs {
 public:
  explicit Sysfs(std::string root) : root_(std::move(root)) {}

  bool Exists(const HostPciAddress& bdf) const;
  // The bound driver's name; nullopt when unbound.
  std::optional<std::string> Driver(const HostPciAddress& bdf) const;
  // The IOMMU group number; nullopt without an IOMMU (no iommu_group link).
  std::optional<uint32_t> IommuGroup(const HostPciAddress& bdf) const;
  // The functions in group `group` (names that are not PCI addresses, such
  // as bridges' other bus types, are returned as they are).
  Result<std::vector<std::string>> GroupDevices(uint32_t group) const;
  // Driver of a device in a group, by its directory name.
  std::optional<std::string> DriverOf(const std::string& name) const;

 private:
  std::string DevicePath(const std::string& name) const;

  std::string root_;
};

}  // namespace mini_vmm::vfio
