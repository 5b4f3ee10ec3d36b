#include "vmm/gdb/x86_64_registers.h"

#include <cstring>

#include "vmm/base/check.h"
#include "vmm/base/format.h"
#include "vmm/gdb/protocol/hex.h"

namespace mini_vmm::gdb {
namespace {

using F = RegisterFeature;

constexpr std::array<RegisterInfo, kRegisterCount> MakeTable() {
  return {{
      {"rax", 64, "int64", "", F::kCore},
      {"rbx", 64, "int64", "", F::kCore},
      {"rcx", 64, "int64", "", F::kCore},
      {"rdx", 64, "int64", "", F::kCore},
      {"rsi", 64, "int64", "", F::kCore},
      {"rdi", 64, "int64", "", F::kCore},
      {"rbp", 64, "data_ptr", "", F::kCore},
      {"rsp", 64, "data_ptr", "", F::kCore},
      {"r8", 64, "int64", "", F::kCore},
      {"r9", 64, "int64", "", F::kCore},
      {"r10", 64, "int64", "", F::kCore},
      {"r11", 64, "int64", "", F::kCore},
      {"r12", 64, "int64", "", F::kCore},
      {"r13", 64, "int64", "", F::kCore},
      {"r14", 64, "int64", "", F::kCore},
      {"r15", 64, "int64", "", F::kCore},
      {"rip", 64, "code_ptr", "", F::kCore},
      {"eflags", 32, "i386_eflags", "", F::kCore},
      {"cs", 32, "int32", "", F::kCore},
      {"ss", 32, "int32", "", F::kCore},
      {"ds", 32, "int32", "", F::kCore},
      {"es", 32, "int32", "", F::kCore},
      {"fs", 32, "int32", "", F::kCore},
      {"gs", 32, "int32", "", F::kCore},
      {"st0", 80, "i387_ext", "", F::kCore},
      {"st1", 80, "i387_ext", "", F::kCore},
      {"st2", 80, "i387_ext", "", F::kCore},
      {"st3", 80, "i387_ext", "", F::kCore},
      {"st4", 80, "i387_ext", "", F::kCore},
      {"st5", 80, "i387_ext", "", F::kCore},
      {"st6", 80, "i387_ext", "", F::kCore},
      {"st7", 80, "i387_ext", "", F::kCore},
      {"fctrl", 32, "int", "float", F::kCore},
      {"fstat", 32, "int", "float", F::kCore},
      {"ftag", 32, "int", "float", F::kCore},
      {"fiseg", 32, "int", "float", F::kCore},
      {"fioff", 32, "int", "float", F::kCore},
      {"foseg", 32, "int", "float", F::kCore},
      {"fooff", 32, "int", "float", F::kCore},
      {"fop", 32, "int", "float", F::kCore},
      {"xmm0", 128, "vec128", "", F::kSse},
      {"xmm1", 128, "vec128", "", F::kSse},
      {"xmm2", 128, "vec128", "", F::kSse},
      {"xmm3", 128, "vec128", "", F::kSse},
      {"xmm4", 128, "vec128", "", F::kSse},
      {"xmm5", 128, "vec128", "", F::kSse},
      {"xmm6", 128, "vec128", "", F::kSse},
      {"xmm7", 128, "vec128", "", F::kSse},
      {"xmm8", 128, "vec128", "", F::kSse},
      {"xmm9", 128, "vec128", "", F::kSse},
      {"xmm10", 128, "vec128", "", F::kSse},
      {"xmm11", 128, "vec128", "", F::kSse},
      {"xmm12", 128, "vec128", "", F::kSse},
      {"xmm13", 128, "vec128", "", F::kSse},
      {"xmm14", 128, "vec128", "", F::kSse},
      {"xmm15", 128, "vec128", "", F::kSse},
      {"mxcsr", 32, "i386_mxcsr", "vector", F::kSse},
      {"orig_rax", 64, "int", "", F::kLinux},
      {"fs_base", 64, "int", "", F::kSegments},
      {"gs_base", 64, "int", "", F::kSegments},
      {"k_gs_base", 64, "int", "", F::kSystem},
      {"cr0", 64, "int", "", F::kSystem},
      {"cr2", 64, "int", "", F::kSystem},
      {"cr3", 64, "int", "", F::kSystem},
      {"cr4", 64, "int", "", F::kSystem},
      {"cr8", 64, "int", "", F::kSystem},
      {"efer", 64, "int", "", F::kSystem},
  }};
}

constexpr std::array<size_t, kRegisterCount + 1> MakeOffsets(
    const std::array<RegisterInfo, kRegisterCount>& table) {
  std::array<size_t, kRegisterCount + 1> offsets{};
  for (size_t i = 0; i < kRegisterCount; ++i) offsets[i + 1] = offsets[i] + table[i].bits / 8;
  return offsets;
}

constexpr std::array<size_t, kRegisterCount + 1> kOffsets = MakeOffsets(MakeTable());
static_assert(kOffsets[kRegisterCount] == kRegisterFileBytes);

size_t Index(Register reg) {
  const auto index = static_cast<size_t>(reg);
  VMM_CHECK(index < kRegisterCount);
  return index;
}

// Types the core and sse features refer to. Bit positions from the Intel
// SDM vol. 1, 3.4.3 (EFLAGS) and 10.2.3 (MXCSR).
constexpr std::string_view kCoreTypes = R"(  <flags id="i386_eflags" size="4">
    <field name="CF" start="0" end="0"/><field name="" start="1" end="1"/>
    <field name="PF" start="2" end="2"/><field name="AF" start="4" end="4"/>
    <field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/>
    <field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/>
    <field name="DF" start="10" end="10"/><field name="OF" start="11" end="11"/>
    <field name="NT" start="14" end="14"/><field name="RF" start="16" end="16"/>
    <field name="VM" start="17" end="17"/><field name="AC" start="18" end="18"/>
    <field name="VIF" start="19" end="19"/><field name="VIP" start="20" end="20"/>
    <field name="ID" start="21" end="21"/>
  </flags>
)";
constexpr std::string_view kSseTypes = R"(  <vector id="v8bf16" type="bfloat16" count="8"/>
  <vector id="v4f" type="ieee_single" count="4"/>
  <vector id="v2d" type="ieee_double" count="2"/>
  <vector id="v16i8" type="int8" count="16"/>
  <vector id="v8i16" type="int16" count="8"/>
  <vector id="v4i32" type="int32" count="4"/>
  <vector id="v2i64" type="int64" count="2"/>
  <union id="vec128">
    <field name="v8_bfloat16" type="v8bf16"/><field name="v4_float" type="v4f"/>
    <field name="v2_double" type="v2d"/><field name="v16_int8" type="v16i8"/>
    <field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/>
    <field name="v2_int64" type="v2i64"/><field name="uint128" type="uint128"/>
  </union>
  <flags id="i386_mxcsr" size="4">
    <field name="IE" start="0" end="0"/><field name="DE" start="1" end="1"/>
    <field name="ZE" start="2" end="2"/><field name="OE" start="3" end="3"/>
    <field name="UE" start="4" end="4"/><field name="PE" start="5" end="5"/>
    <field name="DAZ" start="6" end="6"/><field name="IM" start="7" end="7"/>
    <field name="DM" start="8" end="8"/><field name="ZM" start="9" end="9"/>
    <field name="OM" start="10" end="10"/><field name="UM" start="11" end="11"/>
    <field name="PM" start="12" end="12"/><field name="FZ" start="15" end="15"/>
  </flags>
)";

struct FeatureInfo {
  RegisterFeature feature;
  std::string_view name;
  std::string_view types;
};
constexpr std::array<FeatureInfo, 5> kFeatures = {{
    {F::kCore, "org.gnu.gdb.i386.core", kCoreTypes},
    {F::kSse, "org.gnu.gdb.i386.sse", kSseTypes},
    {F::kLinux, "org.gnu.gdb.i386.linux", ""},
    {F::kSegments, "org.gnu.gdb.i386.segments", ""},
    {F::kSystem, "org.mini-vmm.x86_64.system", ""},
}};

std::string BuildDescription() {
  std::string xml =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
      "<target version=\"1.0\">\n<architecture>i386:x86-64</architecture>\n";
  for (const FeatureInfo& feature : kFeatures) {
    xml += Format("<feature name=\"{}\">\n{}", feature.name, feature.types);
    for (size_t i = 0; i < kRegisterCount; ++i) {
      const RegisterInfo& reg = kRegisters[i];
      if (reg.feature != feature.feature) continue;
      xml += Format("  <reg name=\"{}\" bitsize=\"{}\" type=\"{}\" regnum=\"{}\"", reg.name,
                    reg.bits, reg.type, i);
      if (!reg.group.empty()) xml += Format(" group=\"{}\"", reg.group);
      xml += "/>\n";
    }
    xml += "</feature>\n";
  }
  xml += "</target>\n";
  return xml;
}

}  // namespace

const std::array<RegisterInfo, kRegisterCount> kRegisters = MakeTable();

size_t RegisterOffset(Register reg) { return kOffsets[Index(reg)]; }
size_t RegisterSize(Register reg) { return kRegisters[Index(reg)].bits / 8u; }

std::span<uint8_t> RegisterFile::Bytes(Register reg) {
  return std::span(bytes_).subspan(RegisterOffset(reg), RegisterSize(reg));
}

std::span<const uint8_t> RegisterFile::Bytes(Register reg) const {
  return std::span(bytes_).subspan(RegisterOffset(reg), RegisterSize(reg));
}

uint64_t RegisterFile::Get(Register reg) const {
  std::span<const uint8_t> bytes = Bytes(reg);
  VMM_CHECK(bytes.size() <= sizeof(uint64_t));
  uint64_t value = 0;
  std::memcpy(&value, bytes.data(), bytes.size());  // Little-endian host and target.
  return value;
}

void RegisterFile::Set(Register reg, uint64_t value) {
  std::span<uint8_t> bytes = Bytes(reg);
  VMM_CHECK(bytes.size() <= sizeof(uint64_t));
  std::memcpy(bytes.data(), &value, bytes.size());
}

std::string RegisterFile::ToHex() const {
  std::string hex;
  hex.reserve(2 * bytes_.size());
  AppendHexBytes(bytes_, hex);
  return hex;
}

bool RegisterFile::FromHex(std::string_view hex) {
  std::array<uint8_t, kRegisterFileBytes> parsed;
  if (!DecodeHexBytes(hex, parsed)) return false;
  bytes_ = parsed;
  return true;
}

const std::string& TargetDescription() {
  static const std::string description = BuildDescription();
  return description;
}

}  // namespace mini_vmm::gdb
