#include "devices/legacy/boot_marker.h"

#include <utility>

#include "devices/legacy/byte_access.h"

namespace mini_vmm::devices {

BootMarker::BootMarker(std::function<void()> on_boot_complete)
    : on_boot_complete_(std::move(on_boot_complete)) {}

void BootMarker::Read(const IoAccess& /*access*/, std::span<uint8_t> data) noexcept {
  CompleteByteRead(data, 0);
}

void BootMarker::Write(const IoAccess& /*access*/, std::span<const uint8_t> data) noexcept {
  const std::optional<uint8_t> value = WrittenByte(data);
  if (value != kBootCompleteValue) return;
  // exchange() lets exactly one writer through, even with vCPUs racing.
  if (reached_.exchange(true, std::memory_order_relaxed)) return;
  if (on_boot_complete_) on_boot_complete_();
}

}  // namespace mini_vmm::devices
