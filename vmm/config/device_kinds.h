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

// One device the user asked for.
struct DeviceRequest {
  const virtio::DeviceKind* kind = nullptr;
  std::shared_ptr<const virtio::DeviceOptions> options;
};

// Parses the value of --<kind.option()>.
Result<DeviceRequest> ParseDeviceRequest(const virtio::DeviceKind& kind, std::string_view text);

}  // namespace mini_vmm
