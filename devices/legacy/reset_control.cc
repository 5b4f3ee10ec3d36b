#include "devices/legacy/reset_control.h"

#include <utility>

#include "devices/legacy/byte_access.h"

namespace mini_vmm::devices {

ResetControl::ResetControl(std::function<void()> reset) : reset_(std::move(reset)) {}

void ResetControl::Read(const IoAccess& /*access*/, std::span<uint8_t> data) noexcept {
  CompleteByteRead(data, value_.load(std::memory_order_relaxed));
}

void ResetControl::Write(const IoAccess& /*access*/, std::span<const uint8_t> data) noexcept {
  const std::optional<uint8_t> value = WrittenByte(data);
  if (!value) return;
  value_.store(*value & (kSystemReset | kFullReset), std::memory_order_relaxed);
  // Hard, soft and full resets all end mini-vmm the same way: the VM stops
  // and the process exits 0, like every other guest-requested reset.
  if ((*value & kResetCpu) != 0 && reset_) reset_();
}

}  // namespace mini_vmm::devices
