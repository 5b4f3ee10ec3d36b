// Runs a body in a forked child and reports how the child ended, for the few
// checks whose whole point is that the process aborts (VMM_CHECK, the
// dropped-chain check). Catch2 v2 has no death tests.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <functional>

namespace mini_vmm::testing {

// The signal that killed the child running `body`, or 0 if `body` returned.
inline int SignalThatEnds(const std::function<void()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);  // Expected aborts leave no core files.
    // The child inherits Catch2's fatal-signal handlers, which would report
    // the expected abort as a failure of the child's copy of the test run
    // (and, under ThreadSanitizer, allocate inside the handler, which TSan
    // reports and turns into exit 66 instead of the signal). Let the signal
    // simply end the child.
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP}) std::signal(sig, SIG_DFL);
    body();
    ::_exit(0);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

}  // namespace mini_vmm::testing
