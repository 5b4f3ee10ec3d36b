// Session: one gdb client's conversation with the stub. Takes the bytes the
// client sends, answers through a PacketSink, and drives a Target in
// all-stop mode: while gdb holds the guest every vCPU is paused, and a
// resume lets them run until the first of them stops, when all pause again.
// Stops that race (several vCPUs stop before all are paused, or one stops
// as gdb's Ctrl-C pauses the guest) are all kept: the first is reported,
// the others stay pending, each reported by a later resume that includes
// its vCPU, without running anything (as gdbserver does). A pending
// software breakpoint gdb removed meanwhile is dropped: its int3 is gone.
//
//   Session session(target, sink);             // the target is paused
//   session.Receive(bytes_from_client);        // replies go to `sink`
//   ... the target reports a stop:
//   session.OnStop(event);                     // sends the stop reply
//   if (session.state() == Session::State::kKilled) ...
//   ... the client went away:
//   session.Disconnect();                      // the guest runs on
//
// The client is untrusted: every packet is parsed with bounded lengths,
// anything malformed gets an error reply (`E` and a hex errno) or, for an
// unknown packet, the empty reply the protocol uses for "not supported".
// Nothing a client sends makes the stub allocate beyond kMaxPacketSize per
// reply or stop the guest except through the commands meant to.
//
// Supported: ? g G p P m M X Z0-4 z0-4 c s C S vCont(?) H T D k qSupported
// qAttached qC qfThreadInfo qsThreadInfo qXfer:features:read:target.xml
// QStartNoAckMode. Acknowledgement mode until QStartNoAckMode; a NAK gets
// the last packet again.
//
// Threading: not thread-safe; one thread (the stub's) calls every method.
// The target must be paused when the Session is created.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vmm/gdb/breakpoints.h"
#include "vmm/gdb/protocol/packet.h"
#include "vmm/gdb/target.h"

namespace mini_vmm::gdb {

// Where the session's bytes go (the client's socket).
class PacketSink {
 public:
  virtual ~PacketSink() = default;
  virtual void Send(std::string_view bytes) = 0;
};

class Session {
 public:
  enum class State {
    kStopped,   // gdb holds the guest; every vCPU is paused.
    kRunning,   // Resumed; waiting for OnStop() or a Ctrl-C.
    kDetached,  // gdb detached (or went away): the guest runs, the session is over.
    kKilled,    // gdb said kill: the owner should end the virtual machine.
  };

  Session(Target& target, PacketSink& sink);

  // Bytes from the client, in any split.
  void Receive(std::span<const uint8_t> bytes);
  // The target stopped after a Resume(): `events` are the stops of
  // different vCPUs, oldest first. While kStopped (they raced with the
  // stop gdb was told of, or with a Ctrl-C) they are kept for the next
  // resume; ignored after a detach.
  void OnStops(std::span<const StopEvent> events);
  void OnStop(const StopEvent& event) { OnStops(std::span(&event, 1)); }
  // The client is gone: breakpoints removed, the guest runs (kDetached).
  void Disconnect();

  State state() const { return state_; }

 private:
  friend class Commands;

  void HandleFrame(Frame frame);
  void HandleInterrupt();
  void SendPacket(std::string_view payload);
  std::string Dispatch(std::string_view packet);

  // Execution control (session_resume.cc).
  std::string HandleContinue(std::string_view packet);
  std::string HandleVCont(std::string_view packet);
  std::string BeginResume(std::vector<ResumeAction> actions);
  void RunNextStepOver();
  void ReportStop(const StopEvent& event);
  // Makes `event` the current stop (threads, `?`) and returns its reply.
  std::string TakeStop(const StopEvent& event);
  std::string StopReply(const StopEvent& event) const;
  // Keeps `event` for a later resume (at most one per vCPU).
  void Defer(const StopEvent& event);
  // The oldest kept stop of a vCPU `actions` resumes, taken out; kept
  // software breakpoints gdb removed since are dropped on the way.
  std::optional<StopEvent> TakeDeferred(const std::vector<ResumeAction>& actions);
  bool IsGuestBreakpoint(const StopEvent& event) const;
  std::string HandleDetach();

  Target& target_;
  PacketSink& sink_;
  Breakpoints breakpoints_;
  PacketDecoder decoder_;
  State state_ = State::kStopped;
  bool no_ack_ = false;
  std::string last_packet_;        // For a NAK; at most kMaxPacketSize + 4 bytes.
  std::string last_stop_;          // The `?` reply.
  VcpuIndex general_thread_ = 0;   // Hg: registers and memory.
  VcpuIndex continue_thread_ = 0;  // Hc: the old c and s packets.

  // A resume in progress: one action per vCPU, and the vCPUs that must
  // first step off a software breakpoint at their PC, one at a time.
  struct StepOver {
    VcpuIndex vcpu;
    uint64_t address;
  };
  std::vector<ResumeAction> pending_;
  std::vector<StepOver> step_overs_;
  std::optional<StepOver> stepping_over_;
  // Stops not yet reported, oldest first; at most one per vCPU (a stopped
  // vCPU stays paused until its stop is reported).
  std::vector<StopEvent> deferred_;
};

}  // namespace mini_vmm::gdb
