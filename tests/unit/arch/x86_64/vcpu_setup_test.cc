// ConfigureVcpu needs a real vCPU: KVM tier only (tests/support/kvm_main.cc
// reports it skipped where /dev/kvm does not open).
#include "arch/x86_64/vcpu_setup.h"

#include <catch2/catch.hpp>
#include <string>

#include "arch/x86_64/lapic.h"
#include "tests/support/tiny_guest.h"

namespace mini_vmm::arch::x86_64 {
namespace {

TEST_CASE("ConfigureVcpu accepts KVM's own supported CPUID and MSR lists") {
  auto guest = testing::MakeTinyGuest({});
  auto cpuid = guest->kvm.GetSupportedCpuid();
  INFO((cpuid.ok() ? std::string() : cpuid.error().ToString()));
  REQUIRE(cpuid.ok());
  auto msrs = guest->kvm.GetMsrIndexList();
  INFO((msrs.ok() ? std::string() : msrs.error().ToString()));
  REQUIRE(msrs.ok());

  auto result = ConfigureVcpu(guest->vcpu, VcpuSetup{.index = 0,
                                                     .num_cpus = 2,
                                                     .supported_cpuid = *cpuid,
                                                     .supported_msrs = *msrs,
                                                     .tsc_deadline = false});

  INFO((result.ok() ? std::string() : result.error().ToString()));
  CHECK(result.ok());
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
