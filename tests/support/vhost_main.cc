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
#define CATCH_CONFIG_RUNNER
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

constexpr int kSkipExitCode = 77;

bool VhostRequired() {
  const char* value = std::getenv("MINI_VMM_REQUIRE_VHOST");
  return value != nullptr && std::string_view(value) == "1";
}

bool RunsTests(const Catch::ConfigData& config) {
  return !(config.listTests || config.listTestNamesOnly || config.listTags ||
           config.listReporters || config.showHelp || config.libIdentify);
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

}  // namespace

int main(int argc, char* argv[]) {
  Catch::Session session;
  if (int status = session.applyCommandLine(argc, argv); status != 0) return status;

  if (RunsTests(session.configData())) {
    std::string why = CannotOpen("/dev/vhost-net");
    if (why.empty()) why = CannotOpen("/dev/net/tun");
    if (why.empty() && ::geteuid() != 0) why = "the tests create taps, which needs root";
    if (!why.empty()) {
      if (VhostRequired()) {
        std::fprintf(stderr, "vhost tier: MINI_VMM_REQUIRE_VHOST=1 but %s\n", why.c_str());
        return 1;
      }
      std::printf("vhost tier skipped: %s\n", why.c_str());
      return kSkipExitCode;
    }
  }
  return session.run() == 0 ? 0 : 1;
}
