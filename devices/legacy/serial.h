// Serial: a 16550A UART as Linux's 8250 driver expects to find it on COM1.
//
//   auto serial = std::make_shared<Serial>(irq4, stdout_sink, [&] { stdin_room.Signal(); });
//   TRY(pio_bus.Insert(serial, x86_64::kCom1Port, Serial::kPortCount));  // platform/layout.h
//   // Event loop, when stdin is readable:
//   if (serial->CanAcceptInput()) {
//     size_t taken = serial->EnqueueInput(bytes);   // keep bytes[taken..] for later
//   }                                               // else wait for stdin_room
//
// Transmission is instant: each THR write reaches the sink before the guest's
// OUT instruction completes, so LSR always reports THRE|TEMT. The receiver is
// a host-side buffer of kInputCapacity bytes in FIFO and non-FIFO mode alike
// (the host never overruns the guest; it is told to retry instead).
//
// What Linux's 8250 autoconfig needs, and gets: IER keeps its low four bits,
// LCR/DLAB switch RBR/THR/IER to the divisor latch, SCR round-trips, MCR
// loopback mirrors DTR/RTS/OUT1/OUT2 into DSR/CTS/RI/DCD, and after
// FCR.ENABLE_FIFO the IIR top bits read 0xC0 (16550A) while bit 5 stays 0 and
// IER bit 6 does not stick (not a 16750, not an XScale). Any LCR with bit 7 set
// (including 0xBF) selects the divisor latch; there is no EFR, so probes that
// read "EFR" see IIR, which is never 0 with the FIFO on.
//
// Interrupts (IIR priority RLS > RDA > THRE > MSR; IER gates each one):
//   RLS  an overrun in loopback mode (the receive buffer was full);
//   RDA  received data is waiting;
//   THRE THR is empty: set when IER.THRI goes 0->1 and after each byte is
//        transmitted; cleared by reading IIR while it reports THRE (16550 spec)
//        or by clearing IER.THRI;
//   MSR  a modem-status delta (only loopback can change the modem inputs).
// The line is wired edge-triggered through KVM, so after every register access
// the device computes "some enabled interrupt is pending" and calls Trigger()
// only when that goes from false to true. Linux's handler loops until IIR
// reads NO_INT, which lowers the line, so the next condition is a new edge.
// MCR.OUT2 does not gate the line (QEMU and Firecracker do not gate it either;
// Linux sets OUT2 anyway).
//
// Threading: Read/Write run on any vCPU thread, EnqueueInput/CanAcceptInput on
// the event-loop thread. One mutex guards all register state. The sink,
// Trigger() and the input-space callback are called after the mutex is
// released, so a slow stdout (terminal flow control) never blocks the event
// loop and callbacks may call back into the device. Output order is the order
// of THR writes as long as the guest serializes them (Linux holds the port
// lock across each OUT, and the vCPU does not return from the OUT before the
// sink has the byte); a guest racing THR writes on two vCPUs may see them
// reordered, which is its own business.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>

#include "devices/bus/bus_device.h"
#include "devices/bus/interrupt.h"
#include "devices/legacy/bounded_queue.h"
#include "devices/legacy/byte_sink.h"

namespace mini_vmm::devices {

class Serial final : public BusDevice {
 public:
  static constexpr uint64_t kPortCount = 8;
  // Host input the device holds before EnqueueInput starts refusing bytes.
  static constexpr size_t kInputCapacity = 4096;
  // Once refused, the event loop is called back when the guest has drained
  // the buffer to this level, so it resumes with room for a full read.
  static constexpr size_t kInputResumeLevel = kInputCapacity / 2;

  // `interrupt` and `output` must outlive the device. `on_input_space` is
  // optional; when set, it is called (on a vCPU thread, no lock held, must not
  // throw, should be cheap: e.g. signal an eventfd) once after EnqueueInput
  // accepted fewer bytes than offered or CanAcceptInput returned false, as
  // soon as the receive buffer has drained to kInputResumeLevel and the UART
  // is out of loopback mode.
  Serial(EdgeInterrupt& interrupt, ByteSink& output, std::function<void()> on_input_space = {});

  std::string_view name() const override { return "serial"; }
  void Read(const IoAccess& access, std::span<uint8_t> data) noexcept override;
  void Write(const IoAccess& access, std::span<const uint8_t> data) noexcept override;

  // Host bytes for the guest (from the event-loop thread). Returns how many
  // leading bytes were taken; the caller keeps the rest and retries after the
  // input-space callback. Takes nothing while the guest has the UART in
  // loopback mode (the receiver then hears only the transmitter).
  size_t EnqueueInput(std::span<const uint8_t> bytes) noexcept;
  // Whether EnqueueInput would take at least one byte now. A false answer
  // arms the input-space callback.
  bool CanAcceptInput() noexcept;

 private:
  // What a register access decided under the lock, carried out after it.
  struct Deferred {
    std::optional<uint8_t> output;
    bool trigger = false;
    bool input_space = false;
  };

  uint8_t ReadRegister(uint64_t offset, Deferred& deferred);
  void WriteRegister(uint64_t offset, uint8_t value, Deferred& deferred);
  uint8_t ReadRbr(Deferred& deferred);
  uint8_t ReadIir();
  uint8_t ReadLsr();
  uint8_t ReadMsr();
  void Transmit(uint8_t value, Deferred& deferred);
  void WriteIer(uint8_t value);
  void WriteFcr(uint8_t value, Deferred& deferred);
  void WriteMcr(uint8_t value, Deferred& deferred);
  bool DivisorLatchSelected() const;
  bool Loopback() const;
  uint8_t ModemInputs() const;
  uint8_t InterruptId() const;
  void MaybeResumeInput(Deferred& deferred);
  void UpdateInterruptLine(Deferred& deferred);
  void Finish(const Deferred& deferred) noexcept;

  EdgeInterrupt& interrupt_;
  ByteSink& output_;
  const std::function<void()> on_input_space_;

  std::mutex mutex_;
  // Everything below is guarded by mutex_.
  uint8_t ier_ = 0;
  uint8_t lcr_;
  uint8_t mcr_;
  uint8_t scr_ = 0;
  uint8_t dll_;
  uint8_t dlm_ = 0;
  bool fifo_enabled_ = false;
  bool thre_pending_ = false;   // The THRE interrupt condition (see above).
  bool overrun_ = false;        // LSR.OE: a loopback byte found the buffer full.
  uint8_t msr_deltas_ = 0;      // MSR bits 3:0, cleared by reading MSR.
  bool line_high_ = false;      // The interrupt line as of the last access.
  bool input_refused_ = false;  // The event loop waits for the input-space callback.
  BoundedQueue<uint8_t, kInputCapacity> rx_;
};

}  // namespace mini_vmm::devices
