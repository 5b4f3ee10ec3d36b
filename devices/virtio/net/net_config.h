// `--net tap=NAME[,mac=52:54:00:12:34:56][,queues=N][,vhost=on|off|auto]`: one virtio-net
// device on a host tap, as the user configures it (the device owns its
// options; the CLI only passes the text on).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vmm/base/result.h"

namespace mini_vmm::virtio::net {

// Queue pairs (rx + tx) one device may have. Each pair costs a host I/O
// thread, two virtqueues, a tap queue and about five file descriptors, and
// pairs beyond the host's CPUs only add contention. The hard limits are far
// above: the kernel's tap allows 256 queues (MAX_TAP_QUEUES), virtio 0x8000
// pairs (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX), virtio-pci 2048 MSI-X vectors
// (2 * pairs + 2 are needed), virtio-mmio has no queue-count limit.
inline constexpr uint16_t kMaxQueuePairs = 16;

using MacAddress = std::array<uint8_t, 6>;

// Who moves the frames: mini-vmm's I/O threads (off, the default), the
// kernel's vhost-net (on: an error if /dev/vhost-net does not open), or
// vhost-net when it opens and mini-vmm otherwise (auto, logged at info).
enum class VhostMode { kOff, kOn, kAuto };

struct NetConfig {
  std::string tap;                // Host interface name, < IFNAMSIZ bytes.
  std::optional<MacAddress> mac;  // nullopt: a random locally administered one.
  uint16_t queue_pairs = 1;       // 1..kMaxQueuePairs
  VhostMode vhost = VhostMode::kOff;
};

// Parses one --net value; errors are one sentence naming the bad part.
Result<NetConfig> ParseNetOption(std::string_view text);

// "52:54:00:12:34:56": six two-digit hex bytes, a unicast address, not zero.
Result<MacAddress> ParseMac(std::string_view text);
std::string FormatMac(const MacAddress& mac);

}  // namespace mini_vmm::virtio::net
