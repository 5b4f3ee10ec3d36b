#include "vmm/gdb/kvm/kvm_registers.h"

#include <array>
#include <cstring>

namespace mini_vmm::gdb {
namespace {

// The general-purpose registers in gdb's order, as kvm_regs members.
constexpr std::array<__u64 kvm_regs::*, 16> kGeneral = {
    &kvm_regs::rax, &kvm_regs::rbx, &kvm_regs::rcx, &kvm_regs::rdx, &kvm_regs::rsi, &kvm_regs::rdi,
    &kvm_regs::rbp, &kvm_regs::rsp, &kvm_regs::r8,  &kvm_regs::r9,  &kvm_regs::r10, &kvm_regs::r11,
    &kvm_regs::r12, &kvm_regs::r13, &kvm_regs::r14, &kvm_regs::r15,
};

constexpr std::array<kvm_segment kvm_sregs::*, 6> kSegments = {
    &kvm_sregs::cs, &kvm_sregs::ss, &kvm_sregs::ds, &kvm_sregs::es, &kvm_sregs::fs, &kvm_sregs::gs,
};

Register Nth(Register first, size_t n) {
  return static_cast<Register>(static_cast<size_t>(first) + n);
}

// gdb's ftag is the full x87 tag word (two bits per register, 11 empty);
// FXSAVE, and so KVM, keeps the abridged form (one bit, 1 = in use). A
// register in use is reported valid (00): telling zero and special values
// apart would need the register contents decoded, and gdb only uses the
// tag to print "Empty".
uint16_t FullTagWord(uint8_t abridged) {
  uint16_t full = 0;
  for (unsigned i = 0; i < 8; ++i) {
    if ((abridged & (1u << i)) == 0) full = static_cast<uint16_t>(full | (0b11u << (2 * i)));
  }
  return full;
}

uint8_t AbridgedTagWord(uint16_t full) {
  uint8_t abridged = 0;
  for (unsigned i = 0; i < 8; ++i) {
    if (((full >> (2 * i)) & 0b11) != 0b11) abridged = static_cast<uint8_t>(abridged | (1u << i));
  }
  return abridged;
}

constexpr size_t kX87RegisterBytes = 10;
constexpr size_t kXmmBytes = 16;

}  // namespace

RegisterFile ToRegisterFile(const KvmRegisterState& state) {
  RegisterFile file;
  for (size_t i = 0; i < kGeneral.size(); ++i) {
    file.Set(Nth(Register::kRax, i), state.regs.*kGeneral[i]);
  }
  file.Set(Register::kRip, state.regs.rip);
  file.Set(Register::kEflags, state.regs.rflags);
  for (size_t i = 0; i < kSegments.size(); ++i) {
    file.Set(Nth(Register::kCs, i), (state.sregs.*kSegments[i]).selector);
  }
  for (size_t i = 0; i < 8; ++i) {
    std::memcpy(file.Bytes(Nth(Register::kSt0, i)).data(), state.fpu.fpr[i], kX87RegisterBytes);
  }
  file.Set(Register::kFctrl, state.fpu.fcw);
  file.Set(Register::kFstat, state.fpu.fsw);
  file.Set(Register::kFtag, FullTagWord(state.fpu.ftwx));
  file.Set(Register::kFioff, state.fpu.last_ip & 0xffffffff);
  file.Set(Register::kFooff, state.fpu.last_dp & 0xffffffff);
  file.Set(Register::kFop, state.fpu.last_opcode);
  for (size_t i = 0; i < 16; ++i) {
    std::memcpy(file.Bytes(Nth(Register::kXmm0, i)).data(), state.fpu.xmm[i], kXmmBytes);
  }
  file.Set(Register::kMxcsr, state.fpu.mxcsr);
  // A kernel stopped by a debugger is in no system call.
  file.Set(Register::kOrigRax, ~uint64_t{0});
  file.Set(Register::kFsBase, state.sregs.fs.base);
  file.Set(Register::kGsBase, state.sregs.gs.base);
  file.Set(Register::kKernelGsBase, state.kernel_gs_base);
  file.Set(Register::kCr0, state.sregs.cr0);
  file.Set(Register::kCr2, state.sregs.cr2);
  file.Set(Register::kCr3, state.sregs.cr3);
  file.Set(Register::kCr4, state.sregs.cr4);
  file.Set(Register::kCr8, state.sregs.cr8);
  file.Set(Register::kEfer, state.sregs.efer);
  return file;
}

void FromRegisterFile(const RegisterFile& file, KvmRegisterState& state) {
  for (size_t i = 0; i < kGeneral.size(); ++i) {
    state.regs.*kGeneral[i] = file.Get(Nth(Register::kRax, i));
  }
  state.regs.rip = file.Get(Register::kRip);
  state.regs.rflags = file.Get(Register::kEflags);
  for (size_t i = 0; i < 8; ++i) {
    std::memcpy(state.fpu.fpr[i], file.Bytes(Nth(Register::kSt0, i)).data(), kX87RegisterBytes);
  }
  state.fpu.fcw = static_cast<uint16_t>(file.Get(Register::kFctrl));
  state.fpu.fsw = static_cast<uint16_t>(file.Get(Register::kFstat));
  state.fpu.ftwx = AbridgedTagWord(static_cast<uint16_t>(file.Get(Register::kFtag)));
  state.fpu.last_opcode = static_cast<uint16_t>(file.Get(Register::kFop));
  for (size_t i = 0; i < 16; ++i) {
    std::memcpy(state.fpu.xmm[i], file.Bytes(Nth(Register::kXmm0, i)).data(), kXmmBytes);
  }
  state.fpu.mxcsr = static_cast<uint32_t>(file.Get(Register::kMxcsr));
  state.sregs.fs.base = file.Get(Register::kFsBase);
  state.sregs.gs.base = file.Get(Register::kGsBase);
  state.kernel_gs_base = file.Get(Register::kKernelGsBase);
  state.sregs.cr0 = file.Get(Register::kCr0);
  state.sregs.cr2 = file.Get(Register::kCr2);
  state.sregs.cr3 = file.Get(Register::kCr3);
  state.sregs.cr4 = file.Get(Register::kCr4);
  state.sregs.cr8 = file.Get(Register::kCr8);
  state.sregs.efer = file.Get(Register::kEfer);
}

}  // namespace mini_vmm::gdb
