#include "firmware/acpi/aml.h"

#include <catch2/catch.hpp>

namespace mini_vmm::firmware::acpi::aml {
namespace {

TEST_CASE("PkgLength of 63 is the largest one-byte encoding") {
  CHECK(PkgLength(0) == Bytes{0x00});
  CHECK(PkgLength(63) == Bytes{0x3f});
}

TEST_CASE("PkgLength of 64 takes two bytes, low nibble in the lead byte") {
  CHECK(PkgLength(64) == Bytes{0x40, 0x04});
  CHECK(PkgLength(0x123) == Bytes{0x43, 0x12});
}

TEST_CASE("PkgLength of 4095 is the largest two-byte encoding") {
  CHECK(PkgLength(4095) == Bytes{0x4f, 0xff});
}

TEST_CASE("PkgLength of 4096 takes three bytes") {
  CHECK(PkgLength(4096) == Bytes{0x80, 0x00, 0x01});
  CHECK(PkgLength((1u << 20) - 1) == Bytes{0x8f, 0xff, 0xff});
}

TEST_CASE("PkgLength of 2^20 takes four bytes") {
  CHECK(PkgLength(1u << 20) == Bytes{0xc0, 0x00, 0x00, 0x01});
  CHECK(PkgLength((1u << 28) - 1) == Bytes{0xcf, 0xff, 0xff, 0xff});
}

TEST_CASE("WithPkgLength counts its own bytes in the length") {
  CHECK(WithPkgLength(Bytes(62, 0)).front() == 63);
  CHECK(WithPkgLength(Bytes(62, 0)).size() == 63);
}

TEST_CASE("WithPkgLength switches to two bytes when the body reaches 63 bytes") {
  // 63 body bytes + 2 length bytes = 65 = 0x41.
  const Bytes encoded = WithPkgLength(Bytes(63, 0));
  CHECK(Bytes(encoded.begin(), encoded.begin() + 2) == Bytes{0x41, 0x04});
  CHECK(encoded.size() == 65);
}

TEST_CASE("WithPkgLength switches to three bytes when two cannot hold the total") {
  // 4093 + 2 = 4095 still fits two bytes; 4094 + 2 = 4096 does not, and
  // with three bytes the total is 4097.
  const Bytes two = WithPkgLength(Bytes(4093, 0));
  CHECK(Bytes(two.begin(), two.begin() + 2) == Bytes{0x4f, 0xff});
  CHECK(two.size() == 4095);
  const Bytes three = WithPkgLength(Bytes(4094, 0));
  CHECK(Bytes(three.begin(), three.begin() + 3) == Bytes{0x81, 0x00, 0x01});
  CHECK(three.size() == 4097);
}

TEST_CASE("Integer uses ZeroOp and OneOp for 0 and 1") {
  CHECK(Integer(0) == Bytes{0x00});
  CHECK(Integer(1) == Bytes{0x01});
}

TEST_CASE("Integer uses BytePrefix from 2 to 0xff") {
  CHECK(Integer(2) == Bytes{0x0a, 0x02});
  CHECK(Integer(0xff) == Bytes{0x0a, 0xff});
}

TEST_CASE("Integer uses WordPrefix from 0x100 to 0xffff") {
  CHECK(Integer(0x100) == Bytes{0x0b, 0x00, 0x01});
  CHECK(Integer(0xffff) == Bytes{0x0b, 0xff, 0xff});
}

TEST_CASE("Integer uses DWordPrefix from 0x10000 to 0xffffffff") {
  CHECK(Integer(0x10000) == Bytes{0x0c, 0x00, 0x00, 0x01, 0x00});
  CHECK(Integer(0xffffffff) == Bytes{0x0c, 0xff, 0xff, 0xff, 0xff});
}

TEST_CASE("Integer uses QWordPrefix above 32 bits") {
  CHECK(Integer(0x100000000) == Bytes{0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00});
}

TEST_CASE("String is StringPrefix, the characters and a NUL") {
  CHECK(String("LNRO0005") == Bytes{0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00});
}

TEST_CASE("NameString pads a short segment with underscores") {
  CHECK(NameString("_HID") == Bytes{'_', 'H', 'I', 'D'});
  CHECK(NameString("RTC") == Bytes{'R', 'T', 'C', '_'});
}

TEST_CASE("NameString keeps the root and parent prefixes") {
  CHECK(NameString("\\_SB_") == Bytes{'\\', '_', 'S', 'B', '_'});
  CHECK(NameString("^FOO") == Bytes{'^', 'F', 'O', 'O', '_'});
  CHECK(NameString("\\") == Bytes{'\\', 0x00});
}

TEST_CASE("NameString uses DualNamePrefix for two segments and MultiNamePrefix beyond") {
  CHECK(NameString("\\_SB.PCI0") == Bytes{'\\', 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0'});
  CHECK(NameString("_SB.PCI0.ISA") ==
        Bytes{0x2f, 0x03, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'I', 'S', 'A', '_'});
}

TEST_CASE("EisaId compresses PNP ids as ASL's EisaId() does") {
  CHECK(CompressEisaId("PNP0501") == 0x0105d041);
  CHECK(CompressEisaId("PNP0B00") == 0x000bd041);
  CHECK(CompressEisaId("PNP0A08") == 0x080ad041);
}

TEST_CASE("EisaId is always a DWordConst") {
  CHECK(EisaId("PNP0501") == Bytes{0x0c, 0x41, 0xd0, 0x05, 0x01});
}

TEST_CASE("Package holds its element count and the elements") {
  CHECK(Package({Integer(5), Integer(0), Integer(0), Integer(0)}) ==
        Bytes{0x12, 0x07, 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00});
}

TEST_CASE("Buffer holds its size as an Integer, then the bytes") {
  CHECK(Buffer(Bytes{1, 2, 3}) == Bytes{0x11, 0x06, 0x0a, 0x03, 1, 2, 3});
}

TEST_CASE("Name binds a name to an object") {
  CHECK(Name("_UID", Integer(0)) == Bytes{0x08, '_', 'U', 'I', 'D', 0x00});
}

TEST_CASE("Scope and Device wrap their name and terms in a PkgLength") {
  CHECK(Scope("\\_SB_", {}) == Bytes{0x10, 0x06, '\\', '_', 'S', 'B', '_'});
  CHECK(Device("COM1", {Name("_UID", Integer(1))}) ==
        Bytes{0x5b, 0x82, 0x0b, 'C', 'O', 'M', '1', 0x08, '_', 'U', 'I', 'D', 0x01});
}

TEST_CASE("A Scope whose body passes 62 bytes gets a two-byte PkgLength") {
  // Name (5 bytes) + 59 bytes of terms = 64; plus 2 length bytes = 66.
  const Bytes scope = Scope("\\_SB_", {Bytes(59, 0xa3)});
  CHECK(Bytes(scope.begin(), scope.begin() + 3) == Bytes{0x10, 0x42, 0x04});
  CHECK(scope.size() == 67);
}

TEST_CASE("Method carries its argument count and serialization in MethodFlags") {
  CHECK(Method("_STA", 0, false, {Return(Integer(0x0f))}) ==
        Bytes{0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f});
  CHECK(Method("_OSC", 4, true, {}) == Bytes{0x14, 0x06, '_', 'O', 'S', 'C', 0x0c});
}

}  // namespace
}  // namespace mini_vmm::firmware::acpi::aml
