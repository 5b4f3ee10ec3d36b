// The x86_64 register file as the stub presents it to gdb: one table that
// both the target description (qXfer:features:read:target.xml) and the
// g/G/p/P byte layout are generated from, so the two cannot disagree.
//
// gdb (13, Debian's) matches registers by name within the standard feature
// names, so the table follows its expectations:
//   org.gnu.gdb.i386.core      rax..r15, rip, eflags, the six selectors,
//                              st0-7 and the x87 control registers
//   org.gnu.gdb.i386.sse       xmm0-15, mxcsr
//   org.gnu.gdb.i386.linux     orig_rax (gdb's Linux ABI insists on it)
//   org.gnu.gdb.i386.segments  fs_base, gs_base
//   org.mini-vmm.x86_64.system k_gs_base, cr0, cr2, cr3, cr4, cr8, efer:
//                              not known to gdb by name; it shows them in
//                              `info registers` and lets `p $cr3` read them.
// Register numbers on the wire are the table's indices (given explicitly as
// regnum in the description). Values are little-endian, as on the target.
//
//   RegisterFile regs;
//   regs.Set(Register::kRip, 0xffffffff81000000);
//   std::string hex = regs.ToHex();          // the `g` reply
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mini_vmm::gdb {

enum class RegisterFeature : uint8_t { kCore, kSse, kLinux, kSegments, kSystem };

struct RegisterInfo {
  std::string_view name;
  uint16_t bits;
  std::string_view type;   // A gdb target-description type.
  std::string_view group;  // Empty: gdb's default group for the type.
  RegisterFeature feature;
};

// The wire numbers. Ranges (kSt0..kSt7, kXmm0..kXmm15) are contiguous.
// clang-format off
enum class Register : uint8_t {
  kRax, kRbx, kRcx, kRdx, kRsi, kRdi, kRbp, kRsp,
  kR8, kR9, kR10, kR11, kR12, kR13, kR14, kR15,
  kRip, kEflags, kCs, kSs, kDs, kEs, kFs, kGs,
  kSt0, kSt1, kSt2, kSt3, kSt4, kSt5, kSt6, kSt7,
  kFctrl, kFstat, kFtag, kFiseg, kFioff, kFoseg, kFooff, kFop,
  kXmm0, kXmm1, kXmm2, kXmm3, kXmm4, kXmm5, kXmm6, kXmm7,
  kXmm8, kXmm9, kXmm10, kXmm11, kXmm12, kXmm13, kXmm14, kXmm15,
  kMxcsr, kOrigRax, kFsBase, kGsBase,
  kKernelGsBase, kCr0, kCr2, kCr3, kCr4, kCr8, kEfer,
  kCount,
};
// clang-format on
inline constexpr size_t kRegisterCount = static_cast<size_t>(Register::kCount);

// The table, indexed by Register.
extern const std::array<RegisterInfo, kRegisterCount> kRegisters;

// Byte offset of each register in the `g` packet, and the total size.
size_t RegisterOffset(Register reg);
size_t RegisterSize(Register reg);
inline constexpr size_t kRegisterFileBytes = 616;  // Checked against the table.

// The whole register file of one vCPU in wire layout.
class RegisterFile {
 public:
  RegisterFile() { bytes_.fill(0); }

  std::span<uint8_t> Bytes(Register reg);
  std::span<const uint8_t> Bytes(Register reg) const;
  std::span<const uint8_t> all() const { return bytes_; }

  // Registers of 64 bits or fewer, zero-extended; larger ones (st, xmm)
  // through Bytes(). Set truncates to the register's width.
  uint64_t Get(Register reg) const;
  void Set(Register reg, uint64_t value);

  // The `g` reply: every register, lower-case hex.
  std::string ToHex() const;
  // A `G` payload; false (nothing changed) unless it is exactly the whole
  // file in hex.
  [[nodiscard]] bool FromHex(std::string_view hex);

  bool operator==(const RegisterFile&) const = default;

 private:
  std::array<uint8_t, kRegisterFileBytes> bytes_;
};

// The `target.xml` document.
const std::string& TargetDescription();

}  // namespace mini_vmm::gdb
