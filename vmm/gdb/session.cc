#include "vmm/gdb/session.h"

#include "vmm/base/log.h"
#include "vmm/gdb/commands.h"
#include "vmm/gdb/replies.h"

namespace mini_vmm::gdb {

Session::Session(Target& target, PacketSink& sink)
    : target_(target), sink_(sink), breakpoints_(target) {
  // gdb asks `?` first: the guest is held, as if it had just trapped (the
  // SIGTRAP reply gdb expects from a fresh target).
  last_stop_ = "T05thread:01;";
}

void Session::Receive(std::span<const uint8_t> bytes) {
  for (uint8_t byte : bytes) {
    if (state_ == State::kDetached || state_ == State::kKilled) return;
    if (std::optional<Frame> frame = decoder_.Feed(byte)) HandleFrame(std::move(*frame));
  }
}

void Session::HandleFrame(Frame frame) {
  switch (frame.kind) {
    case Frame::Kind::kAck:
      return;
    case Frame::Kind::kNak:
      if (!no_ack_ && !last_packet_.empty()) sink_.Send(last_packet_);
      return;
    case Frame::Kind::kInterrupt:
      HandleInterrupt();
      return;
    case Frame::Kind::kBadChecksum:
    case Frame::Kind::kOversized:
    case Frame::Kind::kBadEncoding:
      LOG_WARN_RATELIMITED("gdb: dropped a malformed packet from the client");
      // In no-ack mode there is no way to ask again: the packet is lost,
      // and gdb times out on its own.
      if (!no_ack_) sink_.Send("-");
      return;
    case Frame::Kind::kPacket:
      break;
  }
  if (!no_ack_) sink_.Send("+");
  if (state_ == State::kRunning) {
    // All-stop: gdb only sends Ctrl-C while the target runs.
    LOG_WARN_RATELIMITED("gdb: ignored a packet while the guest runs");
    return;
  }
  std::string reply = Dispatch(frame.payload);
  // Resumed (the stop reply comes later), killed (no reply) or detached
  // (HandleDetach answered before letting the guest go).
  if (state_ != State::kStopped) return;
  SendPacket(reply);
  // The OK to QStartNoAckMode is the last packet acknowledged.
  if (frame.payload == "QStartNoAckMode") no_ack_ = true;
}

void Session::SendPacket(std::string_view payload) {
  last_packet_ = EncodePacket(payload);
  sink_.Send(last_packet_);
}

std::string Session::Dispatch(std::string_view packet) {
  if (packet.empty()) return std::string(reply::kUnsupported);
  switch (packet[0]) {
    case '?':
      return last_stop_;
    case 'g':
      return Commands::ReadRegisters(*this);
    case 'G':
      return Commands::WriteRegisters(*this, packet);
    case 'p':
      return Commands::ReadRegister(*this, packet);
    case 'P':
      return Commands::WriteRegister(*this, packet);
    case 'm':
      return Commands::ReadMemory(*this, packet);
    case 'M':
      return Commands::WriteMemoryHex(*this, packet);
    case 'X':
      return Commands::WriteMemoryBinary(*this, packet);
    case 'Z':
    case 'z':
      return Commands::Breakpoint(*this, packet);
    case 'c':
    case 's':
    case 'C':
    case 'S':
      return HandleContinue(packet);
    case 'v':
      if (packet.substr(0, 5) == "vCont") return HandleVCont(packet);
      return std::string(reply::kUnsupported);
    case 'q':
      return Commands::Query(*this, packet);
    case 'Q':
      if (packet == "QStartNoAckMode") return std::string(reply::kOk);
      return std::string(reply::kUnsupported);
    case 'H':
      return Commands::SetThread(*this, packet);
    case 'T':
      return Commands::ThreadAlive(*this, packet);
    case 'D':
      return HandleDetach();
    case 'k':
      breakpoints_.RemoveAll();
      target_.Kill();
      state_ = State::kKilled;
      return {};
    default:
      return std::string(reply::kUnsupported);
  }
}

void Session::HandleInterrupt() {
  if (state_ != State::kRunning) return;  // Already stopped: nothing to do.
  target_.PauseAll();
  if (stepping_over_) {
    breakpoints_.Rearm(stepping_over_->address);
    stepping_over_.reset();
  }
  step_overs_.clear();
  state_ = State::kStopped;
  last_stop_ = StopReply(StopEvent{general_thread_, StopEvent::Reason::kPaused});
  SendPacket(last_stop_);
}

std::string Session::HandleDetach() {
  // "D" or "D;pid": there is one process, whichever pid gdb names.
  breakpoints_.RemoveAll();
  deferred_.clear();
  target_.Detach();
  state_ = State::kDetached;
  SendPacket(reply::kOk);
  return {};
}

void Session::Disconnect() {
  if (state_ == State::kDetached || state_ == State::kKilled) return;
  if (state_ == State::kRunning) target_.PauseAll();  // Breakpoints change only while paused.
  if (stepping_over_) breakpoints_.Rearm(stepping_over_->address);
  stepping_over_.reset();
  step_overs_.clear();
  breakpoints_.RemoveAll();
  deferred_.clear();
  target_.Detach();
  state_ = State::kDetached;
}

}  // namespace mini_vmm::gdb
