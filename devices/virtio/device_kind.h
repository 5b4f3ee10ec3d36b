// DeviceKind: a kind of virtio device a user asks for on the command line
// (--disk, --net). Each device folder defines its kind next to the device;
// vmm/config/device_kinds.cc lists them, one line per device. The CLI, the
// configuration checks and the machine go through that list and never
// name a device type: adding a device is a folder plus that line.
//
//   const DeviceKind& kind = virtio::blk::DiskKind();
//   std::unique_ptr<DeviceOptions> options = TRY(kind.Parse("path=root.img"));
//   TRY(kind.Validate({options.get()}));                  // before any KVM call
//   std::shared_ptr<VirtioDevice> disk = TRY(kind.Create(*options, 0));
//
// Threading: kinds are immutable singletons; any thread may use them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "devices/virtio/device.h"
#include "vmm/base/result.h"

namespace mini_vmm::virtio {

// One instance's options, as its kind parsed them (each kind downcasts to
// its own type; it only ever sees what its own Parse made).
class DeviceOptions {
 public:
  virtual ~DeviceOptions() = default;
};

class DeviceKind {
 public:
  virtual ~DeviceKind() = default;

  // The command-line option without dashes ("disk" for --disk).
  virtual std::string_view option() const = 0;
  // One line of help: what it adds, and the value's syntax.
  virtual std::string_view help() const = 0;

  // Parses one option value; errors are one sentence naming the bad part.
  virtual Result<std::unique_ptr<DeviceOptions>> Parse(std::string_view text) const = 0;
  // Checks every instance of this kind together against the host (files
  // exist and open, nothing attached twice that must not be), before the
  // VM is created. Errors are one sentence naming the value.
  virtual Result<void> Validate(std::span<const DeviceOptions* const> instances) const = 0;
  // File descriptors one instance holds while the VM runs, at most.
  virtual uint64_t OpenFiles(const DeviceOptions& options) const = 0;
  // Makes the device; `index` numbers the instances of this kind (names).
  virtual Result<std::shared_ptr<VirtioDevice>> Create(const DeviceOptions& options,
                                                       size_t index) const = 0;
};

}  // namespace mini_vmm::virtio
