// BootMarker: a one-byte debug port the guest writes when it has booted, the
// convention of Firecracker's boot-timer device (port 0x3F0, value 123):
//
//   auto marker = std::make_shared<BootMarker>([] {
//     LOG_INFO("guest boot marker reached in {} ms since process start", ...);
//   });
//   TRY(pio_bus.Insert(marker, x86_64::kBootMarkerPort, 1));  // platform/layout.h
//   // In the guest, once booted: outb(123, 0x3f0).
//
// The callback runs for the first write of kBootCompleteValue only; later
// writes of it, other values, and reads (which return 0) do nothing. One call
// per device lifetime means a guest hammering the port cannot flood the log;
// a VM that reboots in place and wants the marker again makes a new device.
// The callback runs on the vCPU thread, must not throw, and is never called
// concurrently with itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "devices/bus/bus_device.h"

namespace mini_vmm::devices {

class BootMarker final : public BusDevice {
 public:
  static constexpr uint8_t kBootCompleteValue = 123;

  explicit BootMarker(std::function<void()> on_boot_complete);

  std::string_view name() const override { return "boot-marker"; }
  void Read(const IoAccess& access, std::span<uint8_t> data) noexcept override;
  void Write(const IoAccess& access, std::span<const uint8_t> data) noexcept override;

 private:
  const std::function<void()> on_boot_complete_;
  std::atomic<bool> reached_{false};
};

}  // namespace mini_vmm::devices
