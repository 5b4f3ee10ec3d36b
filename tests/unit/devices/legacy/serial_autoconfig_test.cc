// Serial: the probes Linux's 8250 driver runs (drivers/tty/serial/8250/
// 8250_port.c: autoconfig(), autoconfig_16550a(), serial8250_do_startup()),
// replayed step by step. Each test is one probe and the answer that makes the
// driver settle on a plain 16550A with working THRE interrupts.
#include <linux/serial_reg.h>

#include <catch2/catch.hpp>

#include "arch/x86_64/platform/layout.h"
#include "devices/legacy/serial.h"
#include "tests/unit/devices/legacy/legacy_fakes.h"

namespace mini_vmm::devices {
namespace {

using testing::CountingInterrupt;
using testing::PortDriver;
using testing::RecordingSink;

constexpr uint8_t kIerAllInterrupts = 0x0f;  // UART_IER_ALL_INTR in newer kernels.
constexpr uint8_t kIirFifoBits = 0xc0;       // UART_IIR_FIFO_ENABLED
constexpr uint8_t kIir64ByteFifo = 0x20;     // UART_IIR_64BYTE_FIFO (TI16750)
constexpr uint8_t kLcrConfModeB = 0xbf;      // UART_LCR_CONF_MODE_B
constexpr uint8_t kLcrNationalBank2 = 0xe0;  // NS16550A bank switch
constexpr uint8_t kEfrOrIir = 2;             // UART_EFR shares offset 2

struct AutoconfigTest {
  CountingInterrupt irq;
  RecordingSink sink;
  Serial serial{irq, sink};
  PortDriver port{serial, arch::x86_64::kCom1Port};

  // The FIFO test of autoconfig(): EFR cleared in mode B, then FCR.
  void EnableFifoAsAutoconfigDoes() {
    port.Out(UART_LCR, kLcrConfModeB);
    port.Out(kEfrOrIir, 0);
    port.Out(UART_LCR, 0);
    port.Out(UART_FCR, UART_FCR_ENABLE_FIFO);
  }
};

TEST_CASE_METHOD(AutoconfigTest, "IER probe: writes of 0 and 0x0f read back") {
  port.Out(UART_IER, 0);
  const uint8_t cleared = port.In(UART_IER) & kIerAllInterrupts;
  port.Out(UART_IER, kIerAllInterrupts);
  const uint8_t set = port.In(UART_IER) & kIerAllInterrupts;

  CHECK(cleared == 0);
  CHECK(set == kIerAllInterrupts);
}

TEST_CASE_METHOD(AutoconfigTest, "Loopback probe: LOOP|OUT2|RTS reads DCD|CTS") {
  port.Out(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);

  CHECK((port.In(UART_MSR) & 0xf0) == (UART_MSR_DCD | UART_MSR_CTS));
}

TEST_CASE_METHOD(AutoconfigTest, "FIFO probe: IIR top bits identify a 16550A") {
  EnableFifoAsAutoconfigDoes();

  CHECK((port.In(UART_IIR) & kIirFifoBits) == kIirFifoBits);
}

TEST_CASE_METHOD(AutoconfigTest, "EFR probes: offset 2 never reads 0 under DLAB or mode B") {
  EnableFifoAsAutoconfigDoes();

  port.Out(UART_LCR, UART_LCR_DLAB);
  CHECK(port.In(kEfrOrIir) != 0);
  port.Out(UART_LCR, kLcrConfModeB);
  CHECK(port.In(kEfrOrIir) != 0);
}

TEST_CASE_METHOD(AutoconfigTest, "NS16550A probe: bank 2 does not follow MCR.LOOP") {
  EnableFifoAsAutoconfigDoes();
  const uint8_t mcr = port.In(UART_MCR);
  port.Out(UART_LCR, kLcrNationalBank2);
  const uint8_t before = port.In(kEfrOrIir);
  port.Out(UART_LCR, 0);
  port.Out(UART_MCR, mcr ^ UART_MCR_LOOP);
  port.Out(UART_LCR, kLcrNationalBank2);

  const uint8_t after = port.In(kEfrOrIir);

  CHECK(((before ^ mcr) & UART_MCR_LOOP) == 0);
  CHECK(((after ^ mcr) & UART_MCR_LOOP) == 0);
}

TEST_CASE_METHOD(AutoconfigTest, "16750 probe: IIR bit 5 stays clear with or without DLAB") {
  EnableFifoAsAutoconfigDoes();

  port.Out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
  CHECK((port.In(UART_IIR) & (kIir64ByteFifo | kIirFifoBits)) == kIirFifoBits);
  port.Out(UART_LCR, UART_LCR_DLAB);
  port.Out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
  CHECK((port.In(UART_IIR) & (kIir64ByteFifo | kIirFifoBits)) == kIirFifoBits);
}

TEST_CASE_METHOD(AutoconfigTest, "XScale probe: IER.UUE does not stick") {
  port.Out(UART_IER, UART_IER_UUE);

  CHECK((port.In(UART_IER) & UART_IER_UUE) == 0);
}

TEST_CASE_METHOD(AutoconfigTest, "Startup THRE test: THRE is reported again after IER toggles") {
  port.Out(UART_IER, UART_IER_THRI);
  const uint8_t first = port.In(UART_IIR);
  port.Out(UART_IER, 0);
  port.Out(UART_IER, UART_IER_THRI);
  const uint8_t second = port.In(UART_IIR);

  CHECK((first & UART_IIR_NO_INT) == 0);
  CHECK((second & UART_IIR_NO_INT) == 0);
  CHECK(irq.count == 2);
}

TEST_CASE_METHOD(AutoconfigTest, "Startup LSR safety check: LSR is not 0xff after clearing") {
  port.Out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
  port.Out(UART_FCR, 0);
  port.In(UART_LSR);
  port.In(UART_RX);
  port.In(UART_IIR);
  port.In(UART_MSR);

  CHECK(port.In(UART_LSR) != 0xff);
}

}  // namespace
}  // namespace mini_vmm::devices
