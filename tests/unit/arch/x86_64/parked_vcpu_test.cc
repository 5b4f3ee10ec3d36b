#include "arch/x86_64/parked_vcpu.h"

#include <catch2/catch.hpp>

namespace mini_vmm::arch::x86_64 {
namespace {

constexpr uint64_t kIf = 1u << 9;
constexpr uint64_t kReservedBit1 = 1u << 1;  // Always set in RFLAGS.

TEST_CASE("A vCPU halted with interrupts disabled is parked") {
  CHECK(IsParked(KVM_MP_STATE_HALTED, kReservedBit1));
}

TEST_CASE("A vCPU halted with interrupts enabled is idle, not parked") {
  CHECK_FALSE(IsParked(KVM_MP_STATE_HALTED, kReservedBit1 | kIf));
}

TEST_CASE("A runnable vCPU with interrupts disabled is not parked") {
  CHECK_FALSE(IsParked(KVM_MP_STATE_RUNNABLE, kReservedBit1));
}

TEST_CASE("An AP that was never started is parked") {
  CHECK(IsParked(KVM_MP_STATE_UNINITIALIZED, kReservedBit1 | kIf));
}

TEST_CASE("An AP waiting for its SIPI is parked") {
  CHECK(IsParked(KVM_MP_STATE_INIT_RECEIVED, kReservedBit1 | kIf));
}

TEST_CASE("A SIPI-received vCPU is about to run, not parked") {
  CHECK_FALSE(IsParked(KVM_MP_STATE_SIPI_RECEIVED, kReservedBit1));
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
