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
