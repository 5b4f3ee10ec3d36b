#include "vmm/base/thread_kick.h"

#include <signal.h>

#include <cerrno>

namespace mini_vmm {
namespace {

void OnKick(int) {}

}  // namespace

int ThreadKickSignal() { return SIGRTMIN; }

Result<void> InstallThreadKickHandler() {
  struct sigaction action {};
  action.sa_handler = OnKick;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // No SA_RESTART: the interrupted call must return.
  if (::sigaction(ThreadKickSignal(), &action, nullptr) != 0) {
    return Error::Errno(errno, "cannot install the thread kick signal handler");
  }
  return {};
}

void KickThread(pthread_t thread) noexcept { ::pthread_kill(thread, ThreadKickSignal()); }

void BlockAllSignalsButKick() noexcept {
  sigset_t set;
  sigfillset(&set);
  sigdelset(&set, ThreadKickSignal());
  // Faults raised by the thread itself must still kill the process.
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS}) sigdelset(&set, sig);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace mini_vmm
