// What a developer needs when a guest dies: registers and the instructions
// at RIP, disassembled with capstone.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>
#include <string>

#include "vmm/kvm/vcpu.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::arch::x86_64 {

enum class CpuMode { kReal16, kProtected32, kLong64 };

// Pure: the mode the code segment and control registers put the CPU in.
CpuMode ModeOf(const kvm_sregs& sregs);
std::string FormatRegisters(const kvm_regs& regs, const kvm_sregs& sregs);
// Up to `max_instructions` lines "address: bytes  mnemonic operands"; stops
// at the first undecodable byte and says so.
std::string Disassemble(std::span<const uint8_t> code, uint64_t address, CpuMode mode,
                        size_t max_instructions);

// Registers plus the disassembly at RIP; never fails (missing pieces are
// described instead).
std::string DescribeVcpu(const kvm::Vcpu& vcpu, const GuestMemory& mem);

}  // namespace mini_vmm::arch::x86_64
