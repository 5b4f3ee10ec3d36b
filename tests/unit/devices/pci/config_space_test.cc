// PciConfigSpace: the type-0 header's fields, write masks and RW1C status
// bits, through accesses of every width at aligned and unaligned offsets.
#include "devices/pci/config_space.h"

#include <linux/pci_regs.h>

#include <catch2/catch.hpp>

#include "devices/pci/pci_device.h"
#include "tests/unit/devices/pci/config_test_util.h"

namespace mini_vmm::pci {
namespace {

using testing::ReadAs;
using testing::WriteAs;

const PciHeader kHeader{.vendor_id = 0x1af4,
                        .device_id = 0x1042,
                        .class_code = 0x018000,
                        .revision = 1,
                        .subsystem_vendor_id = 0x1af4,
                        .subsystem_id = 0x0002,
                        .interrupt_pin = 1};

TEST_CASE("Identification registers read what the header declared") {
  PciConfigSpace config(kHeader);

  CHECK(ReadAs<uint16_t>(config, PCI_VENDOR_ID) == 0x1af4);
  CHECK(ReadAs<uint16_t>(config, PCI_DEVICE_ID) == 0x1042);
  CHECK(ReadAs<uint32_t>(config, PCI_CLASS_REVISION) == 0x01800001);
  CHECK(ReadAs<uint8_t>(config, PCI_HEADER_TYPE) == PCI_HEADER_TYPE_NORMAL);
  CHECK(ReadAs<uint16_t>(config, PCI_SUBSYSTEM_VENDOR_ID) == 0x1af4);
  CHECK(ReadAs<uint16_t>(config, PCI_SUBSYSTEM_ID) == 0x0002);
  CHECK(ReadAs<uint8_t>(config, PCI_INTERRUPT_PIN) == 1);
}

TEST_CASE("A dword read returns the same bytes as four byte reads") {
  PciConfigSpace config(kHeader);

  const uint32_t dword = ReadAs<uint32_t>(config, PCI_VENDOR_ID);

  CHECK(ReadAs<uint8_t>(config, 0) == (dword & 0xff));
  CHECK(ReadAs<uint8_t>(config, 1) == ((dword >> 8) & 0xff));
  CHECK(ReadAs<uint8_t>(config, 2) == ((dword >> 16) & 0xff));
  CHECK(ReadAs<uint8_t>(config, 3) == (dword >> 24));
}

TEST_CASE("Unaligned word read straddling vendor and device ID") {
  PciConfigSpace config(kHeader);

  CHECK(ReadAs<uint16_t>(config, 1) == 0x421a);
}

TEST_CASE("Unaligned dword read straddling two registers") {
  PciConfigSpace config(kHeader);
  WriteAs<uint16_t>(config, PCI_COMMAND, PCI_COMMAND_MEMORY);

  CHECK(ReadAs<uint32_t>(config, 2) == 0x00021042);  // Device ID, then the command register.
}

TEST_CASE("Command register keeps the writable decode bits") {
  PciConfigSpace config(kHeader);

  WriteAs<uint16_t>(config, PCI_COMMAND,
                    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);

  CHECK(config.command() == (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE));
}

TEST_CASE("Write to read-only command bits is dropped") {
  PciConfigSpace config(kHeader);

  WriteAs<uint16_t>(config, PCI_COMMAND, 0xffff);

  CHECK((config.command() & PCI_COMMAND_SPECIAL) == 0);
  CHECK((config.command() & PCI_COMMAND_INVALIDATE) == 0);
  CHECK((config.command() & PCI_COMMAND_FAST_BACK) == 0);
  CHECK((config.command() & 0xf800) == 0);
}

TEST_CASE("Write to read-only vendor and device ID is ignored") {
  PciConfigSpace config(kHeader);

  WriteAs<uint32_t>(config, PCI_VENDOR_ID, 0xdeadbeef);

  CHECK(ReadAs<uint16_t>(config, PCI_VENDOR_ID) == 0x1af4);
  CHECK(ReadAs<uint16_t>(config, PCI_DEVICE_ID) == 0x1042);
}

TEST_CASE("Write to read-only class code and header type is ignored") {
  PciConfigSpace config(kHeader);

  WriteAs<uint32_t>(config, PCI_CLASS_REVISION, 0);
  WriteAs<uint8_t>(config, PCI_HEADER_TYPE, 0x81);

  CHECK(ReadAs<uint32_t>(config, PCI_CLASS_REVISION) == 0x01800001);
  CHECK(ReadAs<uint8_t>(config, PCI_HEADER_TYPE) == PCI_HEADER_TYPE_NORMAL);
}

TEST_CASE("Unaligned dword write straddling device ID and command changes only command") {
  PciConfigSpace config(kHeader);

  // Bytes 2-5: device ID (read-only), command (writable low bits).
  WriteAs<uint32_t>(config, 2, 0x0006'ffff);

  CHECK(ReadAs<uint16_t>(config, PCI_DEVICE_ID) == 0x1042);
  CHECK(config.command() == (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
}

TEST_CASE("Status error bits clear when written with one") {
  PciConfigSpace config(kHeader);
  config.Set16(PCI_STATUS, PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR);

  WriteAs<uint16_t>(config, PCI_STATUS, PCI_STATUS_REC_MASTER_ABORT);

  CHECK(ReadAs<uint16_t>(config, PCI_STATUS) == PCI_STATUS_SIG_SYSTEM_ERROR);
}

TEST_CASE("Write of zero to status leaves the error bits set") {
  PciConfigSpace config(kHeader);
  config.Set16(PCI_STATUS, PCI_STATUS_DETECTED_PARITY);

  WriteAs<uint16_t>(config, PCI_STATUS, 0);

  CHECK(ReadAs<uint16_t>(config, PCI_STATUS) == PCI_STATUS_DETECTED_PARITY);
}

TEST_CASE("Write of all-ones to status leaves CAP_LIST and INTERRUPT as they are") {
  PciConfigSpace config(kHeader);
  config.AddCapability(PCI_CAP_ID_VNDR, std::array<uint8_t, 2>{});
  config.SetInterruptStatus(true);

  WriteAs<uint16_t>(config, PCI_STATUS, 0xffff);

  CHECK(ReadAs<uint16_t>(config, PCI_STATUS) == (PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT));
}

TEST_CASE("Interrupt line is a read-write scratch register, pin is read-only") {
  PciConfigSpace config(kHeader);

  WriteAs<uint16_t>(config, PCI_INTERRUPT_LINE, 0x040b);

  CHECK(ReadAs<uint8_t>(config, PCI_INTERRUPT_LINE) == 0x0b);
  CHECK(ReadAs<uint8_t>(config, PCI_INTERRUPT_PIN) == 1);
}

TEST_CASE("Expansion ROM BAR reads zero after all-ones is written") {
  PciConfigSpace config(kHeader);

  WriteAs<uint32_t>(config, PCI_ROM_ADDRESS, 0xffffffff);

  CHECK(ReadAs<uint32_t>(config, PCI_ROM_ADDRESS) == 0);
}

TEST_CASE("Extended configuration space reads as zero") {
  PciConfigSpace config(kHeader);

  CHECK(ReadAs<uint32_t>(config, 0x100) == 0);
  CHECK(ReadAs<uint32_t>(config, kConfigSpaceSize - 4) == 0);
}

TEST_CASE("Read straddling the end of the header returns zeros past it") {
  PciConfigSpace config(kHeader);
  config.Set8(0xff, 0xab);

  CHECK(ReadAs<uint32_t>(config, 0xff) == 0xab);
}

TEST_CASE("Write out of range past the header is ignored") {
  PciConfigSpace config(kHeader);

  WriteAs<uint32_t>(config, 0x200, 0xffffffff);

  CHECK(ReadAs<uint32_t>(config, 0x200) == 0);
}

TEST_CASE("Write to an unused header byte with no write mask is ignored") {
  PciConfigSpace config(kHeader);

  WriteAs<uint32_t>(config, 0x80, 0x12345678);

  CHECK(ReadAs<uint32_t>(config, 0x80) == 0);
}

}  // namespace
}  // namespace mini_vmm::pci
