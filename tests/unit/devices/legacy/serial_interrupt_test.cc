// Serial: interrupt identification, priorities and edges.
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

struct SerialTest {
  CountingInterrupt irq;
  RecordingSink sink;
  Serial serial{irq, sink};
  PortDriver port{serial, arch::x86_64::kCom1Port};

  size_t Enqueue(size_t count) {
    const std::vector<uint8_t> bytes(count, 'x');
    return serial.EnqueueInput(bytes);
  }
};

TEST_CASE_METHOD(SerialTest, "Enabling THRI with THR empty raises one THRE interrupt") {
  port.Out(UART_IER, UART_IER_THRI);

  CHECK(irq.count == 1);
  CHECK(port.In(UART_IIR) == UART_IIR_THRI);
}

TEST_CASE_METHOD(SerialTest, "Reading IIR that reports THRE clears it") {
  port.Out(UART_IER, UART_IER_THRI);
  port.In(UART_IIR);

  CHECK(port.In(UART_IIR) == UART_IIR_NO_INT);
}

TEST_CASE_METHOD(SerialTest, "A byte sent after THRE was serviced raises a new edge") {
  port.Out(UART_IER, UART_IER_THRI);
  port.In(UART_IIR);

  port.Out(UART_TX, 'a');

  CHECK(irq.count == 2);
  CHECK(port.In(UART_IIR) == UART_IIR_THRI);
}

TEST_CASE_METHOD(SerialTest, "Bytes sent while THRE is still pending raise no new edge") {
  port.Out(UART_IER, UART_IER_THRI);

  port.Out(UART_TX, 'a');
  port.Out(UART_TX, 'b');

  CHECK(irq.count == 1);
}

TEST_CASE_METHOD(SerialTest, "Clearing THRI drops a pending THRE") {
  port.Out(UART_IER, UART_IER_THRI);
  port.Out(UART_IER, 0);

  CHECK(port.In(UART_IIR) == UART_IIR_NO_INT);
}

TEST_CASE_METHOD(SerialTest, "Input raises RDA once and not again until serviced") {
  port.Out(UART_IER, UART_IER_RDI);

  Enqueue(1);
  Enqueue(1);
  CHECK(irq.count == 1);
  CHECK(port.In(UART_IIR) == UART_IIR_RDI);

  port.In(UART_RX);
  port.In(UART_RX);
  CHECK(port.In(UART_IIR) == UART_IIR_NO_INT);
  Enqueue(1);
  CHECK(irq.count == 2);
}

TEST_CASE_METHOD(SerialTest, "Input raises no interrupt while RDI is disabled") {
  Enqueue(1);

  CHECK(irq.count == 0);
  CHECK(port.In(UART_IIR) == UART_IIR_NO_INT);
}

TEST_CASE_METHOD(SerialTest, "Enabling RDI with data waiting raises RDA") {
  Enqueue(1);

  port.Out(UART_IER, UART_IER_RDI);

  CHECK(irq.count == 1);
}

TEST_CASE_METHOD(SerialTest, "IIR reports RDA before THRE") {
  port.Out(UART_IER, UART_IER_RDI | UART_IER_THRI);
  Enqueue(1);

  CHECK(port.In(UART_IIR) == UART_IIR_RDI);
  port.In(UART_RX);
  CHECK(port.In(UART_IIR) == UART_IIR_THRI);
}

TEST_CASE_METHOD(SerialTest, "IIR reports a loopback overrun before RDA") {
  Enqueue(Serial::kInputCapacity);
  port.Out(UART_IER, UART_IER_RLSI | UART_IER_RDI);
  port.Out(UART_MCR, UART_MCR_LOOP);

  port.Out(UART_TX, 'o');

  CHECK(port.In(UART_IIR) == UART_IIR_RLSI);
  CHECK((port.In(UART_LSR) & UART_LSR_OE) != 0);
  CHECK(port.In(UART_IIR) == UART_IIR_RDI);
}

TEST_CASE_METHOD(SerialTest, "IIR reports a modem-status change after THRE") {
  port.Out(UART_IER, UART_IER_MSI | UART_IER_THRI);
  port.Out(UART_MCR, UART_MCR_LOOP);

  CHECK(port.In(UART_IIR) == UART_IIR_THRI);
  CHECK(port.In(UART_IIR) == UART_IIR_MSI);
  port.In(UART_MSR);
  CHECK(port.In(UART_IIR) == UART_IIR_NO_INT);
}

TEST_CASE_METHOD(SerialTest, "IIR carries the FIFO bits only while the FIFO is enabled") {
  port.Out(UART_FCR, UART_FCR_ENABLE_FIFO);
  CHECK(port.In(UART_IIR) == (0xc0 | UART_IIR_NO_INT));

  port.Out(UART_FCR, 0);
  CHECK(port.In(UART_IIR) == UART_IIR_NO_INT);
}

}  // namespace
}  // namespace mini_vmm::devices
