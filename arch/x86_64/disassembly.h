// Guest code at RIP, disassembled with capstone. Shared by the crash dump
// (crash_dump.h: several instructions after the registers) and the exit
// trace (vmm/runtime/exit_tracer.h: the one instruction that exited).
//
//   auto code = ReadCodeAtPc(vcpu, memory);
//   if (code.ok()) line += DisassembleFirst(*code);
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vmm/base/result.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::arch::x86_64 {

enum class CpuMode { kReal16, kProtected32, kLong64 };

// Pure: the mode the code segment and control registers put the CPU in.
CpuMode ModeOf(const kvm_sregs& sregs);

// Bytes of guest code, copied out of guest memory (so the guest cannot
// change them while capstone reads them).
struct GuestCode {
  uint64_t pc = 0;   // The address the code runs at (RIP), for the listing.
  uint64_t gpa = 0;  // Where the first byte is in guest-physical memory.
  CpuMode mode = CpuMode::kLong64;
  std::vector<uint8_t> bytes;  // Up to the end of the page holding `gpa`.
};

// The code at `vcpu`'s RIP: its registers, the guest's page tables (through
// KVM_TRANSLATE) and a checked read of guest memory. An error says which
// step failed (registers, not mapped, not RAM) in one sentence.
Result<GuestCode> ReadCodeAtPc(const kvm::Vcpu& vcpu, const GuestMemory& mem);

// Up to `max_instructions` lines "  address: bytes  mnemonic operands";
// stops at the first undecodable byte and says so.
std::string Disassemble(std::span<const uint8_t> code, uint64_t address, CpuMode mode,
                        size_t max_instructions);
// The first instruction of `code` on one line, "bytes  mnemonic operands"
// (no address, no newline), or a parenthesised reason it cannot be decoded.
std::string DisassembleFirst(const GuestCode& code);

}  // namespace mini_vmm::arch::x86_64
