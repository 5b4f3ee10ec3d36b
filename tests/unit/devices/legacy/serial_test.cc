#include "devices/legacy/serial.h"

#include <linux/serial_reg.h>

#include <array>
#include <catch2/catch.hpp>
#include <vector>

#include "arch/x86_64/platform/layout.h"
#include "tests/unit/devices/legacy/legacy_fakes.h"

namespace mini_vmm::devices {
namespace {

using testing::CountingInterrupt;
using testing::PortDriver;
using testing::RecordingSink;

constexpr uint8_t kModemReady = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
constexpr uint8_t kMsrInputs = 0xf0;

struct SerialTest {
  CountingInterrupt irq;
  RecordingSink sink;
  int input_space_calls = 0;
  Serial serial{irq, sink, [this] { ++input_space_calls; }};
  PortDriver port{serial, arch::x86_64::kCom1Port};

  size_t Enqueue(size_t count) {
    const std::vector<uint8_t> bytes(count, 'x');
    return serial.EnqueueInput(bytes);
  }
};

TEST_CASE_METHOD(SerialTest, "Scratch register keeps what the guest wrote") {
  port.Out(UART_SCR, 0xa5);
  CHECK(port.In(UART_SCR) == 0xa5);
  port.Out(UART_SCR, 0x5a);
  CHECK(port.In(UART_SCR) == 0x5a);
}

TEST_CASE_METHOD(SerialTest, "DLAB maps offsets 0 and 1 to the divisor latch") {
  port.Out(UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
  port.Out(UART_DLL, 0x01);
  port.Out(UART_DLM, 0x02);

  CHECK(port.In(UART_DLL) == 0x01);
  CHECK(port.In(UART_DLM) == 0x02);
  port.Out(UART_LCR, UART_LCR_WLEN8);
  CHECK(port.In(UART_IER) == 0);
  CHECK(sink.written.empty());
}

TEST_CASE_METHOD(SerialTest, "The divisor latch starts at 9600 baud") {
  port.Out(UART_LCR, UART_LCR_DLAB);

  CHECK(port.In(UART_DLL) == 12);
  CHECK(port.In(UART_DLM) == 0);
}

TEST_CASE_METHOD(SerialTest, "IER keeps only its four interrupt-enable bits") {
  port.Out(UART_IER, 0xff);

  CHECK(port.In(UART_IER) == 0x0f);
}

TEST_CASE_METHOD(SerialTest, "Transmitted bytes reach the sink, one call per byte") {
  port.Out(UART_TX, 'h');
  port.Out(UART_TX, 'i');

  CHECK(sink.written == std::vector<uint8_t>{'h', 'i'});
  CHECK(sink.calls == 2);
}

TEST_CASE_METHOD(SerialTest, "LSR always reports an idle transmitter") {
  CHECK(port.In(UART_LSR) == (UART_LSR_THRE | UART_LSR_TEMT));
  port.Out(UART_TX, 'x');
  CHECK(port.In(UART_LSR) == (UART_LSR_THRE | UART_LSR_TEMT));
}

TEST_CASE_METHOD(SerialTest, "LSR reports data ready while input is waiting") {
  const std::array<uint8_t, 1> input = {'k'};
  serial.EnqueueInput(input);

  CHECK(port.In(UART_LSR) == (UART_LSR_THRE | UART_LSR_TEMT | UART_LSR_DR));
  CHECK(port.In(UART_RX) == 'k');
  CHECK(port.In(UART_LSR) == (UART_LSR_THRE | UART_LSR_TEMT));
}

TEST_CASE_METHOD(SerialTest, "Loopback returns transmitted bytes as received data") {
  port.Out(UART_MCR, UART_MCR_LOOP);
  port.Out(UART_TX, 'z');

  CHECK((port.In(UART_LSR) & UART_LSR_DR) != 0);
  CHECK(port.In(UART_RX) == 'z');
  CHECK(sink.written.empty());
}

TEST_CASE_METHOD(SerialTest, "Loopback MSR mirrors DTR, RTS, OUT1 and OUT2") {
  SECTION("DTR shows as DSR") {
    port.Out(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
    CHECK((port.In(UART_MSR) & kMsrInputs) == UART_MSR_DSR);
  }
  SECTION("RTS shows as CTS") {
    port.Out(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
    CHECK((port.In(UART_MSR) & kMsrInputs) == UART_MSR_CTS);
  }
  SECTION("OUT1 shows as RI") {
    port.Out(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
    CHECK((port.In(UART_MSR) & kMsrInputs) == UART_MSR_RI);
  }
  SECTION("OUT2 shows as DCD") {
    port.Out(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
    CHECK((port.In(UART_MSR) & kMsrInputs) == UART_MSR_DCD);
  }
}

TEST_CASE_METHOD(SerialTest, "Outside loopback MSR reports DCD, DSR and CTS") {
  CHECK(port.In(UART_MSR) == kModemReady);
}

TEST_CASE_METHOD(SerialTest, "Entering loopback records modem-status deltas until MSR is read") {
  port.Out(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);

  CHECK(port.In(UART_MSR) == (UART_MSR_DCD | UART_MSR_CTS | UART_MSR_DDSR));
  CHECK(port.In(UART_MSR) == (UART_MSR_DCD | UART_MSR_CTS));
}

TEST_CASE_METHOD(SerialTest, "A wide read returns the register then all-ones") {
  port.Out(UART_SCR, 0x42);
  std::array<uint8_t, 2> data{};

  serial.Read(IoAccess{arch::x86_64::kCom1Port + UART_MSR, UART_MSR, 0}, data);

  CHECK(data == std::array<uint8_t, 2>{kModemReady, 0xff});
}

}  // namespace
}  // namespace mini_vmm::devices
