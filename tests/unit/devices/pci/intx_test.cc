// INTx: the pin rotation the machine and its ACPI _PRT share, and the
// status bit that mirrors the line.
#include "devices/pci/intx.h"

#include <linux/pci_regs.h>

#include <catch2/catch.hpp>

#include "devices/pci/config_space.h"
#include "tests/unit/devices/pci/config_test_util.h"

namespace mini_vmm::pci {
namespace {

TEST_CASE("INTA# of slots 0-4 rotates over the four lines") {
  CHECK(SwizzleIntxPin(0, 1) == 0);
  CHECK(SwizzleIntxPin(1, 1) == 1);
  CHECK(SwizzleIntxPin(2, 1) == 2);
  CHECK(SwizzleIntxPin(3, 1) == 3);
  CHECK(SwizzleIntxPin(4, 1) == 0);
}

TEST_CASE("INTD# of slot 1 wraps to line 0") { CHECK(SwizzleIntxPin(1, 4) == 0); }

TEST_CASE("INTx assert and deassert show in PCI_STATUS_INTERRUPT") {
  PciConfigSpace config(PciHeader{.interrupt_pin = 1});

  config.SetInterruptStatus(true);
  const uint16_t asserted = testing::ReadAs<uint16_t>(config, PCI_STATUS);
  config.SetInterruptStatus(false);
  const uint16_t deasserted = testing::ReadAs<uint16_t>(config, PCI_STATUS);

  CHECK((asserted & PCI_STATUS_INTERRUPT) != 0);
  CHECK((deasserted & PCI_STATUS_INTERRUPT) == 0);
}

}  // namespace
}  // namespace mini_vmm::pci
