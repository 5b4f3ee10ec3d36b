#include "arch/x86_64/crash_dump.h"

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

namespace mini_vmm::arch::x86_64 {
namespace {

using Catch::Contains;

constexpr uint64_t kCr0Pe = 1;
constexpr uint64_t kCr0Pg = 1ull << 31;

// --- ModeOf -------------------------------------------------------------------

TEST_CASE("ModeOf is real mode when CR0.PE is clear") {
  kvm_sregs sregs{};
  sregs.cs.db = 1;  // Ignored without PE.

  CHECK(ModeOf(sregs) == CpuMode::kReal16);
}

TEST_CASE("ModeOf is 32-bit protected mode for a D=1 code segment") {
  kvm_sregs sregs{};
  sregs.cr0 = kCr0Pe;
  sregs.cs.db = 1;

  CHECK(ModeOf(sregs) == CpuMode::kProtected32);
}

TEST_CASE("ModeOf is 64-bit mode for an L=1 code segment") {
  kvm_sregs sregs{};
  sregs.cr0 = kCr0Pe | kCr0Pg;
  sregs.cs.l = 1;

  CHECK(ModeOf(sregs) == CpuMode::kLong64);
}

TEST_CASE("ModeOf decodes a D=0 protected-mode code segment as 16-bit") {
  kvm_sregs sregs{};
  sregs.cr0 = kCr0Pe;
  sregs.cs.db = 0;

  CHECK(ModeOf(sregs) == CpuMode::kReal16);
}

// --- Disassemble --------------------------------------------------------------

TEST_CASE("Disassemble shows address, bytes, mnemonic and operands in 64-bit mode") {
  constexpr std::array<uint8_t, 3> kCode = {0x48, 0x89, 0xe5};

  std::string text = Disassemble(kCode, 0xffffffff81000000, CpuMode::kLong64, 8);

  CHECK(text == "  ffffffff81000000: 4889e5               mov rbp, rsp\n");
}

TEST_CASE("Disassemble decodes ud2") {
  constexpr std::array<uint8_t, 2> kCode = {0x0f, 0x0b};

  std::string text = Disassemble(kCode, 0x1000, CpuMode::kLong64, 8);

  CHECK_THAT(text, Contains("ud2"));
  CHECK_THAT(text, Contains("0f0b"));
}

TEST_CASE("Disassemble decodes 16-bit code in real mode") {
  constexpr std::array<uint8_t, 4> kCode = {0xb0, 0x42, 0xe6, 0x10};

  std::string text = Disassemble(kCode, 0x1000, CpuMode::kReal16, 8);

  CHECK_THAT(text, Contains("mov al, 0x42"));
  CHECK_THAT(text, Contains("out 0x10, al"));
}

TEST_CASE("Disassemble decodes 32-bit code in protected mode") {
  // mov eax, 1 is b8 + imm32 in 32-bit mode (in 16-bit mode it would be imm16).
  constexpr std::array<uint8_t, 5> kCode = {0xb8, 0x01, 0x00, 0x00, 0x00};

  std::string text = Disassemble(kCode, 0x1000, CpuMode::kProtected32, 8);

  CHECK(text == "  0000000000001000: b801000000           mov eax, 1\n");
}

TEST_CASE("Disassemble reports the first undecodable byte and its address") {
  // 0x06 (push es) does not exist in 64-bit mode.
  constexpr std::array<uint8_t, 3> kCode = {0x90, 0x06, 0x90};

  std::string text = Disassemble(kCode, 0x2000, CpuMode::kLong64, 8);

  CHECK(text ==
        "  0000000000002000: 90                   nop \n"
        "  0000000000002001: 06 (cannot decode)\n");
}

TEST_CASE("Disassemble stops after max_instructions without reporting an error") {
  constexpr std::array<uint8_t, 3> kCode = {0x90, 0x90, 0x90};

  std::string text = Disassemble(kCode, 0x2000, CpuMode::kLong64, 2);

  CHECK(text ==
        "  0000000000002000: 90                   nop \n"
        "  0000000000002001: 90                   nop \n");
}

// --- FormatRegisters ----------------------------------------------------------

TEST_CASE("FormatRegisters shows RIP, the general registers and the control registers") {
  kvm_regs regs{};
  regs.rip = 0x100200;
  regs.rax = 0xabcdef;
  kvm_sregs sregs{};
  sregs.cr3 = 0x9000;

  std::string text = FormatRegisters(regs, sregs);

  CHECK_THAT(text, Contains("RIP=0000000000100200"));
  CHECK_THAT(text, Contains("RAX=0000000000abcdef"));
  CHECK_THAT(text, Contains("CR3=0000000000009000"));
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
