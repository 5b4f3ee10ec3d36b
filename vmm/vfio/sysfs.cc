#include "vmm/vfio/sysfs.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <system_error>

namespace mini_vmm::vfio {
namespace {

namespace fs = std::filesystem;

// The last component of a symlink's target; nullopt if it is no symlink.
std::optional<std::string> LinkName(const fs::path& link) {
  std::error_code ec;
  const fs::path target = fs::read_symlink(link, ec);
  if (ec) return std::nullopt;
  return target.filename().string();
}

}  // namespace

std::string Sysfs::DevicePath(const std::string& name) const {
  return root_ + "/bus/pci/devices/" + name;
}

bool Sysfs::Exists(const HostPciAddress& bdf) const {
  std::error_code ec;
  return fs::exists(DevicePath(bdf.ToString()), ec);
}

std::optional<std::string> Sysfs::Driver(const HostPciAddress& bdf) const {
  return DriverOf(bdf.ToString());
}

std::optional<std::string> Sysfs::DriverOf(const std::string& name) const {
  return LinkName(DevicePath(name) + "/driver");
}

std::optional<uint32_t> Sysfs::IommuGroup(const HostPciAddress& bdf) const {
  const std::optional<std::string> name = LinkName(DevicePath(bdf.ToString()) + "/iommu_group");
  if (!name) return std::nullopt;
  uint32_t group = 0;
  const auto [end, ec] = std::from_chars(name->data(), name->data() + name->size(), group);
  if (ec != std::errc() || end != name->data() + name->size()) return std::nullopt;
  return group;
}

Result<std::vector<std::string>> Sysfs::GroupDevices(uint32_t group) const {
  const std::string path = Format("{}/kernel/iommu_groups/{}/devices", root_, group);
  std::error_code ec;
  fs::directory_iterator it(path, ec);
  if (ec) return Error::Errno(ec.value(), "cannot list IOMMU group {} ({})", group, path);
  std::vector<std::string> names;
  // A group holds a handful of functions; bound the walk anyway.
  constexpr size_t kMaxGroupDevices = 256;
  for (; it != fs::directory_iterator() && names.size() < kMaxGroupDevices; it.increment(ec)) {
    if (ec) break;
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace mini_vmm::vfio
