// DeviceAttachment: stop first, then release what was held, newest first.
#include "vmm/machine/device_attachment.h"

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "devices/bus/bus.h"
#include "devices/bus/interrupt.h"
#include "devices/virtio/transport/mmio.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/register_access.h"

namespace mini_vmm {
namespace {

// Appends its name to a shared log when destroyed.
struct Tracer {
  Tracer(std::string name, std::vector<std::string>* log) : name_(std::move(name)), log_(log) {}
  Tracer(Tracer&& other) noexcept : name_(std::move(other.name_)), log_(other.log_) {
    other.log_ = nullptr;
  }
  ~Tracer() {
    if (log_ != nullptr) log_->push_back(name_);
  }
  std::string name_;
  std::vector<std::string>* log_;
};

TEST_CASE("Teardown stops the device, then releases the newest first") {
  std::vector<std::string> log;
  {
    DeviceAttachment a("dev", [&log] { log.push_back("stop"); });
    a.Hold(Tracer("interrupt", &log));
    a.Hold(Tracer("irqfd", &log));
    a.Hold(Tracer("bus range", &log));
  }
  CHECK(log == std::vector<std::string>{"stop", "bus range", "irqfd", "interrupt"});
}

TEST_CASE("Stop runs once, however often it is called") {
  int stops = 0;
  {
    DeviceAttachment a("dev", [&stops] { ++stops; });
    a.Stop();
    a.Stop();
  }
  CHECK(stops == 1);
}

TEST_CASE("A moved-from attachment neither stops nor releases") {
  std::vector<std::string> log;
  {
    DeviceAttachment a("dev", [&log] { log.push_back("stop"); });
    a.Hold(Tracer("held", &log));
    DeviceAttachment b(std::move(a));
    CHECK(log.empty());
  }
  CHECK(log == std::vector<std::string>{"stop", "held"});
}

// A device whose I/O thread raises its interrupt without pause until Reset,
// like virtio-blk completing requests while the VM is being torn down.
class ChattyDevice final : public virtio::VirtioDevice {
 public:
  std::string_view name() const override { return "chatty"; }
  uint32_t device_type() const override { return VIRTIO_ID_BLOCK; }
  uint64_t features() const override { return 1ull << VIRTIO_F_VERSION_1; }
  std::span<const uint16_t> queue_max_sizes() const override { return sizes_; }
  void ReadConfig(uint64_t, std::span<uint8_t> data) override { std::fill(data.begin(), data.end(), 0); }
  void WriteConfig(uint64_t, std::span<const uint8_t>) override {}
  Result<void> Activate(const virtio::ActivateContext& context) override {
    virtio::VirtioInterrupt* interrupt = &context.interrupt;
    running_.store(true);
    thread_ = std::thread([this, interrupt] {
      while (running_.load()) {
        interrupt->NotifyQueue(0);
        notified.fetch_add(1);
      }
    });
    return {};
  }
  void Reset() override {
    running_.store(false);
    if (thread_.joinable()) thread_.join();
  }
  bool thread_alive() const { return thread_.joinable(); }
  std::atomic<uint64_t> notified{0};

 private:
  std::vector<uint16_t> sizes_{16};
  std::atomic<bool> running_{false};
  std::thread thread_;
};

void WriteReg(devices::BusDevice& dev, uint64_t offset, uint32_t value) {
  testing::WriteRegister32(dev, devices::IoAccess{offset, offset, 0}, value);
}

// The shape VirtioMmioDevices builds. Before attachments, the machine freed
// the interrupt line while the bus still held the transport, and the I/O
// thread's next NotifyQueue wrote to freed memory (ASan: heap-use-after-free).
TEST_CASE("An attached device with interrupts in flight is stopped before its line is freed") {
  GuestMemory memory = testing::MakeGuestMemory(0, 1 << 20);
  devices::Bus bus("mmio");
  auto device = std::make_shared<ChattyDevice>();
  {
    std::vector<EventFd> events;
    events.push_back(std::move(EventFd::Create()).value());
    auto line = std::make_unique<devices::IrqFdInterrupt>(std::move(EventFd::Create()).value());
    auto transport =
        std::make_shared<virtio::MmioTransport>(device, memory, std::move(events), *line);
    DeviceAttachment attachment("chatty", [transport] { transport->Shutdown(); });
    attachment.Hold(std::move(line));
    attachment.Hold(transport);
    auto range = bus.Attach(transport, 0, virtio::MmioTransport::kWindowSize);
    REQUIRE(range.ok());
    attachment.Hold(std::move(range).value());

    WriteReg(*transport, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    WriteReg(*transport, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    WriteReg(*transport, VIRTIO_MMIO_DRIVER_FEATURES, 1);  // VERSION_1 (bit 32)
    WriteReg(*transport, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                                                 VIRTIO_CONFIG_S_DRIVER |
                                                 VIRTIO_CONFIG_S_FEATURES_OK);
    WriteReg(*transport, VIRTIO_MMIO_STATUS,
             VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
                 VIRTIO_CONFIG_S_DRIVER_OK);
    while (device->notified.load() < 100) std::this_thread::yield();
  }
  // The thread was joined and the bus forgot the window.
  CHECK_FALSE(device->thread_alive());
  std::array<uint8_t, 4> word{};
  CHECK_FALSE(bus.Read(0, word, 0));
}

TEST_CASE("A shut-down transport never starts its device again") {
  GuestMemory memory = testing::MakeGuestMemory(0, 1 << 20);
  auto device = std::make_shared<ChattyDevice>();
  std::vector<EventFd> events;
  events.push_back(std::move(EventFd::Create()).value());
  devices::IrqFdInterrupt line(std::move(EventFd::Create()).value());
  virtio::MmioTransport transport(device, memory, std::move(events), line);
  transport.Shutdown();
  WriteReg(transport, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  WriteReg(transport, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
  WriteReg(transport, VIRTIO_MMIO_DRIVER_FEATURES, 1);
  WriteReg(transport, VIRTIO_MMIO_STATUS,
           VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
               VIRTIO_CONFIG_S_DRIVER_OK);
  CHECK_FALSE(device->thread_alive());
  CHECK(device->notified.load() == 0);
}

}  // namespace
}  // namespace mini_vmm
