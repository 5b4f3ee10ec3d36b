// EnterLongMode on a real vCPU: KVM tier (tests/support/kvm_main.cc).
#include "arch/x86_64/long_mode.h"

#include <catch2/catch.hpp>
#include <cstdint>

#include "arch/x86_64/platform/layout.h"
#include "tests/support/tiny_guest.h"

namespace mini_vmm::arch::x86_64 {
namespace {

TEST_CASE("EnterLongMode puts a real vCPU in 64-bit mode at the entry point") {
  constexpr uint64_t kEntry = testing::kTinyGuestCodeAddress;
  constexpr uint8_t kCode[] = {
      0x48, 0xb8, 0x42, 0, 0, 0, 0, 0, 0, 0x01,  // mov rax, 0x0100000000000042 (64-bit only)
      0xe6, 0x10,                                // out 0x10, al
  };
  auto guest = testing::MakeTinyGuest(kCode);
  REQUIRE(WriteBootTables(guest->mem).ok());

  REQUIRE(EnterLongMode(guest->vcpu, kEntry, kZeroPageAddress).ok());
  kvm::IoExit io = testing::RunUntilIoExit(guest->vcpu);

  CHECK(io.port == 0x10);
  REQUIRE(io.data.size() == 1);
  CHECK(io.data[0] == 0x42);
  auto regs = guest->vcpu.GetRegs();
  REQUIRE(regs.ok());
  CHECK(regs->rax == 0x0100'0000'0000'0042);
  CHECK(regs->rsi == kZeroPageAddress);
  auto sregs = guest->vcpu.GetSregs();
  REQUIRE(sregs.ok());
  CHECK((sregs->efer & 0x400) != 0);  // LMA
  CHECK(sregs->cs.l == 1);
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
