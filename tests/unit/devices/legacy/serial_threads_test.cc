// Serial: concurrent vCPU and event-loop access (meant for the tsan preset).
// Loops are the point here: the threads must overlap.
#include <linux/serial_reg.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "arch/x86_64/platform/layout.h"
#include "devices/legacy/serial.h"
#include "tests/unit/devices/legacy/legacy_fakes.h"

namespace mini_vmm::devices {
namespace {

using testing::AtomicCountingInterrupt;
using testing::PortDriver;
using testing::RecordingSink;

constexpr int kVcpus = 4;
constexpr int kBytesPerVcpu = 2000;
constexpr size_t kHostBytes = 3 * Serial::kInputCapacity;

TEST_CASE("Concurrent transmit, host input and guest reads lose no byte") {
  AtomicCountingInterrupt irq;
  RecordingSink sink;
  std::atomic<int> input_space_calls{0};
  Serial serial(irq, sink, [&] { input_space_calls.fetch_add(1); });
  std::atomic<size_t> received{0};
  std::atomic<bool> host_done{false};

  std::vector<std::thread> threads;
  for (int v = 0; v < kVcpus; ++v) {
    threads.emplace_back([&serial] {
      PortDriver port(serial, arch::x86_64::kCom1Port);
      for (int i = 0; i < kBytesPerVcpu; ++i) port.Out(UART_TX, 't');
    });
  }
  threads.emplace_back([&] {  // The guest's receive path on one more vCPU.
    PortDriver port(serial, arch::x86_64::kCom1Port);
    port.Out(UART_IER, UART_IER_RDI);
    while (!host_done.load() || (port.In(UART_LSR) & UART_LSR_DR) != 0) {
      if (port.In(UART_LSR) & UART_LSR_DR) {
        port.In(UART_RX);
        received.fetch_add(1);
      }
    }
  });
  size_t sent = 0;
  const std::vector<uint8_t> chunk(256, 'h');
  while (sent < kHostBytes) {  // The event loop, retrying what was refused.
    const size_t want = std::min(chunk.size(), kHostBytes - sent);
    sent += serial.EnqueueInput(std::span<const uint8_t>(chunk.data(), want));
  }
  host_done.store(true);
  for (auto& thread : threads) thread.join();

  CHECK(sink.written.size() == static_cast<size_t>(kVcpus * kBytesPerVcpu));
  CHECK(received.load() == kHostBytes);
  CHECK(irq.count.load() >= 1);
}

}  // namespace
}  // namespace mini_vmm::devices
