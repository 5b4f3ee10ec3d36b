#include "devices/legacy/acpi_pm.h"

#include <utility>

#include "devices/legacy/byte_access.h"
#include "vmm/base/log.h"

namespace mini_vmm::devices {
namespace {

// Sleep control register bits (ACPI §4.8.3.7; ACPICA's ACPI_X_SLEEP_*).
constexpr uint8_t kSleepEnable = 0x20;    // SLP_EN
constexpr uint8_t kSleepTypeMask = 0x1c;  // SLP_TYP, bits 4:2
constexpr unsigned kSleepTypeShift = 2;
// Sleep status register bit (ACPICA's ACPI_X_WAKE_STATUS).
constexpr uint8_t kWakeStatus = 0x80;  // WAK_STS, write 1 to clear

}  // namespace

AcpiPm::AcpiPm(std::function<void()> power_off, std::function<void()> reset, AcpiPmConfig config)
    : power_off_(std::move(power_off)), reset_(std::move(reset)), config_(config) {}

void AcpiPm::Read(const IoAccess& access, std::span<uint8_t> data) noexcept {
  uint8_t value = 0;
  if (access.offset == kSleepStatusOffset && wake_status_.load(std::memory_order_relaxed)) {
    value = kWakeStatus;
  }
  CompleteByteRead(data, value);
}

void AcpiPm::Write(const IoAccess& access, std::span<const uint8_t> data) noexcept {
  const std::optional<uint8_t> value = WrittenByte(data);
  if (!value) return;
  switch (access.offset) {
    case kSleepControlOffset:
      WriteSleepControl(*value);
      break;
    case kSleepStatusOffset:
      if (*value & kWakeStatus) wake_status_.store(false, std::memory_order_relaxed);
      break;
    case kResetOffset:
      if (*value == config_.reset_value) {
        if (reset_) reset_();
      } else {
        LOG_DEBUG_RATELIMITED("acpi-pm: ignoring reset register write {:#04x}", *value);
      }
      break;
    default:
      break;
  }
}

void AcpiPm::WriteSleepControl(uint8_t value) {
  if ((value & kSleepEnable) == 0) return;
  const auto sleep_type = static_cast<uint8_t>((value & kSleepTypeMask) >> kSleepTypeShift);
  if (sleep_type == config_.s5_sleep_type) {
    if (power_off_) power_off_();
    return;
  }
  LOG_WARN_RATELIMITED("acpi-pm: guest asked for unsupported sleep type {}; waking it at once",
                       sleep_type);
  wake_status_.store(true, std::memory_order_relaxed);
}

}  // namespace mini_vmm::devices
