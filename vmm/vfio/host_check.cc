#include "vmm/vfio/host_check.h"

#include <fcntl.h>
#include <sys/resource.h>

#include <cerrno>
#include <fstream>
#include <set>
#include <vector>

#include "vmm/base/unique_fd.h"

namespace mini_vmm::vfio {
namespace {

constexpr const char* kVfioPci = "vfio-pci";

Result<void> CheckGroup(const Sysfs& sysfs, const std::string& text, uint32_t group) {
  const std::vector<std::string> members = TRY(sysfs.GroupDevices(group));
  for (const std::string& member : members) {
    const std::optional<std::string> driver = sysfs.DriverOf(member);
    if (driver && *driver != kVfioPci) {
      return Error::Invalid(
          "--vfio {}: IOMMU group {} is not viable: {} in it is bound to {}; bind it to vfio-pci "
          "or unbind it",
          text, group, member, *driver);
    }
  }
  return {};
}

// Opens the group node and closes it again: EBUSY means another process
// (or another container) holds it.
Result<void> CheckGroupFree(const HostPaths& paths, const std::string& text, uint32_t group) {
  const std::string node = Format("{}/{}", paths.dev_dir, group);
  UniqueFd fd(::open(node.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.valid()) return {};
  if (errno == EBUSY) {
    return Error::Invalid("--vfio {}: IOMMU group {} is in use by another process", text, group);
  }
  return Error::Errno(errno, "--vfio {}: cannot open {}", text, node);
}

}  // namespace

Result<uint32_t> CheckDevice(const Sysfs& sysfs, const std::string& text,
                             const HostPciAddress& bdf) {
  if (!sysfs.Exists(bdf)) return Error::Invalid("--vfio {}: no such PCI device", text);
  // Without an IOMMU group vfio-pci cannot take the device at all: the
  // root cause, so it comes before the driver.
  const std::optional<uint32_t> group = sysfs.IommuGroup(bdf);
  if (!group) {
    return Error::Invalid("--vfio {}: the device has no IOMMU group (is the IOMMU enabled?)", text);
  }
  const std::optional<std::string> driver = sysfs.Driver(bdf);
  if (!driver) return Error::Invalid("--vfio {}: the device is not bound to vfio-pci", text);
  if (*driver != kVfioPci) {
    return Error::Invalid("--vfio {}: the device is bound to {}, not vfio-pci", text, *driver);
  }
  TRY(CheckGroup(sysfs, text, *group));
  return *group;
}

Result<void> CheckDevices(std::span<const std::string> bdfs, const HostPaths& paths) {
  const Sysfs sysfs(paths.sysfs);
  std::vector<HostPciAddress> seen;
  std::set<uint32_t> groups;
  for (const std::string& text : bdfs) {
    auto bdf = ParseHostPciAddress(text);
    if (!bdf.ok()) return Error::Invalid("--vfio {}: {}", text, bdf.error().ToString());
    for (const HostPciAddress& other : seen) {
      if (other == *bdf) return Error::Invalid("--vfio {}: the device is given twice", text);
    }
    seen.push_back(*bdf);
    const uint32_t group = TRY(CheckDevice(sysfs, text, *bdf));
    if (groups.insert(group).second) TRY(CheckGroupFree(paths, text, group));
  }
  return {};
}

std::optional<uint64_t> MemlockLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_MEMLOCK, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return std::nullopt;
  }
  // CAP_IPC_LOCK (bit 14 of the effective set) lifts the limit for VFIO.
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key != "CapEff:") continue;
    std::string hex;
    status >> hex;
    constexpr uint64_t kCapIpcLock = 1ull << 14;
    if ((std::stoull(hex, nullptr, 16) & kCapIpcLock) != 0) return std::nullopt;
    break;
  }
  return limit.rlim_cur;
}

}  // namespace mini_vmm::vfio
