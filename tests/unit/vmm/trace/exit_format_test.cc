#include "vmm/trace/exit_format.h"

#include <array>
#include <catch2/catch.hpp>

namespace mini_vmm::trace {
namespace {

TEST_CASE("FormatExit shows a port write with its vCPU, port, size, value and instruction") {
  std::array<uint8_t, 1> data = {0x41};
  const kvm::IoExit io{0x3f8, 1, 1, true, data};
  CHECK(FormatExit(0, io, "ffffffff81000000: ee  out dx, al") ==
        "vcpu0 pio out port=0x3f8 size=1 data=0x41 | ffffffff81000000: ee  out dx, al");
}

TEST_CASE("FormatExit shows a port read's value as the little-endian word the guest gets") {
  std::array<uint8_t, 2> data = {0x34, 0x12};
  const kvm::IoExit io{0xcfc, 2, 1, false, data};
  CHECK(FormatExit(3, io, "") == "vcpu3 pio in port=0xcfc size=2 data=0x1234");
}

TEST_CASE("FormatExit shows string I/O item by item, cut after kMaxTracedItems") {
  std::array<uint8_t, 10> data = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const kvm::IoExit io{0x1f0, 1, 10, false, data};
  CHECK(FormatExit(0, io, "") ==
        "vcpu0 pio in port=0x1f0 size=1 count=10 "
        "data=0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,...");
}

TEST_CASE("FormatExit never reads past a string I/O window shorter than count * size") {
  std::array<uint8_t, 2> data = {0xaa, 0xbb};
  const kvm::IoExit io{0x1f0, 2, 3, true, data};
  CHECK(FormatExit(0, io, "") == "vcpu0 pio out port=0x1f0 size=2 count=3 data=0xbbaa,...");
}

TEST_CASE("FormatExit shows an MMIO write with its address and zero-padded value") {
  std::array<uint8_t, 4> data = {0x14, 0x00, 0x05, 0x00};
  const kvm::MmioExit mmio{0xfee00030, true, data};
  CHECK(FormatExit(1, mmio, "x") == "vcpu1 mmio write addr=0xfee00030 size=4 data=0x00050014 | x");
}

TEST_CASE("FormatExit shows an 8-byte MMIO read") {
  std::array<uint8_t, 8> data = {8, 7, 6, 5, 4, 3, 2, 1};
  const kvm::MmioExit mmio{0xd0000000, false, data};
  CHECK(FormatExit(0, mmio, "") ==
        "vcpu0 mmio read addr=0xd0000000 size=8 data=0x0102030405060708");
}

TEST_CASE("FormatExit names the exits that move no data") {
  CHECK(FormatExit(0, kvm::HltExit{}, "") == "vcpu0 hlt");
  CHECK(FormatExit(2, kvm::InterruptedExit{}, "") == "vcpu2 intr");
  CHECK(FormatExit(0, kvm::ShutdownExit{}, "") == "vcpu0 shutdown (triple fault)");
  CHECK(FormatExit(0, kvm::SystemEventExit{2}, "") == "vcpu0 system-event type=2");
  CHECK(FormatExit(0, kvm::UnknownExit{77}, "") == "vcpu0 unknown reason=77");
  CHECK(FormatExit(0, kvm::RunFailedExit{14}, "") == "vcpu0 run-failed errno=14");
  CHECK(FormatExit(0, kvm::FailEntryExit{0x21, 1}, "") ==
        "vcpu0 fail-entry hardware_reason=0x21 cpu=1");
}

TEST_CASE("FormatExit shows a debug exit's exception, pc and debug registers") {
  kvm::DebugExit debug{};
  debug.arch.exception = 1;
  debug.arch.pc = 0xffffffff81000000;
  debug.arch.dr6 = 0xffff4ff0;
  debug.arch.dr7 = 0x400;
  CHECK(FormatExit(0, debug, "") ==
        "vcpu0 debug exception=1 pc=0xffffffff81000000 dr6=0xffff4ff0 dr7=0x400");
}

}  // namespace
}  // namespace mini_vmm::trace
