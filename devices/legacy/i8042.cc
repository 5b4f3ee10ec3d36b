#include "devices/legacy/i8042.h"

#include <array>
#include <utility>

#include "devices/legacy/byte_access.h"
#include "vmm/base/log.h"

namespace mini_vmm::devices {
namespace {

// Status register (read from 0x64); names as in Linux's i8042.h.
constexpr uint8_t kStatusOutputFull = 0x01;  // OBF: a byte waits at 0x60.
constexpr uint8_t kStatusSystemFlag = 0x04;  // SYS: POST passed.
constexpr uint8_t kStatusCommand = 0x08;     // The last write went to 0x64.
constexpr uint8_t kStatusUnlocked = 0x10;    // Keylock switch off.
// Never set: IBF 0x02 (commands complete instantly), AUXDATA 0x20 (no AUX
// port), TIMEOUT 0x40 and PARITY 0x80 (no line errors).

// Command byte (CTR) bits.
constexpr uint8_t kCtrKeyboardInterrupt = 0x01;
constexpr uint8_t kCtrSystemFlag = 0x04;
constexpr uint8_t kCtrKeyboardDisabled = 0x10;
constexpr uint8_t kCtrAuxDisabled = 0x20;
constexpr uint8_t kCtrTranslate = 0x40;
// As a BIOS leaves it: keyboard interrupt on, POST passed, set-1 translation.
constexpr uint8_t kDefaultCtr = kCtrKeyboardInterrupt | kCtrSystemFlag | kCtrTranslate;

// Output port bits; bit 0 drives the CPU reset line, active low.
constexpr uint8_t kOutputPortNotReset = 0x01;
constexpr uint8_t kOutputPortA20 = 0x02;
constexpr uint8_t kDefaultOutputPort = kOutputPortNotReset | kOutputPortA20;

// Controller commands (written to 0x64).
constexpr uint8_t kNoPendingCommand = 0x00;
constexpr uint8_t kCmdReadCtr = 0x20;
constexpr uint8_t kCmdWriteCtr = 0x60;
constexpr uint8_t kCmdAuxDisable = 0xa7;
constexpr uint8_t kCmdAuxEnable = 0xa8;
constexpr uint8_t kCmdAuxTest = 0xa9;
constexpr uint8_t kCmdSelfTest = 0xaa;
constexpr uint8_t kCmdKeyboardTest = 0xab;
constexpr uint8_t kCmdKeyboardDisable = 0xad;
constexpr uint8_t kCmdKeyboardEnable = 0xae;
constexpr uint8_t kCmdReadOutputPort = 0xd0;
constexpr uint8_t kCmdWriteOutputPort = 0xd1;
constexpr uint8_t kCmdWriteKeyboardOutput = 0xd2;
constexpr uint8_t kCmdWriteAuxOutput = 0xd3;  // Linux's AUX loop test.
constexpr uint8_t kCmdWriteAux = 0xd4;
// 0xF0-0xFF pulse output-port bits 3:0 low for each 0 bit of the command's
// low nibble; bit 0 is the reset line, so 0xFE is "pulse reset".
constexpr uint8_t kCmdPulseFirst = 0xf0;
constexpr uint8_t kPulseResetBit = 0x01;

// Controller answers.
constexpr uint8_t kSelfTestPassed = 0x55;
constexpr uint8_t kInterfaceTestPassed = 0x00;
constexpr uint8_t kInterfaceClockStuckLow = 0x01;
constexpr uint8_t kNoDevice = 0xfe;

// PS/2 keyboard commands and answers.
constexpr uint8_t kKbdCmdEcho = 0xee;
constexpr uint8_t kKbdCmdGetId = 0xf2;
constexpr uint8_t kKbdCmdReset = 0xff;
constexpr uint8_t kKbdAck = 0xfa;
constexpr uint8_t kKbdEcho = 0xee;
constexpr uint8_t kKbdSelfTestPassed = 0xaa;
constexpr uint8_t kKbdIdFirst = 0xab;
constexpr uint8_t kKbdIdSecond = 0x83;
constexpr uint8_t kKbdIdSecondTranslated = 0x41;

}  // namespace

I8042::I8042(std::function<void()> reset, EdgeInterrupt* keyboard_interrupt)
    : reset_(std::move(reset)),
      keyboard_interrupt_(keyboard_interrupt),
      ctr_(kDefaultCtr),
      output_port_(kDefaultOutputPort) {}

void I8042::Read(const IoAccess& access, std::span<uint8_t> data) noexcept {
  if (data.empty()) return;
  Deferred deferred;
  uint8_t value = kUndecodedByte;
  {
    std::lock_guard lock(mutex_);
    if (access.address == kCommandPort) {
      value = Status();
    } else if (access.address == kDataPort) {
      value = ReadData();
    }
    UpdateInterruptLine(deferred);
  }
  CompleteByteRead(data, value);
  Finish(deferred);
}

void I8042::Write(const IoAccess& access, std::span<const uint8_t> data) noexcept {
  const std::optional<uint8_t> value = WrittenByte(data);
  if (!value) return;
  Deferred deferred;
  {
    std::lock_guard lock(mutex_);
    if (access.address == kCommandPort) {
      last_write_was_command_ = true;
      WriteCommand(*value, deferred);
    } else if (access.address == kDataPort) {
      last_write_was_command_ = false;
      WriteData(*value, deferred);
    }
    UpdateInterruptLine(deferred);
  }
  Finish(deferred);
}

uint8_t I8042::Status() const {
  uint8_t status = kStatusSystemFlag | kStatusUnlocked;
  if (!output_.empty()) status |= kStatusOutputFull;
  if (last_write_was_command_) status |= kStatusCommand;
  return status;
}

uint8_t I8042::ReadData() {
  const std::optional<uint8_t> byte = output_.Pop();
  // An empty output buffer still holds its last byte on real parts.
  if (!byte) return last_output_;
  last_output_ = *byte;
  // Reading the buffer drops IRQ 1; the next queued byte raises it again.
  line_high_ = false;
  return *byte;
}

void I8042::WriteCommand(uint8_t command, Deferred& deferred) {
  // A new command abandons one still waiting for its parameter.
  pending_command_ = kNoPendingCommand;
  switch (command) {
    case kCmdWriteCtr:
    case kCmdWriteOutputPort:
    case kCmdWriteKeyboardOutput:
    case kCmdWriteAuxOutput:
    case kCmdWriteAux:
      pending_command_ = command;
      return;
    default:
      break;
  }
  if (command >= kCmdPulseFirst) {
    if ((command & kPulseResetBit) == 0) deferred.reset = true;
    return;
  }
  if (!WriteSimpleCommand(command)) {
    LOG_DEBUG_RATELIMITED("i8042: ignoring unknown controller command {:#04x}", command);
  }
}

bool I8042::WriteSimpleCommand(uint8_t command) {
  switch (command) {
    case kCmdReadCtr:
      Respond(ctr_);
      return true;
    case kCmdSelfTest:
      Respond(kSelfTestPassed);
      return true;
    case kCmdKeyboardTest:
      Respond(kInterfaceTestPassed);
      return true;
    case kCmdAuxTest:
      Respond(kInterfaceClockStuckLow);
      return true;
    case kCmdReadOutputPort:
      Respond(output_port_);
      return true;
    case kCmdKeyboardDisable:
      ctr_ |= kCtrKeyboardDisabled;
      return true;
    case kCmdKeyboardEnable:
      ctr_ &= static_cast<uint8_t>(~kCtrKeyboardDisabled);
      return true;
    case kCmdAuxDisable:
      ctr_ |= kCtrAuxDisabled;
      return true;
    case kCmdAuxEnable:
      ctr_ &= static_cast<uint8_t>(~kCtrAuxDisabled);
      return true;
    default:
      return false;
  }
}

void I8042::WriteData(uint8_t value, Deferred& deferred) {
  const uint8_t command = std::exchange(pending_command_, kNoPendingCommand);
  switch (command) {
    case kCmdWriteCtr:
      ctr_ = value;
      break;
    case kCmdWriteOutputPort:
      WriteOutputPort(value, deferred);
      break;
    case kCmdWriteKeyboardOutput:
      SendFromKeyboard(std::span<const uint8_t>(&value, 1));
      break;
    case kCmdWriteAuxOutput:
    case kCmdWriteAux:
      // No AUX port: see the header for why this answer fails fast.
      Respond(kNoDevice);
      break;
    default:
      KeyboardCommand(value);
      break;
  }
}

void I8042::KeyboardCommand(uint8_t command) {
  if (command == kKbdCmdEcho) {
    const std::array<uint8_t, 1> echo = {kKbdEcho};
    SendFromKeyboard(echo);
  } else if (command == kKbdCmdGetId) {
    const bool translated = (ctr_ & kCtrTranslate) != 0;
    const std::array<uint8_t, 3> id = {kKbdAck, kKbdIdFirst,
                                       translated ? kKbdIdSecondTranslated : kKbdIdSecond};
    SendFromKeyboard(id);
  } else if (command == kKbdCmdReset) {
    const std::array<uint8_t, 2> reset = {kKbdAck, kKbdSelfTestPassed};
    SendFromKeyboard(reset);
  } else {
    // Every other command (LEDs, typematic rate, scan set, enable...) and
    // every parameter byte is simply acknowledged.
    const std::array<uint8_t, 1> ack = {kKbdAck};
    SendFromKeyboard(ack);
  }
}

void I8042::WriteOutputPort(uint8_t value, Deferred& deferred) {
  output_port_ = value;
  if ((value & kOutputPortNotReset) == 0) deferred.reset = true;
}

void I8042::Respond(uint8_t value) {
  output_.Clear();
  output_.Push(value);
  output_from_keyboard_ = false;
  line_high_ = false;
}

void I8042::SendFromKeyboard(std::span<const uint8_t> bytes) {
  output_.Clear();
  output_.PushSome(bytes);
  output_from_keyboard_ = true;
  // A new answer replaces whatever was pending: a new byte, a new edge.
  line_high_ = false;
}

void I8042::UpdateInterruptLine(Deferred& deferred) {
  const bool high = keyboard_interrupt_ != nullptr && !output_.empty() && output_from_keyboard_ &&
                    (ctr_ & kCtrKeyboardInterrupt) != 0;
  deferred.trigger = high && !line_high_;
  line_high_ = high;
}

void I8042::Finish(const Deferred& deferred) noexcept {
  if (deferred.trigger) keyboard_interrupt_->Trigger();
  if (deferred.reset && reset_) reset_();
}

}  // namespace mini_vmm::devices
