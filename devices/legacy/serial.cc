#include "devices/legacy/serial.h"

#include <linux/serial_reg.h>

#include <utility>

#include "devices/legacy/byte_access.h"
#include "vmm/base/log.h"

namespace mini_vmm::devices {
namespace {

// IIR bits 7:6 with the FIFOs on: both set means "16550A" to the 8250 driver.
constexpr uint8_t kIirFifoEnabled = 0xc0;
// IER bits 7:4 are reserved on a 16550A and read as zero.
constexpr uint8_t kIerWritable = UART_IER_MSI | UART_IER_RLSI | UART_IER_THRI | UART_IER_RDI;
// MCR bits 7:5 are reserved on a 16550A and read as zero.
constexpr uint8_t kMcrWritable =
    UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_OUT1 | UART_MCR_RTS | UART_MCR_DTR;
// Outside loopback the (absent) modem is always ready: Linux waits for CTS
// when hardware flow control is on, and treats a missing DCD as a hang-up.
constexpr uint8_t kModemReady = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
// Transmission is instant, so the transmitter is always empty.
constexpr uint8_t kLsrTransmitterIdle = UART_LSR_THRE | UART_LSR_TEMT;
// Reset state as a BIOS leaves COM1: 9600 baud (115200 / 12), 8N1, OUT2 on.
constexpr uint8_t kDefaultDivisorLow = 12;
constexpr uint8_t kDefaultLcr = UART_LCR_WLEN8;
constexpr uint8_t kDefaultMcr = UART_MCR_OUT2;

// Modem-status deltas for a change of the modem inputs (MSR bits 7:4).
uint8_t ModemDeltas(uint8_t before, uint8_t after) {
  const uint8_t changed = before ^ after;
  uint8_t deltas = 0;
  if (changed & UART_MSR_CTS) deltas |= UART_MSR_DCTS;
  if (changed & UART_MSR_DSR) deltas |= UART_MSR_DDSR;
  // TERI is set on the trailing edge of RI only.
  if ((before & UART_MSR_RI) && !(after & UART_MSR_RI)) deltas |= UART_MSR_TERI;
  if (changed & UART_MSR_DCD) deltas |= UART_MSR_DDCD;
  return deltas;
}

}  // namespace

Serial::Serial(EdgeInterrupt& interrupt, ByteSink& output, std::function<void()> on_input_space)
    : interrupt_(interrupt),
      output_(output),
      on_input_space_(std::move(on_input_space)),
      lcr_(kDefaultLcr),
      mcr_(kDefaultMcr),
      dll_(kDefaultDivisorLow) {}

void Serial::Read(const IoAccess& access, std::span<uint8_t> data) noexcept {
  if (data.empty()) return;
  Deferred deferred;
  uint8_t value = 0;
  {
    std::lock_guard lock(mutex_);
    value = ReadRegister(access.offset, deferred);
    UpdateInterruptLine(deferred);
  }
  CompleteByteRead(data, value);
  Finish(deferred);
}

void Serial::Write(const IoAccess& access, std::span<const uint8_t> data) noexcept {
  const std::optional<uint8_t> value = WrittenByte(data);
  if (!value) return;
  Deferred deferred;
  {
    std::lock_guard lock(mutex_);
    WriteRegister(access.offset, *value, deferred);
    UpdateInterruptLine(deferred);
  }
  Finish(deferred);
}

size_t Serial::EnqueueInput(std::span<const uint8_t> bytes) noexcept {
  Deferred deferred;
  size_t accepted = 0;
  {
    std::lock_guard lock(mutex_);
    if (!Loopback()) accepted = rx_.PushSome(bytes);
    if (accepted < bytes.size()) input_refused_ = true;
    UpdateInterruptLine(deferred);
  }
  Finish(deferred);
  return accepted;
}

bool Serial::CanAcceptInput() noexcept {
  std::lock_guard lock(mutex_);
  const bool can_accept = !Loopback() && !rx_.full();
  if (!can_accept) input_refused_ = true;
  return can_accept;
}

uint8_t Serial::ReadRegister(uint64_t offset, Deferred& deferred) {
  switch (offset) {
    case UART_RX:
      return DivisorLatchSelected() ? dll_ : ReadRbr(deferred);
    case UART_IER:
      return DivisorLatchSelected() ? dlm_ : ier_;
    case UART_IIR:
      return ReadIir();
    case UART_LCR:
      return lcr_;
    case UART_MCR:
      return mcr_;
    case UART_LSR:
      return ReadLsr();
    case UART_MSR:
      return ReadMsr();
    case UART_SCR:
      return scr_;
    default:
      // The bus only routes offsets below kPortCount; this is a wiring bug.
      LOG_WARN_RATELIMITED("serial: read at offset {} outside the UART", offset);
      return kUndecodedByte;
  }
}

void Serial::WriteRegister(uint64_t offset, uint8_t value, Deferred& deferred) {
  switch (offset) {
    case UART_TX:
      if (DivisorLatchSelected()) {
        dll_ = value;
      } else {
        Transmit(value, deferred);
      }
      break;
    case UART_IER:
      if (DivisorLatchSelected()) {
        dlm_ = value;
      } else {
        WriteIer(value);
      }
      break;
    case UART_FCR:
      WriteFcr(value, deferred);
      break;
    case UART_LCR:
      lcr_ = value;
      break;
    case UART_MCR:
      WriteMcr(value, deferred);
      break;
    case UART_SCR:
      scr_ = value;
      break;
    case UART_LSR:
    case UART_MSR:
      // Factory-test writes on real parts; nothing to do here.
      break;
    default:
      LOG_WARN_RATELIMITED("serial: write at offset {} outside the UART", offset);
      break;
  }
}

uint8_t Serial::ReadRbr(Deferred& deferred) {
  // An empty receiver reads as 0 (a real part repeats its last byte; the
  // 8250 driver checks LSR.DR first and never relies on either).
  const uint8_t value = rx_.Pop().value_or(0);
  MaybeResumeInput(deferred);
  return value;
}

uint8_t Serial::ReadIir() {
  const uint8_t id = InterruptId();
  // 16550 datasheet: reading IIR while it reports THRE clears that interrupt.
  if (id == UART_IIR_THRI) thre_pending_ = false;
  return fifo_enabled_ ? (id | kIirFifoEnabled) : id;
}

uint8_t Serial::ReadLsr() {
  uint8_t lsr = kLsrTransmitterIdle;
  if (!rx_.empty()) lsr |= UART_LSR_DR;
  if (overrun_) lsr |= UART_LSR_OE;
  overrun_ = false;  // Error bits clear on read.
  return lsr;
}

uint8_t Serial::ReadMsr() {
  const uint8_t msr = ModemInputs() | msr_deltas_;
  msr_deltas_ = 0;  // Delta bits clear on read.
  return msr;
}

void Serial::Transmit(uint8_t value, Deferred& deferred) {
  if (Loopback()) {
    if (!rx_.Push(value)) overrun_ = true;
  } else {
    deferred.output = value;
  }
  // The byte leaves THR at once, so THR is empty again: a fresh THRE.
  thre_pending_ = true;
}

void Serial::WriteIer(uint8_t value) {
  const uint8_t before = ier_;
  ier_ = value & kIerWritable;
  const bool thri_before = (before & UART_IER_THRI) != 0;
  const bool thri_now = (ier_ & UART_IER_THRI) != 0;
  // Enabling THRI while THR is empty (always, here) raises THRE even if an
  // IIR read had cleared it: the 8250 driver's THRE test at startup toggles
  // IER.THRI and expects IIR to report THRE both times, or it marks the port
  // UART_BUG_THRE and falls back to polling it with a timer.
  if (!thri_before && thri_now) thre_pending_ = true;
  if (!thri_now) thre_pending_ = false;
}

void Serial::WriteFcr(uint8_t value, Deferred& deferred) {
  const bool enable = (value & UART_FCR_ENABLE_FIFO) != 0;
  // 16550 datasheet: changing FCR bit 0 clears both FIFOs; the clear bits
  // only act while the FIFOs are enabled. The transmit side is always empty.
  if (enable != fifo_enabled_ || (enable && (value & UART_FCR_CLEAR_RCVR))) {
    rx_.Clear();
    MaybeResumeInput(deferred);
  }
  fifo_enabled_ = enable;
}

void Serial::WriteMcr(uint8_t value, Deferred& deferred) {
  const uint8_t inputs_before = ModemInputs();
  mcr_ = value & kMcrWritable;
  msr_deltas_ |= ModemDeltas(inputs_before, ModemInputs());
  // Leaving loopback reconnects the host input.
  MaybeResumeInput(deferred);
}

bool Serial::DivisorLatchSelected() const { return (lcr_ & UART_LCR_DLAB) != 0; }

bool Serial::Loopback() const { return (mcr_ & UART_MCR_LOOP) != 0; }

uint8_t Serial::ModemInputs() const {
  if (!Loopback()) return kModemReady;
  // 16550 datasheet, loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
  uint8_t inputs = 0;
  if (mcr_ & UART_MCR_DTR) inputs |= UART_MSR_DSR;
  if (mcr_ & UART_MCR_RTS) inputs |= UART_MSR_CTS;
  if (mcr_ & UART_MCR_OUT1) inputs |= UART_MSR_RI;
  if (mcr_ & UART_MCR_OUT2) inputs |= UART_MSR_DCD;
  return inputs;
}

uint8_t Serial::InterruptId() const {
  if ((ier_ & UART_IER_RLSI) && overrun_) return UART_IIR_RLSI;
  if ((ier_ & UART_IER_RDI) && !rx_.empty()) return UART_IIR_RDI;
  if ((ier_ & UART_IER_THRI) && thre_pending_) return UART_IIR_THRI;
  if ((ier_ & UART_IER_MSI) && msr_deltas_ != 0) return UART_IIR_MSI;
  return UART_IIR_NO_INT;
}

void Serial::MaybeResumeInput(Deferred& deferred) {
  if (input_refused_ && !Loopback() && rx_.size() <= kInputResumeLevel) {
    input_refused_ = false;
    deferred.input_space = true;
  }
}

void Serial::UpdateInterruptLine(Deferred& deferred) {
  const bool pending = InterruptId() != UART_IIR_NO_INT;
  deferred.trigger = pending && !line_high_;
  line_high_ = pending;
}

void Serial::Finish(const Deferred& deferred) noexcept {
  if (deferred.output) {
    const uint8_t byte = *deferred.output;
    output_.WriteBytes(std::span<const uint8_t>(&byte, 1));
  }
  if (deferred.trigger) interrupt_.Trigger();
  if (deferred.input_space && on_input_space_) on_input_space_();
}

}  // namespace mini_vmm::devices
