// The checks of --vfio values made before any VM exists (ValidateConfig):
// each is one sentence "--vfio BDF: ..." (the contract in
// ../shared: a usage error, exit status 2).
//
//   TRY(vfio::CheckDevices({"0000:00:04.0"}, vfio::HostPaths{}));
//
// In order: the address parses; it is not given twice; the device exists;
// it has an IOMMU group; it is bound to vfio-pci; every device of the group
// is bound to vfio-pci or unbound; the group is not open in another process
// (a trial open, closed again at once).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "vmm/base/result.h"
#include "vmm/vfio/pci_address.h"
#include "vmm/vfio/sysfs.h"

namespace mini_vmm::vfio {

struct HostPaths {
  std::string sysfs = "/sys";
  std::string dev_dir = "/dev/vfio";         // Group nodes.
  std::string container = "/dev/vfio/vfio";  // The container node.
};

Result<void> CheckDevices(std::span<const std::string> bdfs, const HostPaths& paths);

// The one device's checks (no group open); `text` is the user's spelling.
Result<uint32_t> CheckDevice(const Sysfs& sysfs, const std::string& text,
                             const HostPciAddress& bdf);

// RLIMIT_MEMLOCK in bytes, nullopt when this process may lock without
// limit (infinite limit, or CAP_IPC_LOCK, which vfio's type1 IOMMU honours).
std::optional<uint64_t> MemlockLimit();

}  // namespace mini_vmm::vfio
