// FakeTap: a Tap whose queues are SOCK_SEQPACKET socketpairs, so frames keep
// their boundaries and the device's epoll sees real readiness. The test (or
// fuzzer) holds the other ends: Inject() is a frame arriving from the host
// network, Sent() one the guest transmitted. Catch2-free.
//
// Threading: the device's threads call the Tap methods; the test uses
// Inject/Sent/state from its own thread. What the device sets is atomic.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "devices/virtio/net/tap.h"
#include "vmm/base/check.h"
#include "vmm/base/unique_fd.h"

namespace mini_vmm::testing {

class FakeTap final : public virtio::net::Tap {
 public:
  explicit FakeTap(size_t queues) : enabled_(queues) {
    for (size_t q = 0; q < queues; ++q) {
      int fds[2];
      VMM_CHECK(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
      device_.emplace_back(fds[0]);
      host_.emplace_back(fds[1]);
      // Room for a few maximum-size frames in each direction.
      const int size = 1 << 20;
      for (int fd : fds) {
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
      }
      enabled_[q].store(true);
    }
  }

  // --- The host side, for the test.
  // A frame (vnet header first) arriving for the guest on `queue`.
  bool Inject(std::span<const uint8_t> frame, size_t queue = 0) {
    return ::send(host_.at(queue).get(), frame.data(), frame.size(), MSG_DONTWAIT) ==
           static_cast<ssize_t>(frame.size());
  }
  // The next frame the device wrote to `queue`, if any.
  std::optional<std::vector<uint8_t>> Sent(size_t queue = 0) {
    std::vector<uint8_t> frame(1 << 17);
    const ssize_t n = ::recv(host_.at(queue).get(), frame.data(), frame.size(), MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    frame.resize(static_cast<size_t>(n));
    return frame;
  }
  int vnet_header_size() const { return vnet_header_size_.load(); }
  unsigned offload() const { return offload_.load(); }
  bool queue_enabled(size_t queue) const { return enabled_.at(queue).load(); }
  // Makes writes / reads fail with `err` (0: succeed again).
  void FailWrites(int err) { write_errno_.store(err); }
  void FailReads(int err) { read_errno_.store(err); }

  // --- virtio::net::Tap, for the device.
  size_t queue_count() const override { return device_.size(); }
  int fd(size_t queue) const override { return device_.at(queue).get(); }
  Result<size_t> Read(size_t queue, std::span<uint8_t> frame) override {
    if (const int err = read_errno_.load(); err != 0) return Error::Errno(err, "fake tap read");
    const ssize_t n = ::recv(fd(queue), frame.data(), frame.size(), MSG_DONTWAIT);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EAGAIN) return size_t{0};
    return Error::Errno(errno, "fake tap read");
  }
  Result<void> Write(size_t queue, std::span<const iovec> frame) override {
    if (const int err = write_errno_.load(); err != 0) return Error::Errno(err, "fake tap write");
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(frame.data());
    message.msg_iovlen = frame.size();
    if (::sendmsg(fd(queue), &message, MSG_DONTWAIT) < 0) {
      return Error::Errno(errno, "fake tap write");
    }
    return {};
  }
  Result<void> SetVnetHeaderSize(int bytes) override {
    vnet_header_size_.store(bytes);
    return {};
  }
  Result<void> SetOffload(unsigned tun_offloads) override {
    offload_.store(tun_offloads);
    return {};
  }
  Result<void> SetQueueEnabled(size_t queue, bool enabled) override {
    enabled_.at(queue).store(enabled);
    return {};
  }

 private:
  std::vector<UniqueFd> device_;
  std::vector<UniqueFd> host_;
  std::vector<std::atomic<bool>> enabled_;
  std::atomic<int> vnet_header_size_{0};
  std::atomic<unsigned> offload_{0};
  std::atomic<int> write_errno_{0};
  std::atomic<int> read_errno_{0};
};

}  // namespace mini_vmm::testing
