#include "vmm/config/device_kinds.h"

#include <string>

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
  // Take the transport= items out; the kind parses the others, in order.
  VirtioTransport transport = kDefaultTransport;
  std::string rest;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = text.substr(start, end - start);
    if (item.starts_with("transport=")) {
      const std::string_view value = item.substr(std::string_view("transport=").size());
      if (value == "mmio") {
        transport = VirtioTransport::kMmio;
      } else if (value == "pci") {
        transport = VirtioTransport::kPci;
      } else {
        return Error::Invalid("transport \"{}\" does not exist (known: mmio, pci)", value);
      }
    } else {
      if (!rest.empty()) rest += ',';
      rest += item;
    }
    start = end + 1;
  }
  std::unique_ptr<virtio::DeviceOptions> options = TRY(kind.Parse(rest));
  return DeviceRequest{.kind = &kind, .options = std::move(options), .transport = transport};
}

}  // namespace mini_vmm
