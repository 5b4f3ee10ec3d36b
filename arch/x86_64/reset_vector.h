// The two pieces of PC firmware a guest's reset path relies on, for a
// machine that has no BIOS:
//
// The reset vector. Linux's restart (arch/x86/kernel/reboot.c) walks a
// chain of methods until one works: ACPI reset register, keyboard
// controller, EFI, BIOS, port 0xCF9, triple fault. With a hardware-reduced
// FADT its default is EFI; without EFI it falls back to BOOT_BIOS, which
// drops to real mode and jumps to F000:FFF0 (machine_real_restart), where a
// BIOS's reset code would be. mini-vmm puts a stub there that writes a hard
// reset to the reset control register (port 0xCF9), so that path ends the
// VM like the others instead of running off into zeroed memory forever.
//
// The BIOS reset flag. Before trying any method, Linux writes the BIOS data
// area's reset flag at 0x472 (0x1234 warm, 0 cold) for the BIOS it expects
// to run next. mini-vmm seeds it with a value no OS writes, so a triple
// fault taken after the flag changed is a reset the guest asked for
// (`reboot=triple`, or the end of the fallback chain), not a crash. Real
// boards and QEMU reset on every triple fault; mini-vmm only on announced
// ones, so a crashing guest still exits with status 1 and a register dump.
//
//   TRY(WriteResetFirmware(mem));               // while building the VM
//   if (GuestAnnouncedReset(mem)) { /* reboot, not crash */ }
#pragma once

#include <array>
#include <cstdint>

#include "vmm/base/result.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::arch::x86_64 {

inline constexpr size_t kResetVectorStubSize = 16;

// The value port 0xCF9 gets from the stub: RST_CPU | SYS_RST, a hard reset.
inline constexpr uint8_t kStubResetValue = 0x06;

// What mini-vmm seeds the BIOS reset flag with; Linux writes 0 or 0x1234.
inline constexpr uint16_t kResetFlagUnset = 0xffff;
inline constexpr uint16_t kResetFlagCold = 0x0000;
inline constexpr uint16_t kResetFlagWarm = 0x1234;

// Pure: the 16 bytes at the reset vector, 16-bit code.
std::array<uint8_t, kResetVectorStubSize> ResetVectorStub();

// Writes the stub at kResetVectorAddress and seeds the reset flag.
Result<void> WriteResetFirmware(const GuestMemory& mem);

// True when the guest wrote a cold or warm reset request into the BIOS
// reset flag. guest-controlled: only ever a hint about intent.
bool GuestAnnouncedReset(const GuestMemory& mem) noexcept;

}  // namespace mini_vmm::arch::x86_64
