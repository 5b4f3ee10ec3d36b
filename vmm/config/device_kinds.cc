#include "vmm/config/device_kinds.h"

#include "devices/virtio/blk/disk_kind.h"
#include "devices/virtio/net/net_kind.h"

namespace mini_vmm {

std::span<const virtio::DeviceKind* const> DeviceKinds() {
  static const virtio::DeviceKind* const kKinds[] = {
      &virtio::blk::DiskKind(),
      &virtio::net::NetKind(),
  };
  return kKinds;
}

Result<DeviceRequest> ParseDeviceRequest(const virtio::DeviceKind& kind, std::string_view text) {
  std::unique_ptr<virtio::DeviceOptions> options = TRY(kind.Parse(text));
  return DeviceRequest{.kind = &kind, .options = std::move(options)};
}

}  // namespace mini_vmm
