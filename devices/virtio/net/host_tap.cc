#include "devices/virtio/net/host_tap.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

namespace mini_vmm::virtio::net {
namespace {

constexpr const char* kTunDevice = "/dev/net/tun";

// `tun_flags` in sysfs ("0x1002"), or nullopt if the interface has none
// (it is not a tun/tap).
std::optional<unsigned> ReadTunFlags(const std::string& dir) {
  std::ifstream file(dir + "/tun_flags");
  if (!file) return std::nullopt;
  std::string text;
  file >> text;
  try {
    return static_cast<unsigned>(std::stoul(text, nullptr, 16));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool IsMultiQueue(const std::string& name) {
  const auto flags = ReadTunFlags("/sys/class/net/" + name);
  return flags && (*flags & IFF_MULTI_QUEUE) != 0;
}

Error AttachError(int err, const std::string& name) {
  switch (err) {
    case EBUSY:
      return Error::Invalid("tap \"{}\" is busy: another process has it open", name);
    case EPERM:
    case EACCES:
      return Error::Invalid(
          "no permission to attach tap \"{}\": it belongs to another user (run as its owner "
          "or with CAP_NET_ADMIN)",
          name);
    default:
      return Error::Errno(err, "cannot attach tap \"{}\"", name);
  }
}

Result<UniqueFd> AttachQueue(const std::string& name, short flags) {
  UniqueFd fd(::open(kTunDevice, O_RDWR | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    if (errno == EACCES || errno == EPERM) {
      return Error::Invalid("no permission to open {} (needed for tap \"{}\")", kTunDevice, name);
    }
    return Error::Errno(errno, "cannot open {} (needed for tap \"{}\")", kTunDevice, name);
  }
  ifreq request{};
  std::memcpy(request.ifr_name, name.data(), name.size());  // Checked < IFNAMSIZ by the parser.
  request.ifr_flags = flags;
  if (::ioctl(fd.get(), TUNSETIFF, &request) != 0) return AttachError(errno, name);
  return fd;
}

}  // namespace

Result<void> CheckHostTap(const std::string& sysfs_net, const std::string& name, uint16_t queues) {
  const std::string dir = sysfs_net + "/" + name;
  if (::access(dir.c_str(), F_OK) != 0) {
    return Error::Invalid(
        "tap \"{}\" does not exist (create it first, e.g. ip tuntap add dev {} mode tap)", name,
        name);
  }
  const auto flags = ReadTunFlags(dir);
  if (!flags) return Error::Invalid("network interface \"{}\" is not a tap", name);
  if ((*flags & IFF_TAP) == 0) {
    return Error::Invalid("\"{}\" is a tun (layer 3) interface, not a tap", name);
  }
  if (queues > 1 && (*flags & IFF_MULTI_QUEUE) == 0) {
    return Error::Invalid(
        "tap \"{}\" is not multiqueue, so it cannot serve queues={} (create it with "
        "ip tuntap add dev {} mode tap multi_queue)",
        name, queues, name);
  }
  return {};
}

Result<std::unique_ptr<HostTap>> HostTap::Open(const std::string& name, uint16_t queues) {
  // A multiqueue tap refuses a single-queue attach (and the reverse), so the
  // flag follows the tap, not the queue count.
  const bool multi_queue = queues > 1 || IsMultiQueue(name);
  const short flags =
      static_cast<short>(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi_queue ? IFF_MULTI_QUEUE : 0));
  std::vector<UniqueFd> fds;
  for (uint16_t q = 0; q < queues; ++q) fds.push_back(TRY(AttachQueue(name, flags)));
  return std::unique_ptr<HostTap>(new HostTap(name, std::move(fds), multi_queue));
}

Result<size_t> HostTap::Read(size_t queue, std::span<uint8_t> frame) {
  const ssize_t n = ::read(fd(queue), frame.data(), frame.size());
  if (n >= 0) return static_cast<size_t>(n);
  if (errno == EAGAIN || errno == EINTR) return size_t{0};
  return Error::Errno(errno, "cannot read from tap \"{}\" queue {}", name_, queue);
}

Result<void> HostTap::Write(size_t queue, std::span<const iovec> frame) {
  const ssize_t n = ::writev(fd(queue), frame.data(), static_cast<int>(frame.size()));
  if (n < 0) return Error::Errno(errno, "cannot write to tap \"{}\" queue {}", name_, queue);
  return {};
}

Result<void> HostTap::SetVnetHeaderSize(int bytes) {
  // Device-wide in the kernel: one queue's descriptor sets it for all.
  if (::ioctl(fd(0), TUNSETVNETHDRSZ, &bytes) != 0) {
    return Error::Errno(errno, "cannot set the vnet header size of tap \"{}\" to {}", name_, bytes);
  }
  return {};
}

Result<void> HostTap::SetOffload(unsigned tun_offloads) {
  if (::ioctl(fd(0), TUNSETOFFLOAD, static_cast<unsigned long>(tun_offloads)) != 0) {
    return Error::Errno(errno, "cannot set offloads {:#x} on tap \"{}\"", tun_offloads, name_);
  }
  return {};
}

Result<void> HostTap::SetQueueEnabled(size_t queue, bool enabled) {
  if (!multi_queue_) return {};  // A single queue is always attached.
  ifreq request{};
  request.ifr_flags = static_cast<short>(enabled ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE);
  if (::ioctl(fd(queue), TUNSETQUEUE, &request) != 0 && errno != EINVAL) {
    // EINVAL: already in the requested state (the kernel does not say otherwise).
    return Error::Errno(errno, "cannot {} queue {} of tap \"{}\"", enabled ? "attach" : "detach",
                        queue, name_);
  }
  return {};
}

}  // namespace mini_vmm::virtio::net
