// AcpiPm: the hardware-reduced ACPI power-management registers (ACPI 6.x
// §4.8.3.7 sleep control/status, §4.8.3.6 reset register), three byte ports.
//
//   auto pm = std::make_shared<AcpiPm>([&] { vm.RequestPowerOff(); },
//                                      [&] { vm.RequestReset(); });
//   TRY(pio_bus.Insert(pm, x86_64::kAcpiPmPort, AcpiPm::kPortCount));  // platform/layout.h
//   // FADT: SLEEP_CONTROL_REG = I/O base+0, SLEEP_STATUS_REG = base+1,
//   //       RESET_REG = base+2 with RESET_VALUE = config.reset_value,
//   //       all 8 bits wide; DSDT: Name (\_S5_, Package () { 5, 0, 0, 0 }).
//
// Linux's acpi_hw_extended_sleep() (drivers/acpi/acpica/hwxfsleep.c) first
// writes WAK_STS (0x80) to the status register to clear it, then writes
// SLP_EN | (SLP_TYP << 2) to the control register -- 0x34 for S5 -- and then
// polls the status register until WAK_STS is set. So:
//   - SLP_EN with SLP_TYP == config.s5_sleep_type calls `power_off`, and
//     WAK_STS stays clear while the VM stops;
//   - SLP_EN with any other SLP_TYP (S1-S4 are not supported) is ignored with
//     a rate-limited warning and sets WAK_STS at once, so the guest wakes
//     immediately instead of polling forever;
//   - a control write without SLP_EN does nothing.
// The status register reads WAK_STS or 0; writing 1 to WAK_STS clears it.
// Writing config.reset_value to the reset register calls `reset`; other
// values are ignored. The control and reset registers read as 0.
//
// Callbacks run on the vCPU thread with no lock held, once per qualifying
// write (a guest may write more than once before the VM stops: make them
// idempotent), and must not throw. State is one atomic flag.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "devices/bus/bus_device.h"

namespace mini_vmm::devices {

struct AcpiPmConfig {
  // The first element of the DSDT's \_S5_ package.
  uint8_t s5_sleep_type = 5;
  // The FADT's RESET_VALUE.
  uint8_t reset_value = 0x01;
};

class AcpiPm final : public BusDevice {
 public:
  static constexpr uint64_t kPortCount = 3;
  static constexpr uint64_t kSleepControlOffset = 0;
  static constexpr uint64_t kSleepStatusOffset = 1;
  static constexpr uint64_t kResetOffset = 2;

  AcpiPm(std::function<void()> power_off, std::function<void()> reset, AcpiPmConfig config = {});

  std::string_view name() const override { return "acpi-pm"; }
  void Read(const IoAccess& access, std::span<uint8_t> data) noexcept override;
  void Write(const IoAccess& access, std::span<const uint8_t> data) noexcept override;

 private:
  void WriteSleepControl(uint8_t value);

  const std::function<void()> power_off_;
  const std::function<void()> reset_;
  const AcpiPmConfig config_;
  std::atomic<bool> wake_status_{false};
};

}  // namespace mini_vmm::devices
