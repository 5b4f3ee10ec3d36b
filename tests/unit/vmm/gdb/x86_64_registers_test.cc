#include "vmm/gdb/x86_64_registers.h"

#include <catch2/catch.hpp>
#include <string>

#include "vmm/base/format.h"

namespace mini_vmm::gdb {
namespace {

TEST_CASE("Offsets follow the table, and the file is their sum") {
  CHECK(RegisterOffset(Register::kRax) == 0);
  CHECK(RegisterOffset(Register::kRip) == 128);
  CHECK(RegisterOffset(Register::kEflags) == 136);
  CHECK(RegisterOffset(Register::kCs) == 140);
  CHECK(RegisterOffset(Register::kSt0) == 164);
  CHECK(RegisterOffset(Register::kFctrl) == 244);
  CHECK(RegisterOffset(Register::kXmm0) == 276);
  CHECK(RegisterOffset(Register::kMxcsr) == 532);
  CHECK(RegisterOffset(Register::kEfer) == 608);
  CHECK(RegisterOffset(Register::kEfer) + RegisterSize(Register::kEfer) == kRegisterFileBytes);
}

TEST_CASE("Every register is in the target description with its number and size") {
  const std::string& xml = TargetDescription();
  for (size_t i = 0; i < kRegisterCount; ++i) {
    const RegisterInfo& reg = kRegisters[i];
    const std::string expected = Format("<reg name=\"{}\" bitsize=\"{}\" type=\"{}\" regnum=\"{}\"",
                                        reg.name, reg.bits, reg.type, i);
    INFO(expected);
    CHECK(xml.find(expected) != std::string::npos);
  }
}

TEST_CASE("The description names the features gdb's x86_64 support looks for") {
  const std::string& xml = TargetDescription();
  CHECK(xml.find("<architecture>i386:x86-64</architecture>") != std::string::npos);
  for (const char* feature : {"org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse",
                              "org.gnu.gdb.i386.linux", "org.gnu.gdb.i386.segments"}) {
    INFO(feature);
    CHECK(xml.find(Format("<feature name=\"{}\">", feature)) != std::string::npos);
  }
  // The system registers gdb shows in `info registers`.
  for (const char* name :
       {"cr0", "cr2", "cr3", "cr4", "cr8", "efer", "fs_base", "gs_base", "k_gs_base"}) {
    INFO(name);
    CHECK(xml.find(Format("name=\"{}\"", name)) != std::string::npos);
  }
}

TEST_CASE("The description has no bytes that need escaping in a packet") {
  CHECK(TargetDescription().find_first_of("$#}*") == std::string::npos);
}

TEST_CASE("Set and Get are little-endian at the register's offset") {
  RegisterFile file;
  file.Set(Register::kRip, 0x1122334455667788);
  file.Set(Register::kEflags, 0x246);
  const std::string hex = file.ToHex();
  CHECK(hex.substr(2 * 128, 16) == "8877665544332211");
  CHECK(hex.substr(2 * 136, 8) == "46020000");
  CHECK(file.Get(Register::kRip) == 0x1122334455667788);
}

TEST_CASE("Set truncates to the register's width") {
  RegisterFile file;
  file.Set(Register::kCs, 0xffff'0000'0010);
  CHECK(file.Get(Register::kCs) == 0x10);
  CHECK(file.Get(Register::kSs) == 0);
}

TEST_CASE("ToHex and FromHex round-trip the whole file") {
  RegisterFile file;
  file.Set(Register::kCr3, 0x1000);
  file.Bytes(Register::kXmm15)[15] = 0xab;
  RegisterFile copy;
  REQUIRE(copy.FromHex(file.ToHex()));
  CHECK(copy == file);
  CHECK(file.ToHex().size() == 2 * kRegisterFileBytes);
}

TEST_CASE("FromHex rejects a short file and leaves the registers alone") {
  RegisterFile file;
  file.Set(Register::kRax, 7);
  std::string hex = RegisterFile().ToHex();
  hex.pop_back();
  hex.pop_back();
  CHECK_FALSE(file.FromHex(hex));
  CHECK(file.Get(Register::kRax) == 7);
}

TEST_CASE("FromHex rejects a non-hex digit") {
  RegisterFile file;
  std::string hex = RegisterFile().ToHex();
  hex[10] = 'x';
  CHECK_FALSE(file.FromHex(hex));
}

}  // namespace
}  // namespace mini_vmm::gdb
