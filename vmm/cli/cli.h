// The command line: `mini-vmm run --kernel ... [options]`. CLI11 (and its
// exceptions) stays inside this file; the rest of mini-vmm sees a VmConfig.
#pragma once

#include <ostream>

#include "vmm/config/config.h"

namespace mini_vmm::cli {

// Exit codes of the mini-vmm process.
inline constexpr int kExitOk = 0;           // Guest powered off or rebooted; --help.
inline constexpr int kExitGuestFailed = 1;  // Triple fault, KVM entry failure, VMM error.
inline constexpr int kExitUsage = 2;        // Bad command line or configuration.

struct ParsedCommandLine {
  bool run = false;   // False: help/version/error already printed.
  int exit_code = 0;  // Meaningful when !run.
  VmConfig config;
};

// Parses argv; prints help, version and errors (one sentence plus a hint to
// --help) to the given streams. Never throws.
ParsedCommandLine ParseCommandLine(int argc, const char* const* argv, std::ostream& out,
                                   std::ostream& err);

}  // namespace mini_vmm::cli
