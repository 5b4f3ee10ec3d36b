#include "vmm/kvm/vcpu_exit.h"

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <new>
#include <vector>

namespace mini_vmm::kvm {
namespace {

// x86 KVM maps three pages per vCPU and puts port I/O data on the second
// (KVM_PIO_PAGE_OFFSET = 1), as the real kvm_run mapping does.
constexpr size_t kRunSize = 3 * 4096;
constexpr uint64_t kPioDataOffset = 4096;

// A zeroed stand-in for a vCPU's kvm_run mapping.
class FakeRun {
 public:
  FakeRun() : run_(new (bytes_.data()) kvm_run{}) {}

  kvm_run& run() { return *run_; }
  uint8_t* base() { return bytes_.data(); }

  void SetIo(uint8_t direction, uint16_t port, uint8_t size, uint32_t count, uint64_t data_offset) {
    run_->exit_reason = KVM_EXIT_IO;
    run_->io.direction = direction;
    run_->io.port = port;
    run_->io.size = size;
    run_->io.count = count;
    run_->io.data_offset = data_offset;
  }

 private:
  alignas(kvm_run) std::array<uint8_t, kRunSize> bytes_{};
  kvm_run* run_;
};

// --- Port I/O -------------------------------------------------------------

TEST_CASE("An OUT exit decodes port, size, direction and a data window in kvm_run") {
  FakeRun fake;
  fake.SetIo(KVM_EXIT_IO_OUT, 0x3f8, 1, 1, kPioDataOffset);
  fake.base()[kPioDataOffset] = 0x42;

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<IoExit>(exit));
  const IoExit& io = std::get<IoExit>(exit);
  CHECK(io.port == 0x3f8);
  CHECK(io.size == 1);
  CHECK(io.count == 1);
  CHECK(io.is_write);
  CHECK(io.data.data() == fake.base() + kPioDataOffset);
  CHECK(io.data.size() == 1);
  CHECK(io.data[0] == 0x42);
}

TEST_CASE("An IN exit is a read whose data window the handler can fill") {
  FakeRun fake;
  fake.SetIo(KVM_EXIT_IO_IN, 0x64, 4, 1, kPioDataOffset);

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<IoExit>(exit));
  const IoExit& io = std::get<IoExit>(exit);
  CHECK_FALSE(io.is_write);
  CHECK(io.size == 4);
  CHECK(io.data.data() == fake.base() + kPioDataOffset);
  CHECK(io.data.size() == 4);
}

TEST_CASE("A rep string exit of count 3 spans count * size bytes") {
  FakeRun fake;
  fake.SetIo(KVM_EXIT_IO_OUT, 0x80, 2, 3, kPioDataOffset);

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<IoExit>(exit));
  const IoExit& io = std::get<IoExit>(exit);
  CHECK(io.count == 3);
  CHECK(io.size == 2);
  CHECK(io.data.size() == 6);
  CHECK(io.data.data() == fake.base() + kPioDataOffset);
}

TEST_CASE("An I/O data window ending exactly at the end of the mapping is accepted") {
  FakeRun fake;
  fake.SetIo(KVM_EXIT_IO_IN, 0x60, 4, 2, kRunSize - 8);

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<IoExit>(exit));
  CHECK(std::get<IoExit>(exit).data.size() == 8);
}

TEST_CASE("BadIoWindowPastEnd: an I/O data window running past the mapping is an UnknownExit") {
  FakeRun fake;
  fake.SetIo(KVM_EXIT_IO_IN, 0x60, 4, 2, kRunSize - 7);

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<UnknownExit>(exit));
  CHECK(std::get<UnknownExit>(exit).reason == KVM_EXIT_IO);
}

TEST_CASE("BadIoOffsetPastEnd: an I/O data offset beyond the mapping is an UnknownExit") {
  FakeRun fake;
  fake.SetIo(KVM_EXIT_IO_OUT, 0x60, 1, 0, kRunSize + 1);

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<UnknownExit>(exit));
  CHECK(std::get<UnknownExit>(exit).reason == KVM_EXIT_IO);
}

TEST_CASE("BadIoHugeCount: a count whose byte total exceeds the mapping is an UnknownExit") {
  FakeRun fake;
  fake.SetIo(KVM_EXIT_IO_OUT, 0x60, 4, 0xffffffff, kPioDataOffset);

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<UnknownExit>(exit));
  CHECK(std::get<UnknownExit>(exit).reason == KVM_EXIT_IO);
}

TEST_CASE("BadIoZeroSize: an I/O exit of size 0 is an UnknownExit") {
  FakeRun fake;
  fake.SetIo(KVM_EXIT_IO_OUT, 0x60, 0, 1, kPioDataOffset);

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<UnknownExit>(exit));
  CHECK(std::get<UnknownExit>(exit).reason == KVM_EXIT_IO);
}

// --- MMIO -----------------------------------------------------------------

TEST_CASE("An MMIO write exit decodes address, direction and len bytes of data") {
  FakeRun fake;
  fake.run().exit_reason = KVM_EXIT_MMIO;
  fake.run().mmio.phys_addr = 0xd000'0050;
  fake.run().mmio.is_write = 1;
  fake.run().mmio.len = 4;
  fake.run().mmio.data[0] = 0x11;
  fake.run().mmio.data[3] = 0x44;

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<MmioExit>(exit));
  const MmioExit& mmio = std::get<MmioExit>(exit);
  CHECK(mmio.address == 0xd000'0050);
  CHECK(mmio.is_write);
  CHECK(mmio.data.data() == fake.run().mmio.data);
  CHECK(mmio.data.size() == 4);
  CHECK(mmio.data[0] == 0x11);
  CHECK(mmio.data[3] == 0x44);
}

TEST_CASE("An MMIO read exit of 8 bytes points at kvm_run's data for the handler to fill") {
  FakeRun fake;
  fake.run().exit_reason = KVM_EXIT_MMIO;
  fake.run().mmio.phys_addr = 0xfec0'0010;
  fake.run().mmio.is_write = 0;
  fake.run().mmio.len = 8;

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<MmioExit>(exit));
  const MmioExit& mmio = std::get<MmioExit>(exit);
  CHECK_FALSE(mmio.is_write);
  CHECK(mmio.data.data() == fake.run().mmio.data);
  CHECK(mmio.data.size() == 8);
}

TEST_CASE("BadMmioLength: an MMIO len above 8 is clamped to kvm_run's 8 data bytes") {
  FakeRun fake;
  fake.run().exit_reason = KVM_EXIT_MMIO;
  fake.run().mmio.len = 200;

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<MmioExit>(exit));
  CHECK(std::get<MmioExit>(exit).data.size() == 8);
}

// --- Everything else --------------------------------------------------------

TEST_CASE("KVM_EXIT_HLT decodes to HltExit") {
  FakeRun fake;
  fake.run().exit_reason = KVM_EXIT_HLT;

  CHECK(std::holds_alternative<HltExit>(DecodeExit(fake.run(), kRunSize)));
}

TEST_CASE("KVM_EXIT_SHUTDOWN decodes to ShutdownExit") {
  FakeRun fake;
  fake.run().exit_reason = KVM_EXIT_SHUTDOWN;

  CHECK(std::holds_alternative<ShutdownExit>(DecodeExit(fake.run(), kRunSize)));
}

TEST_CASE("KVM_EXIT_INTR decodes to InterruptedExit") {
  FakeRun fake;
  fake.run().exit_reason = KVM_EXIT_INTR;

  CHECK(std::holds_alternative<InterruptedExit>(DecodeExit(fake.run(), kRunSize)));
}

TEST_CASE("KVM_EXIT_FAIL_ENTRY carries the hardware reason and the CPU") {
  FakeRun fake;
  fake.run().exit_reason = KVM_EXIT_FAIL_ENTRY;
  fake.run().fail_entry.hardware_entry_failure_reason = 0x80000021;
  fake.run().fail_entry.cpu = 3;

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<FailEntryExit>(exit));
  CHECK(std::get<FailEntryExit>(exit).hardware_reason == 0x80000021);
  CHECK(std::get<FailEntryExit>(exit).cpu == 3);
}

TEST_CASE("KVM_EXIT_INTERNAL_ERROR carries the suberror and ndata data words") {
  FakeRun fake;
  fake.run().exit_reason = KVM_EXIT_INTERNAL_ERROR;
  fake.run().internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
  fake.run().internal.ndata = 3;
  fake.run().internal.data[0] = 0xaa;
  fake.run().internal.data[1] = 0xbb;
  fake.run().internal.data[2] = 0xcc;
  fake.run().internal.data[3] = 0xdd;  // Beyond ndata: not reported.

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<InternalErrorExit>(exit));
  CHECK(std::get<InternalErrorExit>(exit).suberror == KVM_INTERNAL_ERROR_EMULATION);
  const auto data = std::get<InternalErrorExit>(exit).data();
  CHECK(std::vector<uint64_t>(data.begin(), data.end()) == std::vector<uint64_t>{0xaa, 0xbb, 0xcc});
}

TEST_CASE("BadInternalErrorNdata: an ndata above 16 is clamped to kvm_run's 16 words") {
  FakeRun fake;
  fake.run().exit_reason = KVM_EXIT_INTERNAL_ERROR;
  fake.run().internal.ndata = 1000;
  fake.run().internal.data[15] = 0x1515;

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<InternalErrorExit>(exit));
  const auto data = std::get<InternalErrorExit>(exit).data();
  REQUIRE(data.size() == 16);
  CHECK(data[15] == 0x1515);
}

TEST_CASE("KVM_EXIT_SYSTEM_EVENT carries the event type") {
  FakeRun fake;
  fake.run().exit_reason = KVM_EXIT_SYSTEM_EVENT;
  fake.run().system_event.type = KVM_SYSTEM_EVENT_RESET;

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<SystemEventExit>(exit));
  CHECK(std::get<SystemEventExit>(exit).type == KVM_SYSTEM_EVENT_RESET);
}

TEST_CASE("KVM_EXIT_DEBUG carries the architectural debug state") {
  FakeRun fake;
  fake.run().exit_reason = KVM_EXIT_DEBUG;
  fake.run().debug.arch.exception = 1;
  fake.run().debug.arch.pc = 0x100200;
  fake.run().debug.arch.dr6 = 0xffff4ff0;

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<DebugExit>(exit));
  CHECK(std::get<DebugExit>(exit).arch.exception == 1);
  CHECK(std::get<DebugExit>(exit).arch.pc == 0x100200);
  CHECK(std::get<DebugExit>(exit).arch.dr6 == 0xffff4ff0);
}

TEST_CASE("An exit reason mini-vmm does not handle decodes to UnknownExit with the reason") {
  FakeRun fake;
  fake.run().exit_reason = KVM_EXIT_HYPERCALL;

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<UnknownExit>(exit));
  CHECK(std::get<UnknownExit>(exit).reason == KVM_EXIT_HYPERCALL);
}

TEST_CASE("An exit reason beyond every known one decodes to UnknownExit with the reason") {
  FakeRun fake;
  fake.run().exit_reason = 0x1234;

  VcpuExit exit = DecodeExit(fake.run(), kRunSize);

  REQUIRE(std::holds_alternative<UnknownExit>(exit));
  CHECK(std::get<UnknownExit>(exit).reason == 0x1234);
}

}  // namespace
}  // namespace mini_vmm::kvm
