#include "vmm/runtime/process_signals.h"

#include <pthread.h>

#include <cerrno>

namespace mini_vmm {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

Result<void> SetUpProcessSignals() {
  for (int sig : {SIGPIPE, SIGXFSZ}) {
    if (::signal(sig, SIG_IGN) == SIG_ERR) {
      return Error::Errno(errno, "cannot ignore signal {}", sig);
    }
  }
  const sigset_t termination = TerminationSignals();
  if (const int err = ::pthread_sigmask(SIG_BLOCK, &termination, nullptr); err != 0) {
    return Error::Errno(err, "cannot block termination signals");
  }
  return {};
}

}  // namespace mini_vmm
