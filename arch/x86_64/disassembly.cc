#include "arch/x86_64/disassembly.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <optional>

#include "arch/x86_64/capstone_loader.h"
#include "arch/x86_64/platform/layout.h"
#include "vmm/base/format.h"

namespace mini_vmm::arch::x86_64 {
namespace {

constexpr uint64_t kCr0Pe = 1;
constexpr uint64_t kCr0Pg = 1ull << 31;
// The longest x86 instruction is 15 bytes; a few of them for the dump.
constexpr size_t kCodeBytes = 48;

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

cs_mode CapstoneMode(CpuMode mode) {
  return mode == CpuMode::kLong64        ? CS_MODE_64
         : mode == CpuMode::kProtected32 ? CS_MODE_32
                                         : CS_MODE_16;
}

std::string HexBytes(const cs_insn& insn) {
  std::string bytes;
  for (uint16_t b = 0; b < insn.size; ++b) bytes += Format("{:02x}", insn.bytes[b]);
  return bytes;
}

// Runs `use(insn, count)` on what capstone decodes; false if capstone is
// not available.
template <typename Use>
bool Decode(std::span<const uint8_t> code, uint64_t address, CpuMode mode, size_t max, Use&& use) {
  const CapstoneApi* capstone = Capstone();
  csh handle = 0;
  if (capstone == nullptr ||
      capstone->open(CS_ARCH_X86, CapstoneMode(mode), &handle) != CS_ERR_OK) {
    return false;
  }
  cs_insn* insn = nullptr;
  const size_t count = capstone->disasm(handle, code.data(), code.size(), address, max, &insn);
  use(insn, count);
  if (count > 0) capstone->free(insn, count);
  capstone->close(&handle);
  return true;
}

}  // namespace

CpuMode ModeOf(const kvm_sregs& sregs) {
  if ((sregs.cr0 & kCr0Pe) == 0) return CpuMode::kReal16;
  if (sregs.cs.l != 0) return CpuMode::kLong64;
  return sregs.cs.db != 0 ? CpuMode::kProtected32 : CpuMode::kReal16;
}

Result<GuestCode> ReadCodeAtPc(const kvm::Vcpu& vcpu, const GuestMemory& mem) {
  const kvm_regs regs = TRY(vcpu.GetRegs());
  const kvm_sregs sregs = TRY(vcpu.GetSregs());
  const std::optional<uint64_t> gpa = CodeAddress(vcpu, regs, sregs);
  if (!gpa) return Error::Invalid("RIP {:#x} is not mapped by the guest's page tables", regs.rip);
  GuestCode code{.pc = regs.rip, .gpa = *gpa, .mode = ModeOf(sregs), .bytes = ReadCode(mem, *gpa)};
  if (code.bytes.empty())
    return Error::Invalid("RIP {:#x} is at {:#x}, not guest RAM", regs.rip, *gpa);
  return code;
}

std::string Disassemble(std::span<const uint8_t> code, uint64_t address, CpuMode mode,
                        size_t max_instructions) {
  std::string out;
  const bool decoded =
      Decode(code, address, mode, max_instructions, [&](cs_insn* insn, size_t count) {
        size_t decoded_bytes = 0;
        for (size_t i = 0; i < count; ++i) {
          out += Format("  {:016x}: {:<20} {} {}\n", insn[i].address, HexBytes(insn[i]),
                        insn[i].mnemonic, insn[i].op_str);
          decoded_bytes += insn[i].size;
        }
        if (count < max_instructions && decoded_bytes < code.size()) {
          out += Format("  {:016x}: {:02x} (cannot decode)\n", address + decoded_bytes,
                        code[decoded_bytes]);
        }
      });
  return decoded ? out : "(capstone unavailable)\n";
}

std::string DisassembleFirst(const GuestCode& code) {
  std::string out;
  const bool decoded = Decode(code.bytes, code.pc, code.mode, 1, [&](cs_insn* insn, size_t count) {
    if (count == 0) {
      out = code.bytes.empty() ? "(no code)" : Format("{:02x} (cannot decode)", code.bytes[0]);
      return;
    }
    out = Format("{}  {}{}{}", HexBytes(insn[0]), insn[0].mnemonic, insn[0].op_str[0] ? " " : "",
                 insn[0].op_str);
  });
  return decoded ? out : "(capstone unavailable)";
}

}  // namespace mini_vmm::arch::x86_64
