// VcpuRunner against scripted fake vCPUs: exits reach the buses and the
// stop signal, debug exits the handler; pause holds vCPUs outside Run()
// until resumed; StopAll ends threads that are "in the guest".
#include "vmm/runtime/vcpu_runner.h"

#include <linux/kvm.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "tests/support/fake_guest_memory.h"
#include "tests/support/fake_vcpu.h"

namespace mini_vmm {
namespace {

using testing::FakeVcpu;

// Polls `done` for up to five seconds.
bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Counts writes from any vCPU thread.
class CountingPort final : public devices::BusDevice {
 public:
  std::string_view name() const override { return "counter"; }
  void Read(const devices::IoAccess&, std::span<uint8_t> data) noexcept override {
    std::fill(data.begin(), data.end(), 0);
  }
  void Write(const devices::IoAccess& access, std::span<const uint8_t>) noexcept override {
    writes_by_vcpu[access.vcpu].fetch_add(1);
  }
  std::array<std::atomic<int>, 4> writes_by_vcpu{};
};

struct RunnerTest {
  devices::Bus pio{"pio"};
  devices::Bus mmio{"mmio"};
  GuestMemory memory = testing::MakeGuestMemory(0, 1 << 20);
  StopSignal stop{EventFd::Create().value()};
  std::shared_ptr<CountingPort> port = std::make_shared<CountingPort>();
  std::vector<FakeVcpu*> vcpus;
  std::atomic<int> debug_exits{0};
  std::atomic<uint32_t> debug_vcpu{99};
  // Set before Start(): also called from the debug handler.
  std::function<void(uint32_t)> on_debug_too;
  VcpuRunner runner{
      VcpuRunner::Environment{pio, mmio, memory, stop, [this](uint32_t id, const kvm::DebugExit&) {
                                debug_vcpu = id;
                                if (on_debug_too) on_debug_too(id);
                                debug_exits.fetch_add(1);
                              }}};

  RunnerTest() { REQUIRE(pio.Insert(port, 0x80, 1).ok()); }

  void Start(size_t count, bool paused = false) {
    std::vector<std::unique_ptr<RunnableVcpu>> owned;
    for (uint32_t i = 0; i < count; ++i) {
      auto vcpu = std::make_unique<FakeVcpu>(i);
      vcpus.push_back(vcpu.get());
      owned.push_back(std::move(vcpu));
    }
    REQUIRE(runner.Start(std::move(owned), paused).ok());
  }
};

TEST_CASE_METHOD(RunnerTest, "An OUT exit reaches the port I/O bus with the vCPU's index") {
  Start(2);
  vcpus[1]->ScriptIoWrite(0x80, {0x42});
  CHECK(Eventually([&] { return port->writes_by_vcpu[1].load() == 1; }));
  CHECK(port->writes_by_vcpu[0].load() == 0);
  CHECK_FALSE(stop.requested());
}

TEST_CASE_METHOD(RunnerTest, "A shutdown system event stops the VM as powered off") {
  Start(1);
  vcpus[0]->Script(kvm::SystemEventExit{KVM_SYSTEM_EVENT_SHUTDOWN});
  CHECK(Eventually([&] { return stop.requested(); }));
  CHECK(stop.reason() == StopReason::kPowerOff);
}

TEST_CASE_METHOD(RunnerTest, "An entry failure stops the VM as a crash with the vCPU described") {
  Start(1);
  vcpus[0]->Script(kvm::FailEntryExit{.hardware_reason = 7, .cpu = 0});
  CHECK(Eventually([&] { return stop.requested(); }));
  CHECK(stop.reason() == StopReason::kCrash);
  CHECK_THAT(stop.detail(), Catch::Contains("vCPU 0: ") && Catch::Contains("fake vCPU registers"));
}

TEST_CASE_METHOD(RunnerTest, "A debug exit goes to the handler with the vCPU's index") {
  Start(2);
  vcpus[1]->Script(kvm::DebugExit{});
  CHECK(Eventually([&] { return debug_exits.load() == 1; }));
  CHECK(debug_vcpu.load() == 1);
  CHECK_FALSE(stop.requested());
}

TEST_CASE_METHOD(RunnerTest, "PauseAll holds every vCPU outside Run until ResumeAll") {
  Start(2);
  runner.PauseAll();
  CHECK_FALSE(vcpus[0]->in_run());
  CHECK_FALSE(vcpus[1]->in_run());
  vcpus[0]->ScriptIoWrite(0x80, {1});
  vcpus[1]->ScriptIoWrite(0x80, {1});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(vcpus[0]->consumed() == 0);  // Paused vCPUs run nothing.
  CHECK(vcpus[1]->consumed() == 0);

  runner.ResumeAll();
  CHECK(Eventually([&] { return vcpus[0]->consumed() == 1 && vcpus[1]->consumed() == 1; }));
}

TEST_CASE_METHOD(RunnerTest, "Pause of one vCPU leaves the others running") {
  Start(2);
  runner.Pause(1);
  vcpus[0]->ScriptIoWrite(0x80, {1});
  vcpus[1]->ScriptIoWrite(0x80, {1});
  CHECK(Eventually([&] { return vcpus[0]->consumed() == 1; }));
  CHECK(vcpus[1]->consumed() == 0);
  runner.Resume(1);
  CHECK(Eventually([&] { return vcpus[1]->consumed() == 1; }));
}

TEST_CASE_METHOD(RunnerTest, "StopAll ends vCPU threads that are in the guest, and while paused") {
  Start(3);
  runner.Pause(2);
  CHECK(Eventually([&] { return vcpus[0]->in_run() && vcpus[1]->in_run(); }));
  runner.StopAll();  // Returns: every thread joined.
  CHECK_FALSE(vcpus[0]->in_run());
  CHECK_FALSE(vcpus[1]->in_run());
  runner.StopAll();  // Idempotent.
}

TEST_CASE_METHOD(RunnerTest, "Every vCPU parked stops the VM as powered off") {
  Start(2);
  vcpus[0]->parked = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(stop.requested());  // One parked vCPU is not a halted guest.
  vcpus[1]->parked = true;
  CHECK(Eventually([&] { return stop.requested(); }));
  CHECK(stop.reason() == StopReason::kPowerOff);
  CHECK(stop.detail() == "every vCPU halted with interrupts disabled");
}

TEST_CASE_METHOD(RunnerTest, "Started paused, no vCPU runs until resumed") {
  Start(2, /*paused=*/true);
  vcpus[0]->ScriptIoWrite(0x80, {1});
  runner.PauseAll();  // Returns: both are parked before their first Run().
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(vcpus[0]->consumed() == 0);
  CHECK_FALSE(vcpus[1]->in_run());
  runner.ResumeAll();
  CHECK(Eventually([&] { return vcpus[0]->consumed() == 1; }));
}

TEST_CASE_METHOD(RunnerTest, "RequestPause from a vCPU's debug handler parks that vCPU") {
  on_debug_too = [this](uint32_t id) { runner.RequestPause(id); };
  Start(2);
  vcpus[1]->Script(kvm::DebugExit{});
  vcpus[1]->ScriptIoWrite(0x80, {1});
  CHECK(Eventually([&] { return debug_exits.load() == 1; }));
  runner.Pause(1);                   // Returns: it parked after the handler.
  CHECK(vcpus[1]->consumed() == 1);  // The debug exit only, not the OUT.
  runner.Resume(1);
  CHECK(Eventually([&] { return vcpus[1]->consumed() == 2; }));
}

TEST_CASE_METHOD(RunnerTest, "ReleasePaused lets a PauseAll blocked by a stopping VM return") {
  Start(2);
  stop.Request(StopReason::kUserQuit, "test");  // The vCPU loops end without parking.
  CHECK(Eventually([&] { return !vcpus[0]->in_run() && !vcpus[1]->in_run(); }));
  std::thread stub([this] { runner.PauseAll(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  runner.ReleasePaused();
  stub.join();  // Would hang without ReleasePaused.
  runner.StopAll();
}

TEST_CASE("The runner traces the exits the tracer's filter matches, after the bus handled them") {
  devices::Bus pio{"pio"};
  devices::Bus mmio{"mmio"};
  GuestMemory memory = testing::MakeGuestMemory(0, 1 << 20);
  StopSignal stop{EventFd::Create().value()};
  auto port = std::make_shared<CountingPort>();
  REQUIRE(pio.Insert(port, 0x80, 1).ok());
  const UniqueFd trace_file(::memfd_create("trace", MFD_CLOEXEC));
  ExitTracer tracer(*trace::ParseExitFilter("pio=0x80"), 100, UniqueFd(::dup(trace_file.get())));
  VcpuRunner runner{VcpuRunner::Environment{pio, mmio, memory, stop, nullptr, &tracer}};
  auto owned = std::make_unique<FakeVcpu>(0);
  FakeVcpu& vcpu = *owned;
  std::vector<std::unique_ptr<RunnableVcpu>> vcpus;
  vcpus.push_back(std::move(owned));
  REQUIRE(runner.Start(std::move(vcpus)).ok());

  vcpu.ScriptIoWrite(0x81, {1});  // Not traced: outside the filter.
  vcpu.ScriptIoWrite(0x80, {0x42});
  REQUIRE(Eventually([&] { return port->writes_by_vcpu[0].load() == 1; }));
  runner.StopAll();

  std::string text(4096, '\0');
  const ssize_t n = ::pread(trace_file.get(), text.data(), text.size(), 0);
  REQUIRE(n > 0);
  text.resize(static_cast<size_t>(n));
  CHECK_THAT(text, Catch::Contains(
                       "vcpu0 pio out port=0x80 size=1 data=0x42 | (fake vCPU 0 has no code)\n"));
  CHECK_THAT(text, !Catch::Contains("port=0x81"));
}

}  // namespace
}  // namespace mini_vmm
