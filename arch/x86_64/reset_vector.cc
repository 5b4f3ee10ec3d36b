#include "arch/x86_64/reset_vector.h"

#include "arch/x86_64/platform/layout.h"

namespace mini_vmm::arch::x86_64 {
namespace {

constexpr uint8_t kMovAlImm8 = 0xb0;
constexpr uint8_t kMovDxImm16 = 0xba;
constexpr uint8_t kOutDxAl = 0xee;
constexpr uint8_t kCli = 0xfa;
constexpr uint8_t kHlt = 0xf4;
constexpr uint8_t kJmpRel8 = 0xeb;

}  // namespace

std::array<uint8_t, kResetVectorStubSize> ResetVectorStub() {
  std::array<uint8_t, kResetVectorStubSize> stub;
  // Unused bytes are HLT too: nothing jumps there, but if anything did it
  // would stop rather than execute garbage.
  stub.fill(kHlt);
  size_t i = 0;
  stub[i++] = kMovAlImm8;  // mov al, kStubResetValue
  stub[i++] = kStubResetValue;
  stub[i++] = kMovDxImm16;  // mov dx, kResetControlPort
  stub[i++] = static_cast<uint8_t>(kResetControlPort & 0xff);
  stub[i++] = static_cast<uint8_t>(kResetControlPort >> 8);
  stub[i++] = kOutDxAl;  // out dx, al: mini-vmm stops the VM here
  // Should the write ever be ignored, park the CPU instead of running on.
  stub[i++] = kCli;
  stub[i++] = kHlt;      // 1: hlt
  stub[i++] = kJmpRel8;  // jmp 1b (an NMI would resume after the hlt)
  stub[i++] = static_cast<uint8_t>(-3);
  return stub;
}

Result<void> WriteResetFirmware(const GuestMemory& mem) {
  if (!mem.Write(GuestAddress(kResetVectorAddress), ResetVectorStub())) {
    return Error::Invalid("guest RAM too small for the reset vector at {:#x}", kResetVectorAddress);
  }
  if (!mem.WriteObj(GuestAddress(kBiosResetFlagAddress), kResetFlagUnset)) {
    return Error::Invalid("guest RAM too small for the BIOS reset flag at {:#x}",
                          kBiosResetFlagAddress);
  }
  return {};
}

bool GuestAnnouncedReset(const GuestMemory& mem) noexcept {
  const std::optional<uint16_t> flag = mem.ReadObj<uint16_t>(GuestAddress(kBiosResetFlagAddress));
  return flag == kResetFlagCold || flag == kResetFlagWarm;
}

}  // namespace mini_vmm::arch::x86_64
