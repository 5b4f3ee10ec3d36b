#include "arch/x86_64/crash_dump.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <vector>

#include "arch/x86_64/capstone_loader.h"
#include "arch/x86_64/platform/layout.h"
#include "vmm/base/format.h"

namespace mini_vmm::arch::x86_64 {
namespace {

constexpr uint64_t kCr0Pe = 1;
constexpr uint64_t kCr0Pg = 1ull << 31;
constexpr size_t kCodeBytes = 48;
constexpr size_t kInstructions = 8;

// The guest-physical address of `rip`, or nullopt if it is not mapped.
std::optional<uint64_t> CodeAddress(const kvm::Vcpu& vcpu, const kvm_regs& regs,
                                    const kvm_sregs& sregs) {
  const uint64_t linear = (ModeOf(sregs) == CpuMode::kLong64) ? regs.rip : sregs.cs.base + regs.rip;
  if ((sregs.cr0 & kCr0Pg) == 0) return linear;
  auto tr = vcpu.Translate(linear);
  if (!tr.ok() || tr->valid == 0) return std::nullopt;
  return tr->physical_address;
}

// As many code bytes as exist at `gpa`, up to kCodeBytes, without crossing
// into a page that may belong elsewhere.
std::vector<uint8_t> ReadCode(const GuestMemory& mem, uint64_t gpa) {
  const uint64_t to_page_end = kPageSize - (gpa % kPageSize);
  const uint64_t len = std::min<uint64_t>(kCodeBytes, to_page_end);
  auto slice = mem.GetSlice(GuestAddress(gpa), len);
  if (!slice) return {};
  return std::vector<uint8_t>(slice->begin(), slice->end());
}

}  // namespace

CpuMode ModeOf(const kvm_sregs& sregs) {
  if ((sregs.cr0 & kCr0Pe) == 0) return CpuMode::kReal16;
  if (sregs.cs.l != 0) return CpuMode::kLong64;
  return sregs.cs.db != 0 ? CpuMode::kProtected32 : CpuMode::kReal16;
}

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

std::string Disassemble(std::span<const uint8_t> code, uint64_t address, CpuMode mode,
                        size_t max_instructions) {
  const cs_mode cs = mode == CpuMode::kLong64        ? CS_MODE_64
                     : mode == CpuMode::kProtected32 ? CS_MODE_32
                                                     : CS_MODE_16;
  const CapstoneApi* capstone = Capstone();
  csh handle = 0;
  if (capstone == nullptr || capstone->open(CS_ARCH_X86, cs, &handle) != CS_ERR_OK) {
    return "(capstone unavailable)\n";
  }
  cs_insn* insn = nullptr;
  const size_t count =
      capstone->disasm(handle, code.data(), code.size(), address, max_instructions, &insn);
  std::string out;
  size_t decoded_bytes = 0;
  for (size_t i = 0; i < count; ++i) {
    std::string bytes;
    for (uint16_t b = 0; b < insn[i].size; ++b) bytes += Format("{:02x}", insn[i].bytes[b]);
    out += Format("  {:016x}: {:<20} {} {}\n", insn[i].address, bytes, insn[i].mnemonic,
                  insn[i].op_str);
    decoded_bytes += insn[i].size;
  }
  if (count < max_instructions && decoded_bytes < code.size()) {
    out +=
        Format("  {:016x}: {:02x} (cannot decode)\n", address + decoded_bytes, code[decoded_bytes]);
  }
  if (count > 0) capstone->free(insn, count);
  capstone->close(&handle);
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
  auto gpa = CodeAddress(vcpu, *regs, *sregs);
  if (!gpa) return out + "code at RIP: not mapped by the guest's page tables\n";
  std::vector<uint8_t> code = ReadCode(mem, *gpa);
  if (code.empty()) return out + Format("code at RIP: {:#x} is not guest RAM\n", *gpa);
  out += Format("code at RIP (guest-physical {:#x}):\n", *gpa);
  out += Disassemble(code, regs->rip, ModeOf(*sregs), kInstructions);
  return out;
}

}  // namespace mini_vmm::arch::x86_64
