// VfioPciFunction's MSI-X against the fake NVMe (65 vectors): what the
// guest's PBA shows of parked vectors, what a disable drops, and a host that
// allocates fewer vectors than the table has.
#include <linux/vfio.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <vector>

#include "tests/unit/devices/vfio_pci/function_fixture.h"

namespace mini_vmm::vfio_pci {
namespace {

using testing::FakeVfioDevice;
using testing::Fixture;

struct MsixFixture : Fixture {
  uint64_t ReadPba64(uint64_t offset) {
    uint8_t b[8] = {};
    fn->ReadBar(0, FakeVfioDevice::kPbaOffset + offset, b);
    uint64_t v = 0;
    std::memcpy(&v, b, sizeof(v));
    return v;
  }
  void Mask(uint16_t v, bool masked) {
    BarWrite32(FakeVfioDevice::kTableOffset + v * 16u + PCI_MSIX_ENTRY_VECTOR_CTRL, masked ? 1 : 0);
  }
  int VfioFd(uint16_t v) { return dev.triggers.at(VFIO_PCI_MSIX_IRQ_INDEX).at(v); }
  static void Signal(int fd) {
    const uint64_t one = 1;
    REQUIRE(::write(fd, &one, sizeof(one)) == sizeof(one));
  }
};

TEST_CASE_METHOD(MsixFixture,
                 "A masked vector's parked interrupt shows in the PBA until unmasked") {
  EnableMsix();
  Program(3, 0x4023);
  Mask(3, true);
  Signal(VfioFd(3));
  CHECK(ReadPba64(0) == 0b1000);
  CHECK(ReadPba64(0) == 0b1000);  // Reading consumes nothing.
  CHECK(routes.fired.empty());
  Mask(3, false);
  CHECK(routes.fired == std::vector<uint16_t>{3});
  CHECK(ReadPba64(0) == 0);
}

TEST_CASE_METHOD(MsixFixture, "The PBA's second qword shows vector 64") {
  EnableMsix();
  Program(64, 0x4040, /*masked=*/true);
  Program(64, 0x4040);
  Mask(64, true);
  Signal(VfioFd(64));
  CHECK(ReadPba64(0) == 0);
  CHECK(ReadPba64(8) == 1);
  CHECK(BarRead32(FakeVfioDevice::kPbaOffset + 8) == 1);
  CHECK(BarRead32(FakeVfioDevice::kPbaOffset + 12) == 0);
}

TEST_CASE_METHOD(MsixFixture, "PbaReadOfWidthTwo reads zero, parked or not") {
  EnableMsix();
  Program(0, 0x4020);
  Mask(0, true);
  Signal(VfioFd(0));
  uint8_t b[2] = {0xaa, 0xaa};
  fn->ReadBar(0, FakeVfioDevice::kPbaOffset, b);
  CHECK(b[0] == 0);
  CHECK(b[1] == 0);
}

TEST_CASE_METHOD(MsixFixture, "MsixDisableDropsParked: a re-enable and unmask fire nothing") {
  EnableMsix();
  Program(2, 0x4022);
  Mask(2, true);
  Signal(VfioFd(2));
  Write(FakeVfioDevice::kMsixCap + PCI_MSIX_FLAGS, 0, 2);
  EnableMsix();
  CHECK(ReadPba64(0) == 0);
  Mask(2, false);
  CHECK(routes.fired.empty());
  CHECK(VfioFd(2) == routes.TriggerFd(2));
}

TEST_CASE("HostGrantsFewerMsixVectors: the first ones work, INTx stays off") {
  Fixture f;
  f.dev.host_vectors[VFIO_PCI_MSIX_IRQ_INDEX] = 8;
  REQUIRE(f.fn->interrupts().ConnectIntx(100, 101).ok());
  f.EnableMsix();
  CHECK(f.dev.enables.at(VFIO_PCI_MSIX_IRQ_INDEX) ==
        std::vector<size_t>{FakeVfioDevice::kVectors, 8});
  CHECK(f.dev.triggers.count(VFIO_PCI_INTX_IRQ_INDEX) == 0);
  f.Program(7, 0x4027);
  f.Program(8, 0x4028);
  CHECK(f.dev.triggers.at(VFIO_PCI_MSIX_IRQ_INDEX).size() == 8);
  CHECK(f.fn->interrupts().trigger_of(7) == f.routes.TriggerFd(7));
  CHECK(f.fn->interrupts().trigger_of(8) == -1);
}

}  // namespace
}  // namespace mini_vmm::vfio_pci
