// The virtio device kinds a user can ask for, and one request for a device.
// device_kinds.cc is the one registration point: a new device adds its
// folder and one line there.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "devices/virtio/device_kind.h"
#include "vmm/base/result.h"

namespace mini_vmm {

// Every kind, in the order their options are listed in --help.
std::span<const virtio::DeviceKind* const> DeviceKinds();

// The transport that carries a virtio device: `transport=mmio|pci` in any
// device option. virtio-mmio is the default: the smallest boot path (no
// PCI enumeration in the guest, one page and one edge-triggered GSI per
// device). virtio-pci gives a device MSI-X (a vector per queue, so
// multiqueue NICs spread interrupts over vCPUs) and lifts the limit of
// kMaxVirtioMmioDevices devices.
enum class VirtioTransport { kMmio, kPci };
inline constexpr VirtioTransport kDefaultTransport = VirtioTransport::kMmio;

// One device the user asked for.
struct DeviceRequest {
  const virtio::DeviceKind* kind = nullptr;
  std::shared_ptr<const virtio::DeviceOptions> options;
  VirtioTransport transport = kDefaultTransport;
};

// Parses the value of --<kind.option()>: `transport=` here, the rest by
// the kind.
Result<DeviceRequest> ParseDeviceRequest(const virtio::DeviceKind& kind, std::string_view text);

}  // namespace mini_vmm
