// ResetControl: the PC chipset's reset control register at port 0xCF9
// (Intel ICH/PCH "RST_CNT"; PIIX3 "RCR"), one byte:
//
//   bit 1  SYS_RST   hard (1) or soft (0) reset, read back as written
//   bit 2  RST_CPU   writing 1 resets the machine
//   bit 3  FULL_RST  full power cycle (1), read back as written
//
//   auto rcr = std::make_shared<ResetControl>([&] { vm.RequestReset(); });
//   TRY(pio_bus.Insert(rcr, kResetControlPort, 1));   // arch/x86_64/platform/layout.h
//
// Linux's `reboot=pci` (arch/x86/kernel/reboot.c, BOOT_CF9_FORCE) reads the
// register, writes it with SYS_RST set, then with RST_CPU | SYS_RST (warm)
// or RST_CPU | SYS_RST | FULL_RST (cold). The chipsets reset on RST_CPU
// going from 0 to 1; QEMU's PIIX3 and ICH9 reset on any write with RST_CPU
// set, which is what this does: the register never holds RST_CPU, so every
// such write is a transition. mini-vmm's reset-vector stub (reset_vector.h
// in arch/x86_64) uses this register too.
//
// `reset` runs on the vCPU thread with no lock held, once per qualifying
// write (make it idempotent), and must not throw.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "devices/bus/bus_device.h"

namespace mini_vmm::devices {

class ResetControl final : public BusDevice {
 public:
  static constexpr uint8_t kSystemReset = 0x02;  // SYS_RST
  static constexpr uint8_t kResetCpu = 0x04;     // RST_CPU
  static constexpr uint8_t kFullReset = 0x08;    // FULL_RST

  explicit ResetControl(std::function<void()> reset);

  std::string_view name() const override { return "reset-control"; }
  void Read(const IoAccess& access, std::span<uint8_t> data) noexcept override;
  void Write(const IoAccess& access, std::span<const uint8_t> data) noexcept override;

 private:
  const std::function<void()> reset_;
  // SYS_RST and FULL_RST as last written; only read back, never acted on.
  std::atomic<uint8_t> value_{0};
};

}  // namespace mini_vmm::devices
