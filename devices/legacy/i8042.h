// I8042: the PC keyboard controller, with a keyboard attached and no AUX
// (mouse) port, emulated far enough for Linux's i8042 driver and for
// `reboot=k`.
//
//   auto i8042 = std::make_shared<I8042>([&] { vm.RequestReset(); }, &irq1);
//   TRY(pio_bus.Insert(i8042, I8042::kDataPort, 1));
//   TRY(pio_bus.Insert(i8042, I8042::kCommandPort, 1));
//
// The same object serves both ports and tells them apart by IoAccess::address,
// so it must be registered as two 1-byte ranges (0x61-0x63 belong to others).
//
// Commands complete instantly: IBF is never set, and a command's answer is in
// the output buffer (OBF) before the guest's OUT returns. The status register
// is therefore never 0xFF (an unclaimed port would be, and `reboot=k` then
// spins in kb_wait()); it always has SYS (POST passed) and the keylock-off bit.
//
// Controller commands: 0x20/0x60 read/write the command byte (CTR), 0xAA
// self-test -> 0x55, 0xAB keyboard interface test -> 0x00, 0xAD/0xAE and
// 0xA7/0xA8 set/clear the CTR port-disable bits, 0xD0/0xD1 read/write the
// output port, 0xD2 <byte> echoes a byte as keyboard data, 0xF0-0xFF pulse
// output lines. Unknown commands are ignored (rate-limited debug log).
//
// Reset: pulsing the reset line (0xFE, or any 0xF0-0xFF with bit 0 clear) or
// writing the output port with bit 0 clear calls `reset`, outside the lock,
// every time. Linux's `reboot=k` writes 0xFE up to ten times before trying
// another method, so the callback must be idempotent (e.g. set a flag and wake
// the event loop).
//
// No AUX port, failing fast: 0xA9 (AUX interface test) answers 0x01 ("clock
// line stuck low"), and the byte after 0xD3/0xD4 is answered with 0xFE without
// the AUX-data status bit. Linux's AUX loop test then fails without waiting,
// its interface test fails, and the driver registers no AUX port; the same
// goes for its active-multiplexing probe. (Emulating a working AUX loop would
// cost a 250 ms wait for an IRQ 12 that never comes.)
//
// Keyboard: every byte written to 0x60 that is not a command parameter is a
// keyboard command and is answered as a PS/2 keyboard would: 0xFA (ACK) for
// all, plus the ID (0xAB 0x83, or 0xAB 0x41 when the CTR asks for
// translation) after 0xF2, 0xAA (self-test passed) after 0xFF, and just 0xEE
// for 0xEE (echo). A new command discards output the guest did not read.
// Keyboard bytes raise IRQ 1 through `keyboard_interrupt` when the CTR enables
// it: one edge per byte, as Linux's handler reads one byte per interrupt.
// Controller answers do not raise IRQ 1 (Linux polls for them with the
// interrupt masked). Without a keyboard interrupt, atkbd's probe times out.
//
// Threading: one mutex guards the state; callbacks and Trigger() run after it
// is released.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string_view>

#include "devices/bus/bus_device.h"
#include "devices/bus/interrupt.h"
#include "devices/legacy/bounded_queue.h"
#include "arch/x86_64/platform/layout.h"

namespace mini_vmm::devices {

class I8042 final : public BusDevice {
 public:
  // The model decodes the absolute ports: it sits in two one-port ranges.
  static constexpr uint16_t kDataPort = arch::x86_64::kI8042DataPort;
  static constexpr uint16_t kCommandPort = arch::x86_64::kI8042CommandPort;
  static constexpr uint32_t kKeyboardIrq = arch::x86_64::kKeyboardIrq;

  // `reset` must not throw. `keyboard_interrupt` may be null (no IRQ 1);
  // otherwise it must outlive the device.
  explicit I8042(std::function<void()> reset, EdgeInterrupt* keyboard_interrupt = nullptr);

  std::string_view name() const override { return "i8042"; }
  void Read(const IoAccess& access, std::span<uint8_t> data) noexcept override;
  void Write(const IoAccess& access, std::span<const uint8_t> data) noexcept override;

 private:
  struct Deferred {
    bool trigger = false;
    bool reset = false;
  };

  uint8_t Status() const;
  uint8_t ReadData();
  void WriteCommand(uint8_t command, Deferred& deferred);
  bool WriteSimpleCommand(uint8_t command);
  void WriteData(uint8_t value, Deferred& deferred);
  void KeyboardCommand(uint8_t command);
  void WriteOutputPort(uint8_t value, Deferred& deferred);
  void Respond(uint8_t value);
  void SendFromKeyboard(std::span<const uint8_t> bytes);
  void UpdateInterruptLine(Deferred& deferred);
  void Finish(const Deferred& deferred) noexcept;

  const std::function<void()> reset_;
  EdgeInterrupt* const keyboard_interrupt_;

  std::mutex mutex_;
  // Everything below is guarded by mutex_.
  uint8_t ctr_;
  uint8_t output_port_;
  uint8_t pending_command_ = 0;  // A command waiting for its parameter, or 0.
  bool last_write_was_command_ = false;
  bool output_from_keyboard_ = false;  // Whether output_ holds keyboard bytes.
  uint8_t last_output_ = 0;            // What the output buffer last held.
  bool line_high_ = false;             // IRQ 1 as of the last access.
  // The output buffer and the bytes queued behind it (a keyboard answer is up
  // to three bytes; 16 is Linux's I8042_BUFFER_SIZE).
  BoundedQueue<uint8_t, 16> output_;
};

}  // namespace mini_vmm::devices
