// Interrupting a thread blocked in a system call (KVM_RUN, write(2) on a
// stalled pipe): a real-time signal whose handler does nothing and is
// installed without SA_RESTART, so the call returns EINTR (or a partial
// count) and the thread can look at its stop flag.
//
//   TRY(InstallThreadKickHandler());   // once, before the first kick
//   stopping = true;                   // the flag the thread checks after EINTR
//   KickThread(thread.native_handle());
//
// A kick that lands just before the thread enters the call is lost; callers
// either make entry see the flag (KVM's immediate_exit) or kick again until
// the thread is gone.
#pragma once

#include <pthread.h>

#include "vmm/base/result.h"

namespace mini_vmm {

// The signal used for kicks (SIGRTMIN). Threads that may be kicked must not
// block it.
int ThreadKickSignal();

// Installs the no-op, no-SA_RESTART handler. Idempotent.
Result<void> InstallThreadKickHandler();

// Sends the kick signal to `thread`, which must not have been joined yet.
void KickThread(pthread_t thread) noexcept;

// Blocks every signal but the kick signal (and the synchronous ones, which
// cannot be blocked usefully) in the calling thread: helper threads leave
// termination signals to the thread that reads them from a signalfd.
void BlockAllSignalsButKick() noexcept;

}  // namespace mini_vmm
