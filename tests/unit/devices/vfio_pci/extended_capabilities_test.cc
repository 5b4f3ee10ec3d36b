// ParseExtendedCapabilities and the guest's view of the chain: the usual
// NVMe chain, each hidden kind, and one test per malformed chain a device
// could present.
#include "devices/vfio_pci/extended_capabilities.h"

#include <linux/pci_regs.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

namespace mini_vmm::vfio_pci {
namespace {

constexpr uint32_t Ext(uint16_t id, uint8_t version, uint32_t next) {
  return id | (uint32_t{version} << 16) | (next << 20);
}

struct Config {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(0x1000);
  Config& Put(uint32_t at, uint32_t value) {
    std::memcpy(&bytes[at], &value, 4);
    return *this;
  }
};

uint32_t HeaderAt(const std::vector<ExtendedHeader>& headers, uint16_t offset) {
  for (const ExtendedHeader& h : headers) {
    if (h.offset == offset) return h.value;
  }
  FAIL("no guest header at " << offset);
  return 0;
}

TEST_CASE("AER, then DSN: both visible, headers as the device has them") {
  Config c;
  c.Put(0x100, Ext(PCI_EXT_CAP_ID_ERR, 2, 0x148)).Put(0x148, Ext(PCI_EXT_CAP_ID_DSN, 1, 0));
  const ExtendedLayout layout = ParseExtendedCapabilities(c.bytes);
  CHECK(layout.end == 0x1000);
  CHECK(layout.problem.empty());
  REQUIRE(layout.capabilities.size() == 2);
  CHECK(layout.capabilities[0].end == 0x148);
  CHECK(layout.capabilities[1].end == 0x1000);
  const auto headers = GuestExtendedHeaders(layout);
  REQUIRE(headers.size() == 2);
  CHECK(HeaderAt(headers, 0x100) == Ext(PCI_EXT_CAP_ID_ERR, 2, 0x148));
  CHECK(HeaderAt(headers, 0x148) == Ext(PCI_EXT_CAP_ID_DSN, 1, 0));
}

TEST_CASE("SR-IOV in the middle is unlinked") {
  Config c;
  c.Put(0x100, Ext(PCI_EXT_CAP_ID_ERR, 2, 0x160))
      .Put(0x160, Ext(PCI_EXT_CAP_ID_SRIOV, 1, 0x1a0))
      .Put(0x1a0, Ext(PCI_EXT_CAP_ID_DSN, 1, 0));
  const ExtendedLayout layout = ParseExtendedCapabilities(c.bytes);
  REQUIRE(layout.capabilities.size() == 3);
  CHECK(layout.capabilities[1].hidden);
  CHECK(layout.capabilities[1].end == 0x1a0);
  const auto headers = GuestExtendedHeaders(layout);
  REQUIRE(headers.size() == 2);
  CHECK(HeaderAt(headers, 0x100) == Ext(PCI_EXT_CAP_ID_ERR, 2, 0x1a0));
}

TEST_CASE("A hidden first capability leaves an ID-0 header that skips it") {
  Config c;
  c.Put(0x100, Ext(PCI_EXT_CAP_ID_REBAR, 1, 0x200)).Put(0x200, Ext(PCI_EXT_CAP_ID_ERR, 2, 0));
  const auto headers = GuestExtendedHeaders(ParseExtendedCapabilities(c.bytes));
  REQUIRE(headers.size() == 2);
  CHECK(HeaderAt(headers, 0x100) == Ext(0, 0, 0x200));
  CHECK(HeaderAt(headers, 0x200) == Ext(PCI_EXT_CAP_ID_ERR, 2, 0));
}

TEST_CASE("Only hidden capabilities: the guest sees an empty chain") {
  Config c;
  c.Put(0x100, Ext(PCI_EXT_CAP_ID_SRIOV, 1, 0x140)).Put(0x140, Ext(PCI_EXT_CAP_ID_ARI, 1, 0));
  const auto headers = GuestExtendedHeaders(ParseExtendedCapabilities(c.bytes));
  REQUIRE(headers.size() == 1);
  CHECK(HeaderAt(headers, 0x100) == 0);
}

TEST_CASE("Hidden kinds: masked, ARI, SR-IOV, MR-IOV, Resizable BAR, VF Resizable BAR") {
  CHECK(HiddenExtendedCapability(0));
  CHECK(HiddenExtendedCapability(PCI_EXT_CAP_ID_ARI));
  CHECK(HiddenExtendedCapability(PCI_EXT_CAP_ID_SRIOV));
  CHECK(HiddenExtendedCapability(PCI_EXT_CAP_ID_MRIOV));
  CHECK(HiddenExtendedCapability(PCI_EXT_CAP_ID_REBAR));
  CHECK(HiddenExtendedCapability(0x24));
  CHECK_FALSE(HiddenExtendedCapability(PCI_EXT_CAP_ID_ERR));
  CHECK_FALSE(HiddenExtendedCapability(PCI_EXT_CAP_ID_VNDR));
}

TEST_CASE("An empty header at 0x100 means no extended capabilities") {
  Config c;
  const ExtendedLayout layout = ParseExtendedCapabilities(c.bytes);
  CHECK(layout.end == 0x1000);
  CHECK(layout.capabilities.empty());
  CHECK(layout.problem.empty());
  const auto headers = GuestExtendedHeaders(layout);
  REQUIRE(headers.size() == 1);
  CHECK(headers[0].value == 0);
}

TEST_CASE("ConventionalFunction: a 256-byte region has no extended space") {
  std::vector<uint8_t> header(0x100);
  const ExtendedLayout layout = ParseExtendedCapabilities(header);
  CHECK(layout.end == 0);
  CHECK(GuestExtendedHeaders(layout).empty());
}

TEST_CASE("ExtendedChainLoops ends at the loop") {
  Config c;
  c.Put(0x100, Ext(PCI_EXT_CAP_ID_ERR, 2, 0x148)).Put(0x148, Ext(PCI_EXT_CAP_ID_DSN, 1, 0x100));
  const ExtendedLayout layout = ParseExtendedCapabilities(c.bytes);
  CHECK_THAT(layout.problem, Catch::Contains("loops back to 0x100"));
  REQUIRE(layout.capabilities.size() == 2);
  CHECK(HeaderAt(GuestExtendedHeaders(layout), 0x148) == Ext(PCI_EXT_CAP_ID_DSN, 1, 0));
}

TEST_CASE("ExtendedSelfLoop ends at once") {
  Config c;
  c.Put(0x100, Ext(PCI_EXT_CAP_ID_ERR, 2, 0x100));
  const ExtendedLayout layout = ParseExtendedCapabilities(c.bytes);
  CHECK_THAT(layout.problem, Catch::Contains("loops"));
  CHECK(layout.capabilities.size() == 1);
}

TEST_CASE("ExtendedNextIntoHeader ends the chain") {
  Config c;
  c.Put(0x100, Ext(PCI_EXT_CAP_ID_ERR, 2, 0x40));
  const ExtendedLayout layout = ParseExtendedCapabilities(c.bytes);
  CHECK_THAT(layout.problem, Catch::Contains("points outside [0x100, 0x1000)"));
  REQUIRE(layout.capabilities.size() == 1);
  CHECK(HeaderAt(GuestExtendedHeaders(layout), 0x100) == Ext(PCI_EXT_CAP_ID_ERR, 2, 0));
}

TEST_CASE("ExtendedNextPastShortRegion ends the chain") {
  Config c;
  c.bytes.resize(0x200);
  c.Put(0x100, Ext(PCI_EXT_CAP_ID_ERR, 2, 0x200));
  const ExtendedLayout layout = ParseExtendedCapabilities(c.bytes);
  CHECK(layout.end == 0x200);
  CHECK_THAT(layout.problem, Catch::Contains("points outside [0x100, 0x200)"));
}

TEST_CASE("ExtendedNextUnaligned is masked to a dword") {
  Config c;
  c.Put(0x100, Ext(PCI_EXT_CAP_ID_ERR, 2, 0x14b)).Put(0x148, Ext(PCI_EXT_CAP_ID_DSN, 1, 0));
  const ExtendedLayout layout = ParseExtendedCapabilities(c.bytes);
  CHECK(layout.problem.empty());
  REQUIRE(layout.capabilities.size() == 2);
  CHECK(layout.capabilities[1].offset == 0x148);
}

TEST_CASE("ExtendedAllOnes: no extended capabilities") {
  Config c;
  c.Put(0x100, 0xffffffff);
  const ExtendedLayout layout = ParseExtendedCapabilities(c.bytes);
  CHECK_THAT(layout.problem, Catch::Contains("all-ones"));
  CHECK(layout.capabilities.empty());
}

TEST_CASE("ExtendedLastHeaderAtEnd fits") {
  Config c;
  c.Put(0x100, Ext(PCI_EXT_CAP_ID_ERR, 2, 0xffc)).Put(0xffc, Ext(PCI_EXT_CAP_ID_VNDR, 1, 0));
  const ExtendedLayout layout = ParseExtendedCapabilities(c.bytes);
  CHECK(layout.problem.empty());
  REQUIRE(layout.capabilities.size() == 2);
  CHECK(layout.capabilities[1].end == 0x1000);
}

TEST_CASE("A chain through every dword still ends") {
  Config c;
  for (uint32_t at = 0x100; at < 0x1000; at += 4) c.Put(at, Ext(PCI_EXT_CAP_ID_VNDR, 1, at + 4));
  c.Put(0xffc, Ext(PCI_EXT_CAP_ID_VNDR, 1, 0x100));
  const ExtendedLayout layout = ParseExtendedCapabilities(c.bytes);
  CHECK(layout.capabilities.size() == 960);
  CHECK_THAT(layout.problem, Catch::Contains("loops"));
}

}  // namespace
}  // namespace mini_vmm::vfio_pci
