#include "devices/virtio/net/net_kind.h"

#include <sys/random.h>

#include <string>

#include "devices/virtio/net/host_tap.h"
#include "devices/virtio/net/net_device.h"
#include "devices/virtio/vhost/vhost_kernel.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::net {
namespace {

constexpr const char* kSysfsNet = "/sys/class/net";

const NetConfig& ConfigOf(const DeviceOptions& options) {
  return static_cast<const NetSpec&>(options).config;
}

// A random locally administered unicast address (IEEE 802: bit 1 of the
// first byte set, bit 0 clear), so two VMs on one bridge do not collide.
MacAddress RandomMac() {
  MacAddress mac{};
  if (::getrandom(mac.data(), mac.size(), 0) != static_cast<ssize_t>(mac.size())) {
    mac = {0x02, 0x00, 0x00, 0x12, 0x34, 0x56};
  }
  mac[0] = static_cast<uint8_t>((mac[0] & 0xfe) | 0x02);
  return mac;
}

// One /dev/vhost-net instance per queue pair, or none for the userspace
// data path. vhost=on fails if any does not open (Validate checked it);
// vhost=auto falls back, and says which path it took.
Result<std::vector<std::unique_ptr<vhost::VhostBackend>>> OpenVhost(const NetConfig& net,
                                                                    const std::string& name) {
  std::vector<std::unique_ptr<vhost::VhostBackend>> backends;
  if (net.vhost == VhostMode::kOff) return backends;
  for (uint16_t pair = 0; pair < net.queue_pairs; ++pair) {
    auto opened = vhost::VhostKernel::Open(vhost::kVhostNetPath);
    if (!opened.ok()) {
      if (net.vhost == VhostMode::kOn) return std::move(opened).error();
      LOG_INFO("{}: vhost=auto: {}; mini-vmm moves the frames", name, opened.error().ToString());
      return std::vector<std::unique_ptr<vhost::VhostBackend>>{};
    }
    backends.push_back(std::move(opened).value());
  }
  if (net.vhost == VhostMode::kAuto) {
    LOG_INFO("{}: vhost=auto: the kernel's vhost-net moves the frames", name);
  }
  return backends;
}

class Kind final : public DeviceKind {
 public:
  std::string_view option() const override { return "net"; }
  std::string_view help() const override {
    return "a virtio-net NIC on an existing host tap: tap=NAME[,mac=52:54:00:12:34:56]"
           "[,queues=N][,vhost=on|off|auto]; repeat for more";
  }

  Result<std::unique_ptr<DeviceOptions>> Parse(std::string_view text) const override {
    return std::make_unique<NetSpec>(TRY(ParseNetOption(text)));
  }

  Result<void> Validate(std::span<const DeviceOptions* const> instances) const override {
    // Clashes between the values first: they need no host to be found.
    for (size_t i = 0; i < instances.size(); ++i) {
      const NetConfig& net = ConfigOf(*instances[i]);
      for (size_t j = 0; j < i; ++j) {
        const NetConfig& other = ConfigOf(*instances[j]);
        if (other.tap == net.tap) return Error::Invalid("tap \"{}\" is given twice", net.tap);
        if (net.mac && other.mac == net.mac) {
          return Error::Invalid("mac={} is given to two NICs", FormatMac(*net.mac));
        }
      }
    }
    for (const DeviceOptions* options : instances) {
      const NetConfig& net = ConfigOf(*options);
      if (net.vhost == VhostMode::kOn) TRY(vhost::CheckVhostNet(vhost::kVhostNetPath));
      TRY(CheckHostTap(kSysfsNet, net.tap, net.queue_pairs));
      // Attaching is the only true test of "busy" and "no permission"; the
      // queues are let go at once and attached again by Create.
      TRY(HostTap::Open(net.tap, net.queue_pairs));
    }
    return {};
  }

  // Per pair: the tap queue, the I/O thread's epoll, stop and wake
  // eventfds, two doorbells; then the control doorbell, the interrupt and
  // margin.
  // With vhost, per pair also: /dev/vhost-net, the watcher's epoll and
  // stop eventfd, two call and two error eventfds; and the control
  // thread's epoll and stop eventfd.
  uint64_t OpenFiles(const DeviceOptions& options) const override {
    const NetConfig& net = ConfigOf(options);
    const uint64_t vhost = net.vhost == VhostMode::kOff ? 0 : 7 * uint64_t{net.queue_pairs} + 2;
    return 6 * uint64_t{net.queue_pairs} + 4 + vhost;
  }

  Result<std::shared_ptr<VirtioDevice>> Create(const DeviceOptions& options,
                                               size_t index) const override {
    const NetConfig& net = ConfigOf(options);
    const MacAddress mac = net.mac ? *net.mac : RandomMac();
    const std::string name = "virtio-net" + std::to_string(index);
    if (!net.mac) LOG_INFO("{}: on tap \"{}\" with MAC {}", name, net.tap, FormatMac(mac));
    std::unique_ptr<HostTap> tap = TRY(HostTap::Open(net.tap, net.queue_pairs));
    auto vhost = TRY(OpenVhost(net, name));
    return std::shared_ptr<VirtioDevice>(TRY(NetDevice::Create(
        std::move(tap),
        {.name = name, .mac = mac, .queue_pairs = net.queue_pairs, .vhost = std::move(vhost)})));
  }
};

}  // namespace

const DeviceKind& NetKind() {
  static const Kind kind;
  return kind;
}

}  // namespace mini_vmm::virtio::net
