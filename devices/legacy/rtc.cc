#include "devices/legacy/rtc.h"

#include <utility>

#include "devices/legacy/byte_access.h"
#include "vmm/base/log.h"

namespace mini_vmm::devices {
namespace {

// Register indices (MC146818 datasheet; Linux's mc146818rtc.h names them
// RTC_SECONDS ... RTC_VALID, but that header is not exported to user space).
constexpr uint8_t kRegSeconds = 0x00;
constexpr uint8_t kRegMinutes = 0x02;
constexpr uint8_t kRegHours = 0x04;
constexpr uint8_t kRegWeekday = 0x06;
constexpr uint8_t kRegDayOfMonth = 0x07;
constexpr uint8_t kRegMonth = 0x08;
constexpr uint8_t kRegYear = 0x09;
constexpr uint8_t kRegA = 0x0a;
constexpr uint8_t kRegB = 0x0b;
constexpr uint8_t kRegC = 0x0c;
constexpr uint8_t kRegD = 0x0d;
constexpr uint8_t kRegCentury = 0x32;  // The PC/ACPI convention.

constexpr uint64_t kIndexOffset = 0;  // Port 0x70.
constexpr uint64_t kDataOffset = 1;   // Port 0x71.
constexpr uint8_t kIndexMask = 0x7f;  // Bit 7 of the index is the NMI mask.

constexpr uint8_t kRegAUpdateInProgress = 0x80;
constexpr uint8_t kRegADefault = 0x26;  // 32.768 kHz time base, 1024 Hz rate.
constexpr uint8_t kRegBBinary = 0x04;   // DM: binary rather than BCD.
constexpr uint8_t kRegB24Hour = 0x02;
constexpr uint8_t kRegBDefault = kRegB24Hour;
constexpr uint8_t kRegDValidRamAndTime = 0x80;
constexpr uint8_t kHourPm = 0x80;  // 12-hour mode: bit 7 of the hours.

constexpr uint8_t kWriteOnlyPort = 0xff;

bool IsTimeRegister(uint8_t index) {
  switch (index) {
    case kRegSeconds:
    case kRegMinutes:
    case kRegHours:
    case kRegWeekday:
    case kRegDayOfMonth:
    case kRegMonth:
    case kRegYear:
    case kRegCentury:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::time_t Rtc::HostClock() noexcept { return std::time(nullptr); }

Rtc::Rtc(Clock clock) : clock_(std::move(clock)) {
  ram_[kRegA] = kRegADefault;
  ram_[kRegB] = kRegBDefault;
}

void Rtc::Read(const IoAccess& access, std::span<uint8_t> data) noexcept {
  if (data.empty()) return;
  uint8_t value = kWriteOnlyPort;
  if (access.offset == kDataOffset) {
    std::lock_guard lock(mutex_);
    value = ReadRegister(index_);
  }
  CompleteByteRead(data, value);
}

void Rtc::Write(const IoAccess& access, std::span<const uint8_t> data) noexcept {
  const std::optional<uint8_t> value = WrittenByte(data);
  if (!value) return;
  std::lock_guard lock(mutex_);
  if (access.offset == kIndexOffset) {
    index_ = *value & kIndexMask;
  } else if (access.offset == kDataOffset) {
    WriteRegister(index_, *value);
  }
}

uint8_t Rtc::ReadRegister(uint8_t index) {
  if (IsTimeRegister(index)) return ReadTime(index);
  switch (index) {
    case kRegA:
      return ram_[kRegA] & static_cast<uint8_t>(~kRegAUpdateInProgress);
    case kRegC:
      return 0;
    case kRegD:
      return kRegDValidRamAndTime;
    default:
      return ram_[index % kRamSize];
  }
}

void Rtc::WriteRegister(uint8_t index, uint8_t value) {
  if (IsTimeRegister(index)) {
    LOG_DEBUG_RATELIMITED("rtc: ignoring guest write {:#04x} to time register {:#04x}", value,
                          index);
    return;
  }
  switch (index) {
    case kRegC:
    case kRegD:
      break;  // Read-only.
    default:
      ram_[index % kRamSize] = value;
      break;
  }
}

uint8_t Rtc::ReadTime(uint8_t index) const {
  const std::time_t now = clock_();
  std::tm utc{};
  if (gmtime_r(&now, &utc) == nullptr) return 0;  // A clock beyond year 2^31.
  const int year = utc.tm_year + 1900;
  switch (index) {
    case kRegSeconds:
      return Encode(utc.tm_sec);
    case kRegMinutes:
      return Encode(utc.tm_min);
    case kRegHours:
      return EncodeHours(utc.tm_hour);
    case kRegWeekday:
      return Encode(utc.tm_wday + 1);
    case kRegDayOfMonth:
      return Encode(utc.tm_mday);
    case kRegMonth:
      return Encode(utc.tm_mon + 1);
    case kRegYear:
      return Encode(year % 100);
    default:  // kRegCentury
      return Encode(year / 100);
  }
}

// `value` in BCD or binary as register B asks; values outside 0-99 (only from
// absurd clocks) wrap so the encoding always fits a byte.
uint8_t Rtc::Encode(int value) const {
  const auto wrapped = static_cast<uint8_t>(((value % 100) + 100) % 100);
  if (ram_[kRegB] & kRegBBinary) return wrapped;
  return static_cast<uint8_t>(((wrapped / 10) << 4) | (wrapped % 10));
}

uint8_t Rtc::EncodeHours(int hour) const {
  if (ram_[kRegB] & kRegB24Hour) return Encode(hour);
  // 12-hour mode: 12 AM, 1 AM ... 11 AM, 12 PM, 1 PM ... 11 PM.
  const int twelve_hour = hour % 12 == 0 ? 12 : hour % 12;
  return hour >= 12 ? static_cast<uint8_t>(Encode(twelve_hour) | kHourPm) : Encode(twelve_hour);
}

}  // namespace mini_vmm::devices
