// The virtio-net device kind: `--net tap=NAME[,mac=MAC][,queues=N]`
// (devices/virtio/device_kind.h).
#pragma once

#include "devices/virtio/device_kind.h"
#include "devices/virtio/net/net_config.h"

namespace mini_vmm::virtio::net {

// A --net value, parsed.
struct NetSpec final : DeviceOptions {
  explicit NetSpec(NetConfig c) : config(std::move(c)) {}
  NetConfig config;
};

const DeviceKind& NetKind();

}  // namespace mini_vmm::virtio::net
