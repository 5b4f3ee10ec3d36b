#include "firmware/acpi/aml_resources.h"

#include <catch2/catch.hpp>

namespace mini_vmm::firmware::acpi {
namespace {

using aml::Bytes;

TEST_CASE("An empty ResourceTemplate is just the End Tag") {
  CHECK(ResourceTemplate().Descriptors() == Bytes{0x79, 0x00});
}

TEST_CASE("ToAml wraps the descriptors in a Buffer") {
  CHECK(ResourceTemplate().ToAml() == Bytes{0x11, 0x05, 0x0a, 0x02, 0x79, 0x00});
}

TEST_CASE("Io is a 16-bit-decode I/O port descriptor") {
  CHECK(ResourceTemplate().Io(0x3f8, 0x3f8, 1, 8).Descriptors() ==
        Bytes{0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, 0x79, 0x00});
}

TEST_CASE("IrqNoFlags is a two-byte IRQ mask") {
  CHECK(ResourceTemplate().IrqNoFlags(4).Descriptors() == Bytes{0x22, 0x10, 0x00, 0x79, 0x00});
  CHECK(ResourceTemplate().IrqNoFlags(8).Descriptors() == Bytes{0x22, 0x00, 0x01, 0x79, 0x00});
}

TEST_CASE("Memory32Fixed carries the write flag, base and length") {
  CHECK(ResourceTemplate().Memory32Fixed(ReadWrite::kReadWrite, 0xd0000000, 0x1000).Descriptors() ==
        Bytes{0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x10, 0x00, 0x00, 0x79, 0x00});
  CHECK(ResourceTemplate().Memory32Fixed(ReadWrite::kReadOnly, 0, 1).Descriptors()[3] == 0x00);
}

TEST_CASE("Interrupt for an edge, active-high, exclusive GSI has flags 0x03") {
  CHECK(ResourceTemplate()
            .Interrupt(Trigger::kEdge, Polarity::kActiveHigh, Sharing::kExclusive, 5)
            .Descriptors() ==
        Bytes{0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00, 0x79, 0x00});
}

TEST_CASE("Interrupt for a level, active-low, shared GSI has flags 0x0d") {
  CHECK(ResourceTemplate()
            .Interrupt(Trigger::kLevel, Polarity::kActiveLow, Sharing::kShared, 23)
            .Descriptors() ==
        Bytes{0x89, 0x06, 0x00, 0x0d, 0x01, 0x17, 0x00, 0x00, 0x00, 0x79, 0x00});
}

TEST_CASE("Descriptors appear in the order they were added") {
  CHECK(ResourceTemplate().IrqNoFlags(4).Io(0x70, 0x70, 1, 2).Descriptors() ==
        Bytes{0x22, 0x10, 0x00, 0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02, 0x79, 0x00});
}

TEST_CASE("WordBusNumber is a produced, fixed bus range with its length") {
  CHECK(ResourceTemplate().WordBusNumber(0, 0).Descriptors() ==
        Bytes{0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
              0x01, 0x00, 0x79, 0x00});
}

TEST_CASE("WordIo is a produced, fixed port range covering ISA and non-ISA ports") {
  CHECK(ResourceTemplate().WordIo(0xc000, 0xffff).Descriptors() ==
        Bytes{0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0x00, 0x00,
              0x00, 0x40, 0x79, 0x00});
}

TEST_CASE("DWordMemory is a produced, fixed, read-write window: min, max and length") {
  CHECK(ResourceTemplate().DWordMemory(0xc0000000, 0x10000000, false).Descriptors() ==
        Bytes{0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0,
              0xff, 0xff, 0xff, 0xcf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x79, 0x00});
  CHECK(ResourceTemplate().DWordMemory(0, 1, true).Descriptors()[5] == 0x07);
}

TEST_CASE("QWordMemory carries 64-bit minimum, maximum and length") {
  const Bytes d = ResourceTemplate().QWordMemory(0x100000000, 0x1000000000, true).Descriptors();
  REQUIRE(d.size() == 46 + 2);
  CHECK(d[0] == 0x8a);
  CHECK(d[1] == 43);
  CHECK(d[5] == 0x07);
  CHECK(d[14] == 0x00);
  CHECK(d[18] == 0x01);  // Minimum 0x1'0000'0000.
  CHECK(d[22] == 0xff);  // Maximum 0x10'ffff'ffff.
  CHECK(d[26] == 0x10);
  CHECK(d[42] == 0x10);  // Length 0x10'0000'0000.
}

}  // namespace
}  // namespace mini_vmm::firmware::acpi
