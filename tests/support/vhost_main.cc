// Catch2 main for the vhost tier: tests against the kernel's vhost-net and
// a real tap, in executables of their own. Like the KVM tier
// (kvm_main.cc), the executable decides up front: where /dev/vhost-net or
// /dev/net/tun does not open (module not loaded, not root) it says why and
// exits with kSkipExitCode, which ctest reports as "Not Run (Skipped)".
// The tests make their own taps, which takes root (CAP_NET_ADMIN): a user
// who may open both devices but is not root is skipped too.
//
// MINI_VMM_REQUIRE_VHOST=1 turns the skip into a failure: scripts/test sets
// it for the run inside scripts/nested, whose L1 loads tun and vhost_net and
// runs the tests as root, so a missing module cannot pass as "skipped".
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "tests/support/catch_session.h"

namespace {

constexpr int kSkipExitCode = 77;

bool VhostRequired() {
  const char* value = std::getenv("MINI_VMM_REQUIRE_VHOST");
  return value != nullptr && std::string_view(value) == "1";
}

// Empty if `path` opens read-write, else why not.
std::string CannotOpen(const char* path) {
  const int fd = ::open(path, O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
    return {};
  }
  return std::string("cannot open ") + path + ": " + std::strerror(errno);
}

// -1 (run the tests) where both devices open as root, else skipped or
// failed.
int WithoutVhost() {
  std::string why = CannotOpen("/dev/vhost-net");
  if (why.empty()) why = CannotOpen("/dev/net/tun");
  if (why.empty() && ::geteuid() != 0) why = "the tests create taps, which needs root";
  if (why.empty()) return -1;
  if (VhostRequired()) {
    std::fprintf(stderr, "vhost tier: MINI_VMM_REQUIRE_VHOST=1 but %s\n", why.c_str());
    return 1;
  }
  std::printf("vhost tier skipped: %s\n", why.c_str());
  return kSkipExitCode;
}

}  // namespace

int main(int argc, char* argv[]) { return mini_vmm::test::RunCatch(argc, argv, WithoutVhost); }
