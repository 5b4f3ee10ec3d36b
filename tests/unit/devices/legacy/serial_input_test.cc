// Serial: the bounded receive buffer and its flow control towards the host.
#include <linux/serial_reg.h>

#include <array>
#include <catch2/catch.hpp>
#include <vector>

#include "arch/x86_64/platform/layout.h"
#include "devices/legacy/serial.h"
#include "tests/unit/devices/legacy/legacy_fakes.h"

namespace mini_vmm::devices {
namespace {

using testing::CountingInterrupt;
using testing::PortDriver;
using testing::RecordingSink;

struct SerialInputTest {
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

TEST_CASE_METHOD(SerialInputTest, "Input arrives in order") {
  const std::array<uint8_t, 3> input = {'a', 'b', 'c'};

  CHECK(serial.EnqueueInput(input) == 3);

  CHECK(port.In(UART_RX) == 'a');
  CHECK(port.In(UART_RX) == 'b');
  CHECK(port.In(UART_RX) == 'c');
}

TEST_CASE_METHOD(SerialInputTest, "A full buffer accepts only what fits") {
  REQUIRE(Enqueue(Serial::kInputCapacity - 96) == Serial::kInputCapacity - 96);

  CHECK(Enqueue(200) == 96);
  CHECK(Enqueue(1) == 0);
  CHECK_FALSE(serial.CanAcceptInput());
}

TEST_CASE_METHOD(SerialInputTest, "An empty buffer can accept input") {
  CHECK(serial.CanAcceptInput());
}

TEST_CASE_METHOD(SerialInputTest,
                 "Draining to the resume level calls the input-space callback once") {
  Enqueue(Serial::kInputCapacity);
  Enqueue(1);  // Refused: arms the callback.
  port.Out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);

  CHECK(input_space_calls == 1);
  Enqueue(Serial::kInputCapacity);
  port.Out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
  CHECK(input_space_calls == 1);
}

TEST_CASE_METHOD(SerialInputTest, "Reading RBR down to the resume level calls the callback") {
  Enqueue(Serial::kInputResumeLevel + 1);
  port.Out(UART_MCR, UART_MCR_LOOP);
  REQUIRE_FALSE(serial.CanAcceptInput());  // Arms the callback.
  port.Out(UART_MCR, 0);
  REQUIRE(input_space_calls == 0);  // Still above the resume level.

  port.In(UART_RX);

  CHECK(input_space_calls == 1);
}

TEST_CASE_METHOD(SerialInputTest, "Loopback refuses host input until it ends") {
  port.Out(UART_MCR, UART_MCR_LOOP);

  CHECK(Enqueue(1) == 0);
  CHECK(input_space_calls == 0);
  port.Out(UART_MCR, UART_MCR_OUT2);
  CHECK(input_space_calls == 1);
  CHECK(Enqueue(1) == 1);
}

TEST_CASE_METHOD(SerialInputTest, "Turning the FIFO off drops waiting input") {
  port.Out(UART_FCR, UART_FCR_ENABLE_FIFO);
  Enqueue(3);

  port.Out(UART_FCR, 0);

  CHECK((port.In(UART_LSR) & UART_LSR_DR) == 0);
}

TEST_CASE_METHOD(SerialInputTest, "Reading an empty receiver returns 0") {
  CHECK(port.In(UART_RX) == 0);
}

}  // namespace
}  // namespace mini_vmm::devices
