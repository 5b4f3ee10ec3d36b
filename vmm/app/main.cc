// mini-vmm: parse the command line, build the machine, run it, and turn
// how it ended into the process exit status.
#include <malloc.h>
#include <pthread.h>

#include <iostream>
#include <string>

#include "vmm/base/log.h"
#include "vmm/cli/cli.h"
#include "vmm/gdb/server.h"
#include "vmm/machine/machine.h"
#include "vmm/runtime/process_signals.h"

namespace {

using mini_vmm::StopReason;
namespace cli = mini_vmm::cli;

int ExitCodeFor(StopReason reason) {
  switch (reason) {
    case StopReason::kPowerOff:
    case StopReason::kReset:
    case StopReason::kUserQuit:
      return cli::kExitOk;
    case StopReason::kCrash:
    case StopReason::kNone:
      return cli::kExitGuestFailed;
  }
  return cli::kExitGuestFailed;
}

// Problems with what the user asked for are usage errors (status 2), found
// before anything is created. KVM's vCPU limit and the open-file limit are
// facts of this host, but a configuration beyond them is still the user's
// to fix. Returns 0 when the configuration can be built.
int CheckConfig(const mini_vmm::VmConfig& config) {
  if (auto valid = mini_vmm::ValidateConfig(config); !valid.ok()) {
    std::cerr << "mini-vmm: " << valid.error().ToString() << "\n";
    return cli::kExitUsage;
  }
  auto limits = mini_vmm::QueryHostLimits(config);
  if (!limits.ok()) {
    std::cerr << "mini-vmm: " << limits.error().ToString() << "\n";
    return cli::kExitGuestFailed;
  }
  if (auto fits = mini_vmm::ValidateHostLimits(config, *limits); !fits.ok()) {
    std::cerr << "mini-vmm: " << fits.error().ToString() << "\n";
    return cli::kExitUsage;
  }
  return cli::kExitOk;
}

int RunVm(const mini_vmm::VmConfig& config) {
  if (const int status = CheckConfig(config); status != cli::kExitOk) return status;
  // Bound before the VM is built: a port in use is the user's to fix.
  std::unique_ptr<mini_vmm::gdb::GdbServer> gdb;
  if (config.gdb) {
    auto listening = mini_vmm::gdb::GdbServer::Listen(*config.gdb);
    if (!listening.ok()) {
      std::cerr << "mini-vmm: " << listening.error().ToString() << "\n";
      return cli::kExitUsage;
    }
    gdb = std::move(*listening);
  }
  // Anything that fails once building the VM starts is a failure of the run.
  auto machine = mini_vmm::Machine::Create(config);
  if (!machine.ok()) {
    std::cerr << "mini-vmm: " << machine.error().ToString() << "\n";
    return cli::kExitGuestFailed;
  }
  auto stopped = (*machine)->Run(gdb.get());
  if (!stopped.ok()) {
    std::cerr << "mini-vmm: " << stopped.error().ToString() << "\n";
    return cli::kExitGuestFailed;
  }
  const StopReason reason = *stopped;
  if (reason == StopReason::kCrash) {
    std::cerr << "mini-vmm: " << mini_vmm::StopReasonName(reason) << ": "
              << (*machine)->stop_detail() << "\n";
  } else {
    // Which device or event stopped the guest: what a user debugging a
    // reboot that did not happen (or did) wants to know.
    const std::string detail = (*machine)->stop_detail();
    LOG_INFO("{}{}{}{}", mini_vmm::StopReasonName(reason), detail.empty() ? "" : " (", detail,
             detail.empty() ? "" : ")");
  }
  return ExitCodeFor(reason);
}

// Every thread mini-vmm starts (vCPUs, device I/O) needs little stack. The
// 8 MiB default is also large enough for transparent huge pages to back it
// with a 2 MiB page on hosts with THP "always": 2 MiB of RSS per thread.
void UseSmallThreadStacks() {
  constexpr size_t kThreadStackSize = 512 << 10;
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) return;
  if (pthread_attr_setstacksize(&attr, kThreadStackSize) == 0) {
    pthread_setattr_default_np(&attr);
  }
  pthread_attr_destroy(&attr);
}

// glibc gives each thread that allocates its own malloc arena (up to eight
// per core), each with pages of its own resident for good. mini-vmm's
// threads allocate rarely and never on their hot paths (vCPU exits, virtio
// requests), so one arena costs no contention worth having and saves tens
// of KiB per thread.
void UseOneMallocArena() { mallopt(M_ARENA_MAX, 1); }

}  // namespace

int main(int argc, char** argv) {
  mini_vmm::log::MarkProcessStart();
  UseSmallThreadStacks();
  UseOneMallocArena();
  if (auto signals = mini_vmm::SetUpProcessSignals(); !signals.ok()) {
    std::cerr << "mini-vmm: " << signals.error().ToString() << "\n";
    return cli::kExitGuestFailed;
  }
  const cli::ParsedCommandLine parsed = cli::ParseCommandLine(argc, argv, std::cout, std::cerr);
  if (!parsed.run) return parsed.exit_code;
  mini_vmm::log::SetLevel(parsed.config.log_level);
  return RunVm(parsed.config);
}
