// The reset-vector stub run by a real vCPU (KVM tier: skipped where
// /dev/kvm does not open).
#include <catch2/catch.hpp>

#include "arch/x86_64/platform/layout.h"
#include "arch/x86_64/reset_vector.h"
#include "tests/support/tiny_guest.h"

namespace mini_vmm::arch::x86_64 {
namespace {

TEST_CASE("The reset-vector stub, run in real mode, writes 0x06 to port 0xCF9") {
  const auto stub = ResetVectorStub();
  auto guest = testing::MakeTinyGuest(stub);

  const kvm::IoExit io = testing::RunUntilIoExit(guest->vcpu);

  CHECK(io.port == kResetControlPort);
  CHECK(io.is_write);
  REQUIRE(io.data.size() == 1);
  CHECK(io.data[0] == kStubResetValue);
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
