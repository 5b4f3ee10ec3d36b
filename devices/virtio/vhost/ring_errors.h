// RingErrorLog: what mini-vmm does when vhost signals a ring's error
// eventfd (VHOST_SET_VRING_ERR). The kernel signals it whenever its worker
// meets something it cannot use in a ring -- a descriptor pointing outside
// the memory table, a chain too long, an index running ahead -- all of
// which the guest controls. So every error is counted, but only a bounded
// number is logged (a burst of 10, then one a second, per device), and the
// count of the rest goes with the next line. Nothing is allocated per error.
//
// Threading: Report is called by one watcher thread; the counters may be
// read from anywhere.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "vmm/base/log.h"

namespace mini_vmm::virtio::vhost {

class RingErrorLog {
 public:
  explicit RingErrorLog(std::string device) : device_(std::move(device)) {}

  // `count` errors (an eventfd's counter: signals coalesce) on virtio queue
  // `queue`. Returns whether a line was written.
  bool Report(uint16_t queue, uint64_t count) noexcept;

  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  uint64_t lines() const { return lines_.load(std::memory_order_relaxed); }

 private:
  const std::string device_;
  log::RateLimiter limiter_{10, 1};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> lines_{0};
};

}  // namespace mini_vmm::virtio::vhost
