// DescribeVcpu and the code at RIP on a real vCPU: KVM tier (tests/support/kvm_main.cc).
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "arch/x86_64/crash_dump.h"
#include "tests/support/tiny_guest.h"

namespace mini_vmm::arch::x86_64 {
namespace {

using Catch::Contains;

TEST_CASE("DescribeVcpu shows the registers and disassembles the code at RIP") {
  constexpr uint8_t kCode[] = {
      0xb0, 0x42,  // mov al, 0x42
      0xe6, 0x10,  // out 0x10, al
      0xe6, 0x11,  // out 0x11, al
  };
  auto guest = testing::MakeTinyGuest(kCode);
  (void)testing::RunUntilIoExit(guest->vcpu);

  std::string text = DescribeVcpu(guest->vcpu, guest->mem);

  CHECK_THAT(text, Contains("vCPU 0 state:"));
  // At a PIO exit RIP is still at the OUT: KVM completes it on the next
  // KVM_RUN (see kvm_smoke_test.cc).
  CHECK_THAT(text, Contains("RIP=0000000000001002"));
  CHECK_THAT(text, Contains("code at RIP (guest-physical 0x1002):"));
  CHECK_THAT(text, Contains("0000000000001002: e610                 out 0x10, al"));
}

TEST_CASE("ReadCodeAtPc and DisassembleFirst give the instruction that exited, for the trace") {
  constexpr uint8_t kCode[] = {
      0xb0, 0x42,  // mov al, 0x42
      0xe6, 0x10,  // out 0x10, al
  };
  auto guest = testing::MakeTinyGuest(kCode);
  (void)testing::RunUntilIoExit(guest->vcpu);

  Result<GuestCode> code = ReadCodeAtPc(guest->vcpu, guest->mem);

  REQUIRE(code.ok());
  CHECK(code->pc == 0x1002);
  CHECK(code->gpa == 0x1002);
  CHECK(DisassembleFirst(*code) == "e610  out 0x10, al");
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
