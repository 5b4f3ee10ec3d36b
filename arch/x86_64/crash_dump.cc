#include "arch/x86_64/crash_dump.h"

#include "vmm/base/format.h"

namespace mini_vmm::arch::x86_64 {
namespace {

constexpr size_t kInstructions = 8;

}  // namespace

std::string FormatRegisters(const kvm_regs& r, const kvm_sregs& s) {
  std::string out;
  out +=
      Format("RIP={:016x} RSP={:016x} RBP={:016x} RFLAGS={:08x}\n", r.rip, r.rsp, r.rbp, r.rflags);
  out += Format("RAX={:016x} RBX={:016x} RCX={:016x} RDX={:016x}\n", r.rax, r.rbx, r.rcx, r.rdx);
  out += Format("RSI={:016x} RDI={:016x} R8 ={:016x} R9 ={:016x}\n", r.rsi, r.rdi, r.r8, r.r9);
  out += Format("R10={:016x} R11={:016x} R12={:016x} R13={:016x}\n", r.r10, r.r11, r.r12, r.r13);
  out += Format("R14={:016x} R15={:016x}\n", r.r14, r.r15);
  out += Format("CS={:04x} base={:x} l={} db={}  SS={:04x} DS={:04x} ES={:04x}\n", s.cs.selector,
                s.cs.base, s.cs.l, s.cs.db, s.ss.selector, s.ds.selector, s.es.selector);
  out += Format("CR0={:08x} CR2={:016x} CR3={:016x} CR4={:08x} EFER={:x}\n", s.cr0, s.cr2, s.cr3,
                s.cr4, s.efer);
  out += Format("GDT={:x}/{:x} IDT={:x}/{:x} APIC base={:x}\n", s.gdt.base, s.gdt.limit, s.idt.base,
                s.idt.limit, s.apic_base);
  return out;
}

std::string DescribeVcpu(const kvm::Vcpu& vcpu, const GuestMemory& mem) {
  auto regs = vcpu.GetRegs();
  auto sregs = vcpu.GetSregs();
  if (!regs.ok() || !sregs.ok()) {
    return Format("vCPU {}: registers unavailable ({})\n", vcpu.id(),
                  !regs.ok() ? regs.error().ToString() : sregs.error().ToString());
  }
  std::string out = Format("vCPU {} state:\n", vcpu.id());
  out += FormatRegisters(*regs, *sregs);
  auto code = ReadCodeAtPc(vcpu, mem);
  if (!code.ok()) return out + Format("code at RIP: {}\n", code.error().ToString());
  out += Format("code at RIP (guest-physical {:#x}):\n", code->gpa);
  out += Disassemble(code->bytes, code->pc, code->mode, kInstructions);
  return out;
}

}  // namespace mini_vmm::arch::x86_64
