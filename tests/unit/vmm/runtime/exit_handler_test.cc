#include "vmm/runtime/exit_handler.h"

#include <array>
#include <catch2/catch.hpp>
#include <cerrno>
#include <memory>
#include <vector>

#include "arch/x86_64/platform/layout.h"
#include "arch/x86_64/reset_vector.h"
#include "devices/bus/bus.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/recording_bus_device.h"

namespace mini_vmm {
namespace {

using testing::RecordingBusDevice;

constexpr uint32_t kVcpu = 2;

// A port bus and an MMIO bus, each with one recording device.
struct Buses {
  Buses() {
    REQUIRE(pio.Insert(port_device, 0x3f8, 8).ok());
    REQUIRE(mmio.Insert(mmio_device, 0xd000'0000, 0x1000).ok());
    REQUIRE(arch::x86_64::WriteResetFirmware(memory).ok());
  }
  ExitContext context() const { return ExitContext{pio, mmio, memory, kVcpu}; }

  std::shared_ptr<RecordingBusDevice> port_device = std::make_shared<RecordingBusDevice>(0x10);
  std::shared_ptr<RecordingBusDevice> mmio_device = std::make_shared<RecordingBusDevice>(0x60);
  devices::Bus pio{"pio"};
  devices::Bus mmio{"mmio"};
  // The first MiB, with the reset firmware mini-vmm writes at boot.
  GuestMemory memory = testing::MakeGuestMemory(0, 0x100000);
};

std::vector<uint8_t> Bytes(std::span<const uint8_t> span) { return {span.begin(), span.end()}; }

// --- Port I/O -------------------------------------------------------------

TEST_CASE("A port write reaches the device with its address, offset, vCPU and byte") {
  Buses buses;
  std::array<uint8_t, 1> data = {0x41};
  const kvm::IoExit io{0x3fb, 1, 1, true, data};

  ExitOutcome outcome = HandleExit(io, buses.context());

  CHECK(outcome.action == ExitAction::kContinue);
  REQUIRE(buses.port_device->accesses.size() == 1);
  const auto& access = buses.port_device->accesses[0];
  CHECK(access.is_write);
  CHECK(access.access.address == 0x3fb);
  CHECK(access.access.offset == 3);
  CHECK(access.access.vcpu == kVcpu);
  CHECK(access.data == std::vector<uint8_t>{0x41});
}

TEST_CASE("A port read returns what the device supplied") {
  Buses buses;
  std::array<uint8_t, 1> data = {0x00};
  const kvm::IoExit io{0x3fd, 1, 1, false, data};

  ExitOutcome outcome = HandleExit(io, buses.context());

  CHECK(outcome.action == ExitAction::kContinue);
  REQUIRE(buses.port_device->accesses.size() == 1);
  CHECK_FALSE(buses.port_device->accesses[0].is_write);
  CHECK(data[0] == 0x10);
}

TEST_CASE("A rep outs of count 3 reaches the device three times, one item each, in order") {
  Buses buses;
  std::array<uint8_t, 3> data = {'a', 'b', 'c'};
  const kvm::IoExit io{0x3f8, 1, 3, true, data};

  ExitOutcome outcome = HandleExit(io, buses.context());

  CHECK(outcome.action == ExitAction::kContinue);
  REQUIRE(buses.port_device->accesses.size() == 3);
  CHECK(buses.port_device->accesses[0].data == std::vector<uint8_t>{'a'});
  CHECK(buses.port_device->accesses[1].data == std::vector<uint8_t>{'b'});
  CHECK(buses.port_device->accesses[2].data == std::vector<uint8_t>{'c'});
}

TEST_CASE("A rep insw of count 3 fills each 2-byte item from its own device read") {
  Buses buses;
  std::array<uint8_t, 6> data{};
  const kvm::IoExit io{0x3f8, 2, 3, false, data};

  ExitOutcome outcome = HandleExit(io, buses.context());

  CHECK(outcome.action == ExitAction::kContinue);
  CHECK(buses.port_device->accesses.size() == 3);
  CHECK(Bytes(data) == std::vector<uint8_t>{0x10, 0x10, 0x11, 0x11, 0x12, 0x12});
}

TEST_CASE("An unclaimed port read returns all-ones") {
  Buses buses;
  std::array<uint8_t, 4> data = {1, 2, 3, 4};
  const kvm::IoExit io{0x2f8, 4, 1, false, data};

  ExitOutcome outcome = HandleExit(io, buses.context());

  CHECK(outcome.action == ExitAction::kContinue);
  CHECK(Bytes(data) == std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff});
}

TEST_CASE("A port read straddling the end of a device is unclaimed and returns all-ones") {
  Buses buses;
  std::array<uint8_t, 2> data = {0, 0};
  const kvm::IoExit io{0x3ff, 2, 1, false, data};

  ExitOutcome outcome = HandleExit(io, buses.context());

  CHECK(outcome.action == ExitAction::kContinue);
  CHECK(buses.port_device->accesses.empty());
  CHECK(Bytes(data) == std::vector<uint8_t>{0xff, 0xff});
}

TEST_CASE("An unclaimed port write is dropped and the vCPU continues") {
  Buses buses;
  std::array<uint8_t, 1> data = {0x55};
  const kvm::IoExit io{0x80, 1, 1, true, data};

  ExitOutcome outcome = HandleExit(io, buses.context());

  CHECK(outcome.action == ExitAction::kContinue);
  CHECK(buses.port_device->accesses.empty());
  CHECK(data[0] == 0x55);
}

// --- MMIO -----------------------------------------------------------------

TEST_CASE("An MMIO write reaches the device with its address, offset and bytes") {
  Buses buses;
  std::array<uint8_t, 4> data = {1, 2, 3, 4};
  const kvm::MmioExit mmio{0xd000'0070, true, data};

  ExitOutcome outcome = HandleExit(mmio, buses.context());

  CHECK(outcome.action == ExitAction::kContinue);
  REQUIRE(buses.mmio_device->accesses.size() == 1);
  const auto& access = buses.mmio_device->accesses[0];
  CHECK(access.is_write);
  CHECK(access.access.address == 0xd000'0070);
  CHECK(access.access.offset == 0x70);
  CHECK(access.access.vcpu == kVcpu);
  CHECK(access.data == std::vector<uint8_t>{1, 2, 3, 4});
}

TEST_CASE("An MMIO read returns what the device supplied") {
  Buses buses;
  std::array<uint8_t, 4> data{};
  const kvm::MmioExit mmio{0xd000'0000, false, data};

  ExitOutcome outcome = HandleExit(mmio, buses.context());

  CHECK(outcome.action == ExitAction::kContinue);
  CHECK(Bytes(data) == std::vector<uint8_t>{0x60, 0x60, 0x60, 0x60});
}

TEST_CASE("An unclaimed MMIO read returns all-ones") {
  Buses buses;
  std::array<uint8_t, 8> data{};
  const kvm::MmioExit mmio{0xfed0'0000, false, data};

  ExitOutcome outcome = HandleExit(mmio, buses.context());

  CHECK(outcome.action == ExitAction::kContinue);
  CHECK(Bytes(data) == std::vector<uint8_t>(8, 0xff));
}

TEST_CASE("An MMIO access is dispatched on the MMIO bus, not the port bus") {
  Buses buses;
  std::array<uint8_t, 1> data = {0x99};
  // 0x3f8 is a claimed port but not a claimed MMIO address.
  const kvm::MmioExit mmio{0x3f8, true, data};

  ExitOutcome outcome = HandleExit(mmio, buses.context());

  CHECK(outcome.action == ExitAction::kContinue);
  CHECK(buses.port_device->accesses.empty());
  CHECK(buses.mmio_device->accesses.empty());
}

// --- System events ----------------------------------------------------------

TEST_CASE("A SYSTEM_EVENT shutdown powers the VM off") {
  Buses buses;

  ExitOutcome outcome =
      HandleExit(kvm::SystemEventExit{KVM_SYSTEM_EVENT_SHUTDOWN}, buses.context());

  CHECK(outcome.action == ExitAction::kPowerOff);
}

TEST_CASE("A SYSTEM_EVENT reset resets the VM") {
  Buses buses;

  ExitOutcome outcome = HandleExit(kvm::SystemEventExit{KVM_SYSTEM_EVENT_RESET}, buses.context());

  CHECK(outcome.action == ExitAction::kReset);
}

TEST_CASE("A SYSTEM_EVENT crash is a crash that says the guest reported it") {
  Buses buses;

  ExitOutcome outcome = HandleExit(kvm::SystemEventExit{KVM_SYSTEM_EVENT_CRASH}, buses.context());

  CHECK(outcome.action == ExitAction::kCrash);
  CHECK(outcome.reason == "the guest reported a crash (KVM_SYSTEM_EVENT_CRASH)");
}

TEST_CASE("An unknown SYSTEM_EVENT type is a crash naming the type") {
  Buses buses;

  ExitOutcome outcome = HandleExit(kvm::SystemEventExit{99}, buses.context());

  CHECK(outcome.action == ExitAction::kCrash);
  CHECK(outcome.reason == "unknown KVM system event 99");
}

// --- Fatal exits ------------------------------------------------------------

TEST_CASE("A triple fault after a cold reset flag (Linux's reboot=triple) is a reset") {
  Buses buses;
  REQUIRE(buses.memory.WriteObj(GuestAddress(arch::x86_64::kBiosResetFlagAddress),
                                arch::x86_64::kResetFlagCold));

  ExitOutcome outcome = HandleExit(kvm::ShutdownExit{}, buses.context());

  CHECK(outcome.action == ExitAction::kReset);
  CHECK(outcome.reason == "triple fault after the guest announced a restart");
}

TEST_CASE("A triple fault after a warm reset flag is a reset") {
  Buses buses;
  REQUIRE(buses.memory.WriteObj(GuestAddress(arch::x86_64::kBiosResetFlagAddress),
                                arch::x86_64::kResetFlagWarm));

  ExitOutcome outcome = HandleExit(kvm::ShutdownExit{}, buses.context());

  CHECK(outcome.action == ExitAction::kReset);
}

TEST_CASE("A triple fault with a scribbled reset flag is still a crash") {
  Buses buses;
  REQUIRE(
      buses.memory.WriteObj(GuestAddress(arch::x86_64::kBiosResetFlagAddress), uint16_t{0xbeef}));

  ExitOutcome outcome = HandleExit(kvm::ShutdownExit{}, buses.context());

  CHECK(outcome.action == ExitAction::kCrash);
}

TEST_CASE("A shutdown exit (triple fault) is a crash that says triple fault") {
  Buses buses;

  ExitOutcome outcome = HandleExit(kvm::ShutdownExit{}, buses.context());

  CHECK(outcome.action == ExitAction::kCrash);
  CHECK_THAT(outcome.reason,
             Catch::StartsWith("triple fault: the guest hit an exception it could not handle"));
}

TEST_CASE("A failed entry is a crash naming the hardware reason and CPU") {
  Buses buses;

  ExitOutcome outcome = HandleExit(kvm::FailEntryExit{0x80000021, 1}, buses.context());

  CHECK(outcome.action == ExitAction::kCrash);
  CHECK(outcome.reason == "KVM could not enter the guest (hardware reason 0x80000021 on CPU 1)");
}

TEST_CASE("An internal error is a crash naming the suberror and its data") {
  Buses buses;

  ExitOutcome outcome = HandleExit(
      kvm::InternalErrorExit{KVM_INTERNAL_ERROR_EMULATION, {0x1, 0xabc}, 2}, buses.context());

  CHECK(outcome.action == ExitAction::kCrash);
  CHECK(outcome.reason == "KVM internal error, suberror 1, data 0x1 0xabc");
}

TEST_CASE("An internal error without data is a crash naming the suberror only") {
  Buses buses;

  ExitOutcome outcome = HandleExit(kvm::InternalErrorExit{3, {}, 0}, buses.context());

  CHECK(outcome.action == ExitAction::kCrash);
  CHECK(outcome.reason == "KVM internal error, suberror 3");
}

TEST_CASE("A failed KVM_RUN is a crash naming the error") {
  Buses buses;

  ExitOutcome outcome = HandleExit(kvm::RunFailedExit{EFAULT}, buses.context());

  CHECK(outcome.action == ExitAction::kCrash);
  CHECK(outcome.reason == "KVM_RUN failed: Bad address");
}

TEST_CASE("An unknown exit is a crash naming the exit reason") {
  Buses buses;

  ExitOutcome outcome = HandleExit(kvm::UnknownExit{KVM_EXIT_HYPERCALL}, buses.context());

  CHECK(outcome.action == ExitAction::kCrash);
  CHECK(outcome.reason == "unexpected KVM exit reason 3");
}

// --- Exits that just run again ---------------------------------------------

TEST_CASE("An interrupted run continues") {
  Buses buses;

  ExitOutcome outcome = HandleExit(kvm::InterruptedExit{}, buses.context());

  CHECK(outcome.action == ExitAction::kContinue);
  CHECK(outcome.reason.empty());
}

TEST_CASE("A HLT exit continues") {
  Buses buses;

  ExitOutcome outcome = HandleExit(kvm::HltExit{}, buses.context());

  CHECK(outcome.action == ExitAction::kContinue);
  CHECK(outcome.reason.empty());
}

TEST_CASE("A debug exit goes to the debugger") {
  Buses buses;

  ExitOutcome outcome = HandleExit(kvm::DebugExit{}, buses.context());

  CHECK(outcome.action == ExitAction::kDebug);
}

}  // namespace
}  // namespace mini_vmm
