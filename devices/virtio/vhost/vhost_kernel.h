// VhostKernel: a VhostBackend over an open /dev/vhost-net (or any vhost
// character device), the only code in mini-vmm that issues vhost ioctls.
//
//   std::unique_ptr<VhostKernel> vhost = TRY(VhostKernel::Open(kVhostNetPath));
//   TRY(vhost->SetOwner());
//
// Owns the file: closing it makes the kernel stop the worker thread and
// drop its references to the eventfds and the tap (vhost_net_release), so
// dropping a VhostKernel is a safe, if abrupt, way to stop everything.
// Move-only.
#pragma once

#include <memory>
#include <string>

#include "devices/virtio/vhost/vhost_backend.h"
#include "vmm/base/unique_fd.h"

namespace mini_vmm::virtio::vhost {

inline constexpr const char* kVhostNetPath = "/dev/vhost-net";

class VhostKernel final : public VhostBackend {
 public:
  // Opens `path` read-write, close-on-exec. The error names the path.
  static Result<std::unique_ptr<VhostKernel>> Open(const std::string& path);

  explicit VhostKernel(UniqueFd fd) : fd_(std::move(fd)) {}
  VhostKernel(VhostKernel&&) noexcept = default;
  VhostKernel& operator=(VhostKernel&&) noexcept = default;

  int fd() const { return fd_.get(); }

  Result<void> SetOwner() override;
  Result<uint64_t> GetFeatures() override;
  Result<void> SetFeatures(uint64_t features) override;
  Result<void> SetMemTable(std::span<const VhostMemoryRegion> regions) override;
  Result<void> SetVringNum(uint32_t ring, uint32_t size) override;
  Result<void> SetVringAddr(uint32_t ring, const VringHostAddresses& addresses) override;
  Result<void> SetVringBase(uint32_t ring, uint16_t next_avail) override;
  Result<uint16_t> GetVringBase(uint32_t ring) override;
  Result<void> SetVringKick(uint32_t ring, int fd) override;
  Result<void> SetVringCall(uint32_t ring, int fd) override;
  Result<void> SetVringErr(uint32_t ring, int fd) override;
  Result<void> NetSetBackend(uint32_t ring, int fd) override;

 private:
  Result<void> SetVringFile(unsigned long request, const char* what, uint32_t ring, int fd);

  UniqueFd fd_;
};

// For `vhost=on`, before the VM exists: whether `path` opens. The error is
// the one sentence the user sees, with what to do about it.
Result<void> CheckVhostNet(const std::string& path);

// The kernel's limit on VHOST_SET_MEM_TABLE entries: the vhost module's
// max_mem_regions parameter, 64 unless the host changed it (or the module
// is not loaded yet).
uint32_t VhostMaxMemRegions();

}  // namespace mini_vmm::virtio::vhost
