// The capability list: CAP_LIST status bit, the pointer at 0x34, and a
// chain a driver can walk to its end.
#include <linux/pci_regs.h>

#include <array>
#include <catch2/catch.hpp>
#include <vector>

#include "devices/pci/config_space.h"
#include "tests/unit/devices/pci/config_test_util.h"

namespace mini_vmm::pci {
namespace {

using testing::ReadAs;
using testing::WriteAs;

// What a driver does: follow next pointers from 0x34, at most 48 hops
// (Linux's PCI_FIND_CAP_TTL).
std::vector<std::pair<uint8_t, uint8_t>> WalkCapabilities(const PciConfigSpace& config) {
  std::vector<std::pair<uint8_t, uint8_t>> found;  // (offset, id)
  uint8_t at = ReadAs<uint8_t>(config, PCI_CAPABILITY_LIST);
  for (int ttl = 48; at != 0 && ttl > 0; --ttl) {
    found.emplace_back(at, ReadAs<uint8_t>(config, at + PCI_CAP_LIST_ID));
    at = ReadAs<uint8_t>(config, at + PCI_CAP_LIST_NEXT);
  }
  return found;
}

TEST_CASE("A function without capabilities has CAP_LIST clear and a null pointer") {
  PciConfigSpace config(PciHeader{});

  CHECK((ReadAs<uint16_t>(config, PCI_STATUS) & PCI_STATUS_CAP_LIST) == 0);
  CHECK(ReadAs<uint8_t>(config, PCI_CAPABILITY_LIST) == 0);
}

TEST_CASE("Capabilities are linked in the order they were added, dword aligned") {
  PciConfigSpace config(PciHeader{});
  const std::array<uint8_t, 3> odd_body{1, 2, 3};  // 5 bytes in all.

  const uint8_t first = config.AddCapability(PCI_CAP_ID_VNDR, odd_body);
  const uint8_t second = config.AddCapability(PCI_CAP_ID_MSIX, std::array<uint8_t, 10>{});

  CHECK((ReadAs<uint16_t>(config, PCI_STATUS) & PCI_STATUS_CAP_LIST) != 0);
  CHECK(first == 0x40);
  CHECK(second == 0x48);
  CHECK(WalkCapabilities(config) ==
        std::vector<std::pair<uint8_t, uint8_t>>{{0x40, PCI_CAP_ID_VNDR}, {0x48, PCI_CAP_ID_MSIX}});
  CHECK(ReadAs<uint8_t>(config, first + 2) == 1);
  CHECK(ReadAs<uint8_t>(config, first + 4) == 3);
}

TEST_CASE("Write to the capability pointer and next pointers is ignored") {
  PciConfigSpace config(PciHeader{});
  const uint8_t cap = config.AddCapability(PCI_CAP_ID_VNDR, std::array<uint8_t, 2>{});

  WriteAs<uint8_t>(config, PCI_CAPABILITY_LIST, 0x80);
  WriteAs<uint16_t>(config, cap, 0x4011);  // ID and next pointer.

  CHECK(ReadAs<uint8_t>(config, PCI_CAPABILITY_LIST) == cap);
  CHECK(ReadAs<uint16_t>(config, cap) == PCI_CAP_ID_VNDR);
}

TEST_CASE("Capability body is read-only except where the owner allows writes") {
  PciConfigSpace config(PciHeader{});
  const uint8_t cap = config.AddCapability(PCI_CAP_ID_VNDR, std::array<uint8_t, 6>{});
  config.SetWriteMask(cap + 4, std::array<uint8_t, 2>{0xff, 0x0f});

  WriteAs<uint32_t>(config, cap + 2, 0xffff'ffff);

  CHECK(ReadAs<uint16_t>(config, cap + 2) == 0);
  CHECK(ReadAs<uint16_t>(config, cap + 4) == 0x0fff);
}

}  // namespace
}  // namespace mini_vmm::pci
