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

}  // namespace
}  // namespace mini_vmm::firmware::acpi
