// Format(): the out-of-line fmt::format every mini-vmm message goes through.
#include "vmm/base/format.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace mini_vmm {
namespace {

TEST_CASE("Format formats like fmt::format") {
  CHECK(Format("vCPU {}: {}", 3, "halted") == "vCPU 3: halted");
  CHECK(Format("{:#x} {:016x}", 0xd0000000u, uint64_t{0x1234}) == "0xd0000000 0000000000001234");
  CHECK(Format("{:.1f} ms", 12.345) == "12.3 ms");
  CHECK(Format("V{:03X}", 10) == "V00A");
}

// fmt's engine is compiled once, in vmm/base/fmt_instantiations.cc, not
// header-only: these use the parts it instantiates by hand (shortest float
// output, padding, locale-aware digits), so a missing instantiation fails
// to link and a wrong one fails here.
TEST_CASE("Format prints floats in their shortest round-trip form") {
  CHECK(Format("{}", 0.1) == "0.1");
  CHECK(Format("{}", 1.5f) == "1.5");
  CHECK(Format("{}", 1e300) == "1e+300");
}

TEST_CASE("Format pads and aligns") {
  CHECK(Format("[{:>8}]", "ab") == "[      ab]");
  CHECK(Format("[{:<6}]", 42) == "[42    ]");
  CHECK(Format("[{:#x}]", 255u) == "[0xff]");
}

TEST_CASE("Format with L uses the global C locale, which has no digit grouping") {
  CHECK(Format("{:L}", 1234567) == "1234567");
  CHECK(Format("{:.2Lf}", 2.5) == "2.50");
}

TEST_CASE("Format takes temporaries and views") {
  const std::string path = "/tmp/disk.img";
  CHECK(Format("{} ({})", std::string_view(path), std::string("ro")) == "/tmp/disk.img (ro)");
}

TEST_CASE("Format with no arguments returns the text unchanged") {
  CHECK(Format("plain text") == "plain text");
  CHECK(Format("{{braces}}") == "{braces}");
}

}  // namespace
}  // namespace mini_vmm
