#include "vmm/trace/exit_filter.h"

#include <array>
#include <catch2/catch.hpp>
#include <string>

namespace mini_vmm::trace {
namespace {

std::array<uint8_t, 8> g_data{};

kvm::VcpuExit Pio(uint16_t port, uint8_t size = 1) {
  return kvm::IoExit{port, size, 1, true, std::span<uint8_t>(g_data).first(size)};
}
kvm::VcpuExit Mmio(uint64_t address, size_t size = 4) {
  return kvm::MmioExit{address, false, std::span<uint8_t>(g_data).first(size)};
}

ExitFilter Parse(const std::string& text) {
  auto filter = ParseExitFilter(text);
  INFO(text);
  REQUIRE(filter.ok());
  return *filter;
}

std::string ErrorOf(const std::string& text) {
  auto filter = ParseExitFilter(text);
  REQUIRE_FALSE(filter.ok());
  return filter.error().ToString();
}

// --- Valid filters ----------------------------------------------------------

TEST_CASE("ExitFilter all matches every kind of exit") {
  const ExitFilter filter = Parse("all");
  CHECK(filter.Matches(Pio(0x80)));
  CHECK(filter.Matches(Mmio(0xd0000000)));
  CHECK(filter.Matches(kvm::HltExit{}));
  CHECK(filter.Matches(kvm::DebugExit{}));
  CHECK(filter.Matches(kvm::InterruptedExit{}));
  CHECK(filter.Matches(kvm::ShutdownExit{}));
  CHECK(filter.Matches(kvm::UnknownExit{99}));
}

TEST_CASE("ExitFilter with one kind matches that kind only") {
  const ExitFilter filter = Parse("mmio");
  CHECK(filter.Matches(Mmio(0xfee00000)));
  CHECK_FALSE(filter.Matches(Pio(0x3f8)));
  CHECK_FALSE(filter.Matches(kvm::HltExit{}));
}

TEST_CASE("ExitFilter other matches the rare exits and not the common ones") {
  const ExitFilter filter = Parse("other");
  CHECK(filter.Matches(kvm::SystemEventExit{1}));
  CHECK(filter.Matches(kvm::FailEntryExit{}));
  CHECK(filter.Matches(kvm::RunFailedExit{5}));
  CHECK_FALSE(filter.Matches(kvm::InterruptedExit{}));
  CHECK_FALSE(filter.Matches(Pio(0x3f8)));
}

TEST_CASE("ExitFilter pio range FIRST-LAST is inclusive at both ends") {
  const ExitFilter filter = Parse("pio=0x3f8-0x3ff");
  CHECK_FALSE(filter.Matches(Pio(0x3f7)));
  CHECK(filter.Matches(Pio(0x3f8)));
  CHECK(filter.Matches(Pio(0x3ff)));
  CHECK_FALSE(filter.Matches(Pio(0x400)));
}

TEST_CASE("ExitFilter range matches an access any of whose bytes is inside") {
  const ExitFilter filter = Parse("pio=0xcfc");
  CHECK(filter.Matches(Pio(0xcfa, 4)));  // 0xcfa..0xcfd covers 0xcfc.
  CHECK_FALSE(filter.Matches(Pio(0xcf8, 4)));
}

TEST_CASE("ExitFilter mmio BASE+LENGTH covers exactly LENGTH bytes") {
  const ExitFilter filter = Parse("mmio=0xfee00000+0x1000");
  CHECK(filter.Matches(Mmio(0xfee00ffc)));
  CHECK_FALSE(filter.Matches(Mmio(0xfee01000)));
  CHECK_FALSE(filter.Matches(Mmio(0xfedffff0, 4)));
}

TEST_CASE("ExitFilter port ranges do not match MMIO at the same number") {
  const ExitFilter filter = Parse("pio=0x3f8-0x3ff");
  CHECK_FALSE(filter.Matches(Mmio(0x3f8)));
}

TEST_CASE("ExitFilter terms add up: a range and a kind") {
  const ExitFilter filter = Parse("pio=0x60,pio=0x64,hlt");
  CHECK(filter.Matches(Pio(0x60)));
  CHECK(filter.Matches(Pio(0x64)));
  CHECK_FALSE(filter.Matches(Pio(0x61)));
  CHECK(filter.Matches(kvm::HltExit{}));
}

TEST_CASE("ExitFilter takes decimal numbers and a range reaching the top of MMIO") {
  CHECK(Parse("pio=1016-1023").Matches(Pio(0x3f8)));
  CHECK(Parse("mmio=0xfffffffffffffff0-0xffffffffffffffff").Matches(Mmio(0xfffffffffffffffc)));
}

TEST_CASE("ExitFilter an MMIO access running past the top of the space still matches") {
  CHECK(Parse("mmio=0xffffffffffffffff").Matches(Mmio(0xfffffffffffffffe, 8)));
}

TEST_CASE("ExitFilter a default-constructed filter matches nothing") {
  const ExitFilter filter;
  CHECK_FALSE(filter.Matches(Pio(0x3f8)));
  CHECK_FALSE(filter.Matches(kvm::HltExit{}));
}

// --- Malformed filters: one sentence naming the bad term --------------------

TEST_CASE("ExitFilter rejects an empty filter") {
  CHECK(ErrorOf("").find("empty term") != std::string::npos);
}

TEST_CASE("ExitFilter rejects an empty term between commas") {
  CHECK(ErrorOf("pio,,hlt").find("empty term") != std::string::npos);
}

TEST_CASE("ExitFilter rejects a trailing comma") {
  CHECK(ErrorOf("pio,").find("empty term") != std::string::npos);
}

TEST_CASE("ExitFilter rejects an unknown kind") {
  CHECK(ErrorOf("pio,serial") ==
        "unknown --trace-exits term \"serial\": expected all, pio, mmio, "
        "hlt, debug, intr, other, pio=RANGE or mmio=RANGE");
}

TEST_CASE("ExitFilter rejects a kind in the wrong case") {
  CHECK(ErrorOf("PIO").find("unknown --trace-exits term \"PIO\"") != std::string::npos);
}

TEST_CASE("ExitFilter rejects a range on a kind without addresses") {
  CHECK(ErrorOf("hlt=1") == "--trace-exits term \"hlt=1\": only pio and mmio take a range");
}

TEST_CASE("ExitFilter rejects an empty range") {
  CHECK(ErrorOf("pio=") == "--trace-exits range \"pio=\" is not ADDR, FIRST-LAST or BASE+LENGTH");
}

TEST_CASE("ExitFilter rejects a range with no end") {
  CHECK(ErrorOf("pio=0x3f8-").find("is not ADDR") != std::string::npos);
}

TEST_CASE("ExitFilter rejects a bare 0x") {
  CHECK(ErrorOf("pio=0x").find("is not ADDR") != std::string::npos);
}

TEST_CASE("ExitFilter rejects a negative number") {
  CHECK(ErrorOf("pio=-1").find("is not ADDR") != std::string::npos);
}

TEST_CASE("ExitFilter rejects trailing garbage after a number") {
  CHECK(ErrorOf("pio=0x3f8q").find("is not ADDR") != std::string::npos);
}

TEST_CASE("ExitFilter rejects a number wider than 64 bits") {
  CHECK(ErrorOf("mmio=0x10000000000000000").find("is not ADDR") != std::string::npos);
}

TEST_CASE("ExitFilter rejects a reversed range") {
  CHECK(ErrorOf("pio=0x3ff-0x3f8") ==
        "--trace-exits range \"pio=0x3ff-0x3f8\" ends before it starts");
}

TEST_CASE("ExitFilter rejects a port above 0xffff") {
  CHECK(ErrorOf("pio=0x10000").find("goes past the last address 0xffff") != std::string::npos);
}

TEST_CASE("ExitFilter rejects a port range running past 0xffff") {
  CHECK(ErrorOf("pio=0xfff0+0x20").find("goes past the last address") != std::string::npos);
}

TEST_CASE("ExitFilter rejects a zero length") {
  CHECK(ErrorOf("mmio=0x1000+0") ==
        "--trace-exits range \"mmio=0x1000+0\" is empty or wraps around");
}

TEST_CASE("ExitFilter rejects a length that wraps around the address space") {
  CHECK(ErrorOf("mmio=0xfffffffffffffff0+0x11").find("wraps around") != std::string::npos);
}

TEST_CASE("ExitFilter rejects more ranges than it keeps") {
  std::string text = "pio=1";
  for (size_t i = 1; i <= kMaxExitFilterRanges; ++i) text += ",pio=1";
  CHECK(ErrorOf(text) == "--trace-exits has more than 16 ranges");
}

TEST_CASE("ExitFilter quotes control bytes of a bad term, so the error stays one line") {
  CHECK(ErrorOf("pio,p\nio") ==
        "unknown --trace-exits term \"p\\x0aio\": expected all, pio, mmio, hlt, debug, intr, "
        "other, pio=RANGE or mmio=RANGE");
}

TEST_CASE("ExitFilter quotes a quote in a bad range") {
  CHECK(ErrorOf("pio=\"1") ==
        "--trace-exits range \"pio=\\x221\" is not ADDR, FIRST-LAST or BASE+LENGTH");
}

TEST_CASE("ExitFilter accepts exactly the maximum number of ranges") {
  std::string text = "pio=1";
  for (size_t i = 1; i < kMaxExitFilterRanges; ++i) text += ",pio=1";
  CHECK(ParseExitFilter(text).ok());
}

}  // namespace
}  // namespace mini_vmm::trace
