// Session's execution control: c/s/C/S, vCont, the step-over of software
// breakpoints, and stop replies.
#include "vmm/base/format.h"
#include "vmm/base/log.h"
#include "vmm/gdb/commands.h"
#include "vmm/gdb/protocol/hex.h"
#include "vmm/gdb/replies.h"
#include "vmm/gdb/session.h"

namespace mini_vmm::gdb {
namespace {

// "vCont;c:1;s" -> one mode per vCPU: the first action naming a vCPU (or
// naming no thread, or all threads) wins; vCPUs no action names stay put.
// C and S carry a signal, which a kernel has no use for: treated as c and s.
std::optional<std::vector<ResumeAction>> ParseVContActions(std::string_view actions,
                                                           uint32_t vcpu_count) {
  std::vector<std::optional<ResumeMode>> modes(vcpu_count);
  while (!actions.empty()) {
    if (actions[0] != ';') return std::nullopt;
    actions.remove_prefix(1);
    const size_t end = std::min(actions.find(';'), actions.size());
    std::string_view action = actions.substr(0, end);
    actions.remove_prefix(end);
    const size_t colon = action.find(':');
    std::string_view verb = action.substr(0, colon);
    ResumeMode mode;
    if (verb == "c" || (verb.size() == 3 && verb[0] == 'C' && ParseHexNumber(verb.substr(1)))) {
      mode = ResumeMode::kContinue;
    } else if (verb == "s" ||
               (verb.size() == 3 && verb[0] == 'S' && ParseHexNumber(verb.substr(1)))) {
      mode = ResumeMode::kStep;
    } else if (verb == "t") {
      mode = ResumeMode::kStay;
    } else {
      return std::nullopt;
    }
    std::optional<ThreadId> thread = ThreadId{ThreadId::Kind::kAll};
    if (colon != std::string_view::npos) {
      thread = ParseThreadId(action.substr(colon + 1), vcpu_count);
      if (!thread) return std::nullopt;
    }
    for (VcpuIndex vcpu = 0; vcpu < vcpu_count; ++vcpu) {
      if (modes[vcpu]) continue;
      if (thread->kind != ThreadId::Kind::kOne || thread->vcpu == vcpu) modes[vcpu] = mode;
    }
  }
  std::vector<ResumeAction> result(vcpu_count);
  bool any_runs = false;
  for (VcpuIndex vcpu = 0; vcpu < vcpu_count; ++vcpu) {
    result[vcpu].mode = modes[vcpu].value_or(ResumeMode::kStay);
    any_runs |= result[vcpu].mode != ResumeMode::kStay;
  }
  // All-stop: a resume that runs nothing would never report a stop.
  if (!any_runs) return std::nullopt;
  return result;
}

}  // namespace

std::string Session::HandleVCont(std::string_view packet) {
  if (packet == "vCont?") return "vCont;c;C;s;S;t";
  if (packet.substr(0, 6) != "vCont;") return std::string(reply::kUnsupported);
  std::optional<std::vector<ResumeAction>> actions =
      ParseVContActions(packet.substr(5), target_.VcpuCount());
  if (!actions) return std::string(reply::kMalformed);
  return BeginResume(std::move(*actions));
}

// c[addr], s[addr], Csig[;addr], Ssig[;addr]: all vCPUs continue, or the
// Hc thread steps alone.
std::string Session::HandleContinue(std::string_view packet) {
  const char verb = packet[0];
  std::string_view rest = packet.substr(1);
  if (verb == 'C' || verb == 'S') {
    const size_t semicolon = std::min(rest.find(';'), rest.size());
    if (!ParseHexNumber(rest.substr(0, semicolon))) return std::string(reply::kMalformed);
    rest.remove_prefix(semicolon == rest.size() ? semicolon : semicolon + 1);
  }
  if (!rest.empty()) {
    std::optional<uint64_t> address = ParseHexNumber(rest);
    if (!address) return std::string(reply::kMalformed);
    RegisterFile registers;
    if (!target_.ReadRegisters(continue_thread_, registers).ok()) {
      return std::string(reply::kTargetError);
    }
    registers.Set(Register::kRip, *address);
    if (!target_.WriteRegisters(continue_thread_, registers).ok()) {
      return std::string(reply::kTargetError);
    }
  }
  const bool step = verb == 's' || verb == 'S';
  std::vector<ResumeAction> actions(target_.VcpuCount());
  for (VcpuIndex vcpu = 0; vcpu < actions.size(); ++vcpu) {
    if (!step) actions[vcpu].mode = ResumeMode::kContinue;
  }
  if (step) actions[continue_thread_].mode = ResumeMode::kStep;
  return BeginResume(std::move(actions));
}

std::string Session::BeginResume(std::vector<ResumeAction> actions) {
  // All-stop with stops still pending: report one instead of running
  // anything. Its vCPU has not moved since it stopped.
  if (std::optional<StopEvent> kept = TakeDeferred(actions)) return TakeStop(*kept);
  // A vCPU sitting on one of gdb's int3s would trap on it again at once:
  // it first steps over the original instruction, alone.
  std::vector<StepOver> step_overs;
  for (VcpuIndex vcpu = 0; vcpu < actions.size(); ++vcpu) {
    if (actions[vcpu].mode == ResumeMode::kStay) continue;
    RegisterFile registers;
    if (!target_.ReadRegisters(vcpu, registers).ok()) return std::string(reply::kTargetError);
    const uint64_t pc = registers.Get(Register::kRip);
    if (breakpoints_.HasSoftware(pc)) step_overs.push_back({vcpu, pc});
  }
  pending_ = std::move(actions);
  step_overs_ = std::move(step_overs);
  state_ = State::kRunning;
  RunNextStepOver();
  return {};
}

void Session::RunNextStepOver() {
  if (step_overs_.empty()) {
    target_.Resume(pending_);
    return;
  }
  const StepOver next = step_overs_.back();
  step_overs_.pop_back();
  breakpoints_.Lift(next.address);
  stepping_over_ = next;
  std::vector<ResumeAction> actions(pending_.size());
  actions[next.vcpu].mode = ResumeMode::kStep;
  target_.Resume(actions);
}

bool Session::IsGuestBreakpoint(const StopEvent& event) const {
  return event.reason == StopEvent::Reason::kSoftwareBreakpoint &&
         !breakpoints_.HasSoftware(event.pc);
}

void Session::OnStops(std::span<const StopEvent> events) {
  if (state_ == State::kStopped) {
    for (const StopEvent& event : events) Defer(event);
    return;
  }
  if (state_ != State::kRunning) return;
  std::vector<StopEvent> reportable;
  bool stepped_off = false;
  for (const StopEvent& event : events) {
    if (event.vcpu >= pending_.size()) continue;
    // The step-over's own step: off the breakpoint. If gdb asked this vCPU
    // to step, that was the step, and it is reported.
    if (stepping_over_ && event.vcpu == stepping_over_->vcpu &&
        event.reason == StopEvent::Reason::kStep &&
        pending_[event.vcpu].mode != ResumeMode::kStep) {
      stepped_off = true;
      continue;
    }
    // The guest's own int3 (or one gdb removed meanwhile) is not gdb's
    // business; the guest gets its #BP below, or, if another stop is
    // reported now, hits the int3 again when it next runs.
    if (IsGuestBreakpoint(event)) continue;
    reportable.push_back(event);
  }
  if (stepping_over_) {
    breakpoints_.Rearm(stepping_over_->address);
    stepping_over_.reset();
    if (!stepped_off || !reportable.empty()) step_overs_.clear();  // The resume ends.
  }
  if (reportable.empty()) {
    if (stepped_off) {
      RunNextStepOver();
      return;
    }
    std::vector<ResumeAction> actions = pending_;
    for (const StopEvent& event : events) {
      if (event.vcpu >= actions.size() || !IsGuestBreakpoint(event)) continue;
      LOG_DEBUG_RATELIMITED("gdb: vCPU {} ran an int3 at {:#x} that gdb did not set: re-injected",
                            event.vcpu, event.pc);
      actions[event.vcpu].inject_breakpoint = true;
    }
    target_.Resume(actions);
    return;
  }
  ReportStop(reportable.front());
  for (size_t i = 1; i < reportable.size(); ++i) Defer(reportable[i]);
}

void Session::Defer(const StopEvent& event) {
  if (event.vcpu >= target_.VcpuCount() || IsGuestBreakpoint(event)) return;
  for (const StopEvent& kept : deferred_) {
    if (kept.vcpu == event.vcpu) return;
  }
  deferred_.push_back(event);
}

std::optional<StopEvent> Session::TakeDeferred(const std::vector<ResumeAction>& actions) {
  // gdb may have removed a kept breakpoint since: nothing to report there
  // any more (the vCPU sits before the original instruction).
  std::erase_if(deferred_, [this](const StopEvent& e) { return IsGuestBreakpoint(e); });
  for (auto it = deferred_.begin(); it != deferred_.end(); ++it) {
    if (it->vcpu < actions.size() && actions[it->vcpu].mode != ResumeMode::kStay) {
      const StopEvent event = *it;
      deferred_.erase(it);
      return event;
    }
  }
  return std::nullopt;
}

void Session::ReportStop(const StopEvent& event) { SendPacket(TakeStop(event)); }

std::string Session::TakeStop(const StopEvent& event) {
  state_ = State::kStopped;
  general_thread_ = event.vcpu;
  continue_thread_ = event.vcpu;
  last_stop_ = StopReply(event);
  return last_stop_;
}

std::string Session::StopReply(const StopEvent& event) const {
  constexpr std::string_view kTrap = "T05";  // SIGTRAP
  constexpr std::string_view kInt = "T02";   // SIGINT
  const std::string thread = "thread:" + FormatThreadId(event.vcpu) + ";";
  switch (event.reason) {
    case StopEvent::Reason::kSoftwareBreakpoint:
      return Format("{}swbreak:;{}", kTrap, thread);
    case StopEvent::Reason::kHardwareBreakpoint: {
      if (event.slot >= kDebugRegisterCount || !breakpoints_.slot(event.slot)) {
        return Format("{}{}", kTrap, thread);
      }
      const Breakpoints::Slot& slot = *breakpoints_.slot(event.slot);
      std::string_view kind = "hwbreak";
      if (slot.type == BreakpointType::kWriteWatch) kind = "watch";
      if (slot.type == BreakpointType::kReadWatch) kind = "rwatch";
      if (slot.type == BreakpointType::kAccessWatch) kind = "awatch";
      if (slot.type == BreakpointType::kHardware) return Format("{}hwbreak:;{}", kTrap, thread);
      return Format("{}{}:{:x};{}", kTrap, kind, slot.address, thread);
    }
    case StopEvent::Reason::kStep:
      return Format("{}{}", kTrap, thread);
    case StopEvent::Reason::kPaused:
      return Format("{}{}", kInt, thread);
  }
  return Format("{}{}", kTrap, thread);
}

}  // namespace mini_vmm::gdb
