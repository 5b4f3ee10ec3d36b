// Kvm::Open's errors, which need no /dev/kvm; the rest of Kvm is in the KVM
// tier (kvm_smoke_test.cc).
#include "vmm/kvm/kvm.h"

#include <catch2/catch.hpp>
#include <cerrno>

namespace mini_vmm::kvm {
namespace {

// --- Kvm::Open ----------------------------------------------------------------

TEST_CASE("Kvm::Open on a missing device says how to get one") {
  auto kvm = Kvm::Open("/nonexistent/kvm");

  REQUIRE_FALSE(kvm.ok());
  CHECK(kvm.error().errno_value() == ENOENT);
  CHECK(kvm.error().context() ==
        "cannot open /nonexistent/kvm (load kvm_intel or kvm_amd, or run on a host with hardware "
        "virtualization; scripts/nested runs mini-vmm inside a nested VM)");
}

TEST_CASE("Kvm::Open on a file that is not a KVM device says so") {
  auto kvm = Kvm::Open("/dev/null");

  REQUIRE_FALSE(kvm.ok());
  CHECK(kvm.error().ToString() == "/dev/null is not a KVM device: Inappropriate ioctl for device");
}

}  // namespace
}  // namespace mini_vmm::kvm
