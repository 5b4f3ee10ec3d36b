#include "vmm/runtime/process_signals.h"

#include <signal.h>

#include <catch2/catch.hpp>

#include "tests/support/death_test.h"

namespace mini_vmm {
namespace {

using testing::SignalThatEnds;

TEST_CASE("SetUpProcessSignals: a file-size limit signal no longer kills", "[signals]") {
  REQUIRE(SignalThatEnds([] { ::raise(SIGXFSZ); }) == SIGXFSZ);  // The default, for contrast.

  CHECK(SignalThatEnds([] {
          if (!SetUpProcessSignals().ok()) ::_exit(1);
          ::raise(SIGXFSZ);
        }) == 0);
}

TEST_CASE("SetUpProcessSignals: SIGTERM waits for the signalfd instead of killing", "[signals]") {
  CHECK(SignalThatEnds([] {
          if (!SetUpProcessSignals().ok()) ::_exit(1);
          ::raise(SIGTERM);
          ::raise(SIGPIPE);
          sigset_t pending;
          sigpending(&pending);
          if (!sigismember(&pending, SIGTERM)) ::abort();
        }) == 0);
}

}  // namespace
}  // namespace mini_vmm
