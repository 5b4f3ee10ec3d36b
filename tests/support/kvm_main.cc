// Catch2 main for the KVM tier: tests that need a real /dev/kvm (tiny
// guests, tests/support/tiny_guest.h). Catch2 v2 has no SKIP, and a test
// that returns early counts as passed, so the executable decides up front:
// where /dev/kvm does not open it says why and exits with kSkipExitCode,
// which ctest reports as "Not Run (Skipped)" (SKIP_RETURN_CODE, set in
// tests/CMakeLists.txt). Where it opens, the tests run and a KVM failure
// inside them fails them.
//
// MINI_VMM_REQUIRE_KVM=1 turns the skip into a failure: scripts/test sets it
// for the run inside scripts/nested, where /dev/kvm must exist, so an L1
// whose kvm_amd did not load cannot pass as "everything skipped".
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tests/support/catch_session.h"
#include "vmm/kvm/kvm.h"

namespace {

// automake's and ctest's conventional "skipped" status.
constexpr int kSkipExitCode = 77;

bool KvmRequired() {
  const char* value = std::getenv("MINI_VMM_REQUIRE_KVM");
  return value != nullptr && std::string_view(value) == "1";
}

// -1 (run the tests) where /dev/kvm opens, else skipped or failed.
int WithoutKvm() {
  auto kvm = mini_vmm::kvm::Kvm::Open();
  if (kvm.ok()) return -1;
  if (KvmRequired()) {
    std::fprintf(stderr, "KVM tier: MINI_VMM_REQUIRE_KVM=1 but %s\n",
                 kvm.error().ToString().c_str());
    return 1;
  }
  std::printf("KVM tier skipped: %s\n", kvm.error().ToString().c_str());
  return kSkipExitCode;
}

}  // namespace

int main(int argc, char* argv[]) { return mini_vmm::test::RunCatch(argc, argv, WithoutKvm); }
