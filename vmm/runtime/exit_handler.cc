#include "vmm/runtime/exit_handler.h"

#include <algorithm>

#include "arch/x86_64/reset_vector.h"
#include "vmm/base/format.h"
#include "vmm/base/log.h"

namespace mini_vmm {
namespace {

// An access nobody claims reads as all-ones (a floating ISA bus) and writes
// are dropped. Linux probes many such ports at boot (COM2-4, VGA, POST
// 0x80, fw_cfg, PCI config without PCI), so this is debug-level and
// rate-limited: a guest can hammer any port it likes.
void Unclaimed(const char* space, uint64_t address, std::span<uint8_t> data, bool is_write) {
  if (!is_write) std::fill(data.begin(), data.end(), 0xff);
  LOG_DEBUG_RATELIMITED("unclaimed {} {} at {:#x} ({} bytes)", space, is_write ? "write" : "read",
                        address, data.size());
}

ExitOutcome HandleIo(const kvm::IoExit& io, const ExitContext& ctx) {
  for (uint32_t i = 0; i < io.count; ++i) {
    std::span<uint8_t> item = io.data.subspan(size_t{i} * io.size, io.size);
    const bool handled = io.is_write ? ctx.pio.Write(io.port, item, ctx.vcpu)
                                     : ctx.pio.Read(io.port, item, ctx.vcpu);
    if (!handled) Unclaimed("port", io.port, item, io.is_write);
  }
  return {};
}

ExitOutcome HandleMmio(const kvm::MmioExit& mmio, const ExitContext& ctx) {
  const bool handled = mmio.is_write ? ctx.mmio.Write(mmio.address, mmio.data, ctx.vcpu)
                                     : ctx.mmio.Read(mmio.address, mmio.data, ctx.vcpu);
  if (!handled) Unclaimed("MMIO", mmio.address, mmio.data, mmio.is_write);
  return {};
}

ExitOutcome Crash(std::string reason) { return {ExitAction::kCrash, std::move(reason)}; }

ExitOutcome HandleSystemEvent(const kvm::SystemEventExit& event) {
  switch (event.type) {
    case KVM_SYSTEM_EVENT_SHUTDOWN:
      return {ExitAction::kPowerOff, "KVM system event"};
    case KVM_SYSTEM_EVENT_RESET:
      return {ExitAction::kReset, "KVM system event"};
    case KVM_SYSTEM_EVENT_CRASH:
      return Crash("the guest reported a crash (KVM_SYSTEM_EVENT_CRASH)");
    default:
      return Crash(Format("unknown KVM system event {}", event.type));
  }
}

// Real boards and QEMU reset at every triple fault. mini-vmm resets only
// when the guest announced a restart in the BIOS reset flag first (Linux's
// `reboot=triple`, or the last resort of its restart chain); any other
// triple fault is almost always a crash and exits 1 with a register dump.
ExitOutcome HandleTripleFault(const ExitContext& ctx) {
  if (arch::x86_64::GuestAnnouncedReset(ctx.memory)) {
    return {ExitAction::kReset, "triple fault after the guest announced a restart"};
  }
  // AMD SVM reinitializes the VMCB on a shutdown intercept, so on AMD
  // hosts the state read afterwards is the reset state, not the fault's.
  return Crash(
      "triple fault: the guest hit an exception it could not handle (on AMD hosts KVM resets "
      "the vCPU at a triple fault: the registers below may be the reset state)");
}

struct Dispatcher {
  const ExitContext& ctx;

  ExitOutcome operator()(const kvm::IoExit& io) const { return HandleIo(io, ctx); }
  ExitOutcome operator()(const kvm::MmioExit& mmio) const { return HandleMmio(mmio, ctx); }
  // With the in-kernel LAPIC, HLT waits inside KVM; an exit here only
  // means KVM wants to give userspace a look. Running again is correct.
  ExitOutcome operator()(const kvm::HltExit&) const { return {}; }
  ExitOutcome operator()(const kvm::InterruptedExit&) const { return {}; }
  // KVM only reports debug events while a debugger armed them
  // (KVM_SET_GUEST_DEBUG); the vCPU loop hands them to it.
  ExitOutcome operator()(const kvm::DebugExit&) const {
    return {ExitAction::kDebug, "debug event"};
  }
  ExitOutcome operator()(const kvm::ShutdownExit&) const { return HandleTripleFault(ctx); }
  ExitOutcome operator()(const kvm::FailEntryExit& e) const {
    return Crash(Format("KVM could not enter the guest (hardware reason {:#x} on CPU {})",
                        e.hardware_reason, e.cpu));
  }
  ExitOutcome operator()(const kvm::InternalErrorExit& e) const {
    std::string data;
    for (uint64_t d : e.data()) data += Format(" {:#x}", d);
    return Crash(Format("KVM internal error, suberror {}{}{}", e.suberror,
                        data.empty() ? "" : ", data", data));
  }
  ExitOutcome operator()(const kvm::SystemEventExit& e) const { return HandleSystemEvent(e); }
  ExitOutcome operator()(const kvm::RunFailedExit& e) const {
    return Crash(Format("KVM_RUN failed: {}", std::strerror(e.error)));
  }
  ExitOutcome operator()(const kvm::UnknownExit& e) const {
    return Crash(Format("unexpected KVM exit reason {}", e.reason));
  }
};

}  // namespace

ExitOutcome HandleExit(const kvm::VcpuExit& exit, const ExitContext& context) noexcept {
  try {
    return std::visit(Dispatcher{context}, exit);
  } catch (...) {
    // Only formatting can throw (allocation failure).
    return {ExitAction::kCrash, "out of memory while handling a vCPU exit"};
  }
}

}  // namespace mini_vmm
