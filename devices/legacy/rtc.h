// Rtc: the MC146818-style CMOS clock and its 128 bytes of RAM at 0x70/0x71.
//
//   auto rtc = std::make_shared<Rtc>();            // host UTC from time()
//   TRY(pio_bus.Insert(rtc, x86_64::kRtcPort, Rtc::kPortCount));  // platform/layout.h
//
// Write a register index to 0x70, then read or write it at 0x71. Index bit 7
// is the NMI mask on PCs; it is stripped (NMIs are not gated here), which also
// keeps every index inside the 128-byte RAM. Reading 0x70 returns 0xFF: the
// index port is write-only.
//
// Registers:
//   0x00 0x02 0x04 0x06 0x07 0x08 0x09  seconds, minutes, hours, weekday
//        (Sunday = 1), day of month, month, year % 100, read from the clock at
//        each access; BCD unless register B has DM (bit 2) set; 12-hour with
//        bit 7 = PM unless B has 24/12 (bit 1) set.
//   0x32 century, encoded the same way (point FADT.CENTURY here).
//   0x0A register A = 0x26 (32.768 kHz time base, 1024 Hz rate); UIP (bit 7)
//        never reads set, so readers never wait for an update cycle.
//   0x0B register B, default 0x02 (24-hour, BCD), fully writable.
//   0x0C register C reads 0: no interrupt flags, as no periodic, alarm or
//        update interrupt (IRQ 8) is ever generated.
//   0x0D register D reads 0x80: RAM and time valid.
// Every other byte (alarms included) is plain RAM the guest may use.
//
// Guest writes to the time and century registers are ignored: the guest
// always sees host UTC (`hwclock --systohc` has no effect), which keeps the
// device stateless across guest reboots and immune to a guest skewing it.
//
// Threading: one mutex guards the index and the RAM; the clock is called
// under it and must be cheap and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <functional>
#include <mutex>
#include <span>
#include <string_view>

#include "devices/bus/bus_device.h"

namespace mini_vmm::devices {

class Rtc final : public BusDevice {
 public:
  using Clock = std::function<std::time_t()>;

  static constexpr uint64_t kPortCount = 2;  // Index at offset 0, data at 1.
  static constexpr size_t kRamSize = 128;

  // Seconds since the epoch, UTC; `clock` must not throw.
  static std::time_t HostClock() noexcept;

  explicit Rtc(Clock clock = HostClock);

  std::string_view name() const override { return "rtc"; }
  void Read(const IoAccess& access, std::span<uint8_t> data) noexcept override;
  void Write(const IoAccess& access, std::span<const uint8_t> data) noexcept override;

 private:
  uint8_t ReadRegister(uint8_t index);
  void WriteRegister(uint8_t index, uint8_t value);
  uint8_t ReadTime(uint8_t index) const;
  uint8_t Encode(int value) const;
  uint8_t EncodeHours(int hour) const;

  const Clock clock_;

  std::mutex mutex_;
  // Guarded by mutex_.
  uint8_t index_ = 0;  // Always < kRamSize.
  std::array<uint8_t, kRamSize> ram_{};
};

}  // namespace mini_vmm::devices
