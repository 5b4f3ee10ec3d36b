// HostTap: a host tap interface opened by name through /dev/net/tun.
//
//   TRY(CheckHostTap("/sys/class/net", "tap0", 2));   // before any KVM call
//   std::unique_ptr<HostTap> tap = TRY(HostTap::Open("tap0", 2));
//
// mini-vmm never creates a tap: TUNSETIFF on a name that does not exist
// would make a new, unconfigured interface, so the name is checked in sysfs
// first and the user told how to create it. Every error is one sentence.
//
// Threading: see tap.h.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "devices/virtio/net/tap.h"
#include "vmm/base/unique_fd.h"

namespace mini_vmm::virtio::net {

// Checks that `name` under `sysfs_net` (normally /sys/class/net) is a tap
// (not a tun, not another kind of interface), multiqueue if `queues` > 1.
Result<void> CheckHostTap(const std::string& sysfs_net, const std::string& name, uint16_t queues);

class HostTap final : public Tap {
 public:
  // Attaches `queues` non-blocking queues to the existing tap `name`
  // (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, IFF_MULTI_QUEUE if the tap is
  // multiqueue). Call CheckHostTap first.
  static Result<std::unique_ptr<HostTap>> Open(const std::string& name, uint16_t queues);

  size_t queue_count() const override { return fds_.size(); }
  int fd(size_t queue) const override { return fds_.at(queue).get(); }
  Result<size_t> Read(size_t queue, std::span<uint8_t> frame) override;
  Result<void> Write(size_t queue, std::span<const iovec> frame) override;
  Result<void> SetVnetHeaderSize(int bytes) override;
  Result<void> SetOffload(unsigned tun_offloads) override;
  Result<void> SetQueueEnabled(size_t queue, bool enabled) override;

 private:
  HostTap(std::string name, std::vector<UniqueFd> fds, bool multi_queue)
      : name_(std::move(name)), fds_(std::move(fds)), multi_queue_(multi_queue) {}

  std::string name_;
  std::vector<UniqueFd> fds_;
  bool multi_queue_;
};

}  // namespace mini_vmm::virtio::net
