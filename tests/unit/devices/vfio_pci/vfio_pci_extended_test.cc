// VfioPciFunction's extended configuration space (0x100-0xfff) against the
// fake NVMe: visible capabilities pass through, hidden ones are unlinked
// and read as zero, headers are read-only, and a conventional function has
// none.
#include <linux/vfio.h>

#include <catch2/catch.hpp>

#include "tests/unit/devices/vfio_pci/function_fixture.h"

namespace mini_vmm::vfio_pci {
namespace {

using testing::FakeVectorRoutes;
using testing::FakeVfioDevice;
using testing::Fixture;

constexpr uint32_t Ext(uint16_t id, uint8_t version, uint32_t next) {
  return id | (uint32_t{version} << 16) | (next << 20);
}

// AER at 0x100, SR-IOV at 0x148, DSN at 0x188.
struct ExtFixture : Fixture {
  ExtFixture() {
    dev.Put32(0x100, Ext(PCI_EXT_CAP_ID_ERR, 2, 0x148));
    dev.Put32(0x100 + PCI_ERR_UNCOR_MASK, 0x00400000);
    dev.Put32(0x148, Ext(PCI_EXT_CAP_ID_SRIOV, 1, 0x188));
    dev.Put32(0x148 + 0x0c, 0x00080008);  // Initial and total VFs.
    dev.Put32(0x188, Ext(PCI_EXT_CAP_ID_DSN, 1, 0));
    dev.Put32(0x188 + 4, 0x12345678);
    Make();
  }
};

TEST_CASE_METHOD(ExtFixture, "The guest's chain skips SR-IOV: AER, then DSN") {
  CHECK(Read(0x100) == Ext(PCI_EXT_CAP_ID_ERR, 2, 0x188));
  CHECK(Read(0x188) == Ext(PCI_EXT_CAP_ID_DSN, 1, 0));
  CHECK(Read(0x188 + 4) == 0x12345678);
}

TEST_CASE_METHOD(ExtFixture, "A hidden capability reads as zero and its writes never reach the device") {
  CHECK(Read(0x148) == 0);
  CHECK(Read(0x148 + 0x0c) == 0);
  Write(0x148 + 0x08, 0xffffffff);  // SR-IOV control: VF enable.
  CHECK(dev.ConfigWritesIn(0x148, 0x188 - 0x148) == 0);
}

TEST_CASE_METHOD(ExtFixture, "A visible capability's registers pass through both ways") {
  CHECK(Read(0x100 + PCI_ERR_UNCOR_MASK) == 0x00400000);
  Write(0x100 + PCI_ERR_UNCOR_MASK, 0x00500000);
  CHECK(dev.ConfigWritesIn(0x100 + PCI_ERR_UNCOR_MASK, 4) == 1);
  CHECK(dev.Get32(0x100 + PCI_ERR_UNCOR_MASK) == 0x00500000);
}

TEST_CASE_METHOD(ExtFixture, "HeaderWrite is ignored") {
  Write(0x100, 0xffffffff);
  Write(0x188, 0, 2);
  CHECK(dev.ConfigWritesIn(0x100, 4) == 0);
  CHECK(dev.ConfigWritesIn(0x188, 4) == 0);
  CHECK(Read(0x100) == Ext(PCI_EXT_CAP_ID_ERR, 2, 0x188));
}

TEST_CASE_METHOD(ExtFixture, "A read straddling the header's end reads each byte from its source") {
  CHECK(Read(0xfe, 4) == ((Ext(PCI_EXT_CAP_ID_ERR, 2, 0x188) & 0xffff) << 16));
}

TEST_CASE("A hidden first capability reads as an ID-0 header that skips it") {
  Fixture f;
  f.dev.Put32(0x100, Ext(PCI_EXT_CAP_ID_REBAR, 1, 0x140));
  f.dev.Put32(0x104, 0xffff);
  f.dev.Put32(0x140, Ext(PCI_EXT_CAP_ID_ERR, 2, 0));
  f.Make();
  CHECK(f.Read(0x100) == Ext(0, 0, 0x140));
  CHECK(f.Read(0x104) == 0);
  CHECK(f.Read(0x140) == Ext(PCI_EXT_CAP_ID_ERR, 2, 0));
}

TEST_CASE("ExtendedChainLoops: the function is still created, the chain cut at the loop") {
  Fixture f;
  f.dev.Put32(0x100, Ext(PCI_EXT_CAP_ID_ERR, 2, 0x148));
  f.dev.Put32(0x148, Ext(PCI_EXT_CAP_ID_DSN, 1, 0x100));
  f.Make();
  CHECK(f.Read(0x148) == Ext(PCI_EXT_CAP_ID_DSN, 1, 0));
  CHECK_FALSE(f.fn->layout().extended.problem.empty());
}

TEST_CASE("An empty chain reads a zero header at 0x100") {
  Fixture f;
  f.dev.Put32(0x100, 0);
  f.Make();
  CHECK(f.Read(0x100) == 0);
  f.Write(0x100, 0xffffffff);
  CHECK(f.dev.ConfigWritesIn(0x100, 4) == 0);
}

TEST_CASE("ConventionalFunction: a 256-byte config region reads zero up there") {
  FakeVfioDevice dev;
  dev.regions_[VFIO_PCI_CONFIG_REGION_INDEX].size = 0x100;
  dev.config().resize(0x100);
  FakeVectorRoutes routes;
  auto fn = VfioPciFunction::Create(dev, routes, 0x1000);
  REQUIRE(fn.ok());
  uint8_t b[4] = {1, 1, 1, 1};
  (*fn)->ReadConfig(0xffc, b);
  CHECK(b[0] == 0);
  (*fn)->WriteConfig(0x100, b);
  CHECK(dev.ConfigWritesIn(0x100, 0xf00) == 0);
  CHECK((*fn)->layout().extended.end == 0);
}

TEST_CASE("ConfigRegionSmallerThanHeader is refused") {
  FakeVfioDevice dev;
  dev.regions_[VFIO_PCI_CONFIG_REGION_INDEX].size = 0x40;
  FakeVectorRoutes routes;
  auto fn = VfioPciFunction::Create(dev, routes, 0x1000);
  REQUIRE_FALSE(fn.ok());
  CHECK_THAT(fn.error().ToString(), Catch::Contains("no configuration space region"));
}

}  // namespace
}  // namespace mini_vmm::vfio_pci
