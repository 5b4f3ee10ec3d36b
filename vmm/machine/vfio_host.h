// VfioHost: the host side of every --vfio device, opened before the VM
// exists so that every error comes before anything is created: the one
// VFIO container, the IOMMU groups, the devices (each reset as it opens),
// and the DMA mapper that keeps the container's mappings equal to guest
// RAM (a MemoryMapListener; the machine adds it to its MemoryMap).
//
//   auto host = TRY(VfioHost::Open(config.vfio, x86::RamLayout(bytes), {}));
//   TRY(memory_map.AddListener(&host->dma()));
//   ...
//   memory_map.RemoveListener(&host->dma());   // before `host` goes
//
// Errors are one sentence starting "--vfio BDF: " (the checks of
// vfio/host_check.h were made before, in ValidateConfig). Destroying it
// resets every device again (the kernel resets on last close too).
//
// Threading: built and destroyed on the machine's thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vmm/base/result.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/vfio/container.h"
#include "vmm/vfio/device.h"
#include "vmm/vfio/dma_mapper.h"
#include "vmm/vfio/group.h"
#include "vmm/vfio/host_check.h"

namespace mini_vmm {

class VfioHost {
 public:
  static Result<std::unique_ptr<VfioHost>> Open(std::span<const std::string> bdfs,
                                                std::span<const GuestRegionSpec> ram,
                                                const vfio::HostPaths& paths);
  VfioHost(const VfioHost&) = delete;
  VfioHost& operator=(const VfioHost&) = delete;
  ~VfioHost();

  std::vector<std::unique_ptr<vfio::Device>>& devices() { return devices_; }
  vfio::DmaMapper& dma() { return *dma_; }
  // The user's spelling of the first device, for errors about all of them.
  const std::string& first() const { return first_; }

 private:
  VfioHost(vfio::Container container, std::string first)
      : container_(std::move(container)), first_(std::move(first)) {}

  vfio::Container container_;
  std::string first_;
  std::map<uint32_t, vfio::Group> groups_;  // By group number.
  std::vector<std::unique_ptr<vfio::Device>> devices_;
  std::optional<vfio::DmaMapper> dma_;  // Its mappings go before the container.
};

}  // namespace mini_vmm
