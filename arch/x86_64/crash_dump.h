// What a developer needs when a guest dies: registers and the instructions
// at RIP, disassembled with capstone (disassembly.h, shared with the exit
// trace).
#pragma once

#include <linux/kvm.h>

#include <string>

#include "arch/x86_64/disassembly.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::arch::x86_64 {

std::string FormatRegisters(const kvm_regs& regs, const kvm_sregs& sregs);

// Registers plus the disassembly at RIP; never fails (missing pieces are
// described instead).
std::string DescribeVcpu(const kvm::Vcpu& vcpu, const GuestMemory& mem);

}  // namespace mini_vmm::arch::x86_64
