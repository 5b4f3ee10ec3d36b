// Process-wide signal dispositions, set first thing in main() before any
// thread exists (threads inherit the mask):
//  - SIGINT, SIGTERM, SIGHUP are blocked in every thread and read from a
//    signalfd by the main loop (Machine::Run), so they always stop the VM
//    cleanly (terminal restored, exit status 0) instead of killing mini-vmm
//    on whichever thread the kernel picks.
//  - SIGPIPE is ignored: guest output to a closed pipe must not kill the VMM.
//  - SIGXFSZ is ignored: a file-size limit (RLIMIT_FSIZE) then shows up as
//    EFBIG from the call that hit it, which is reported, instead of killing
//    mini-vmm silently.
#pragma once

#include <signal.h>

#include "vmm/base/result.h"

namespace mini_vmm {

// SIGINT, SIGTERM and SIGHUP.
sigset_t TerminationSignals();

Result<void> SetUpProcessSignals();

}  // namespace mini_vmm
