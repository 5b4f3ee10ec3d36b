// The virtio-blk device kind: `--disk path=FILE[,readonly=on|off][,serial=ID]`
// (devices/virtio/device_kind.h).
#pragma once

#include "devices/virtio/blk/disk_config.h"
#include "devices/virtio/device_kind.h"

namespace mini_vmm::virtio::blk {

// A --disk value, parsed.
struct DiskSpec final : DeviceOptions {
  explicit DiskSpec(DiskConfig c) : config(std::move(c)) {}
  DiskConfig config;
};

const DeviceKind& DiskKind();

}  // namespace mini_vmm::virtio::blk
