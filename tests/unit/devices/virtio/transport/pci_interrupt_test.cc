// virtio-pci interrupts (virtio 1.2 §4.1.5.3-§4.1.5.4): the ISR and INTx
// without MSI-X, per-queue and config vectors with it, masking and reset.
#include "devices/virtio/transport/pci_interrupt.h"

#include <catch2/catch.hpp>
#include <utility>
#include <vector>

#include "tests/unit/devices/virtio/transport/pci_fixture.h"

namespace mini_vmm::virtio {
namespace {

using testing::kCommon;
using testing::PciTransportTest;
using T = VirtioPciTransport;

// ---- INTx and the ISR (MSI-X disabled). ----

TEST_CASE_METHOD(PciTransportTest, "Used-buffer notification sets ISR bit 0 and asserts INTx") {
  Start();
  REQUIRE(device->interrupt != nullptr);

  device->interrupt->NotifyQueue(0);

  CHECK(intx.level);
  CHECK(intx.assertions == 1);
  CHECK(msi.fired.empty());
}

TEST_CASE_METHOD(PciTransportTest, "ISR read returns the bits, clears them and deasserts") {
  Start();
  device->interrupt->NotifyQueue(0);
  device->interrupt->NotifyConfigChange();

  const uint8_t first = Bar<uint8_t>(T::kIsrOffset);
  const uint8_t second = Bar<uint8_t>(T::kIsrOffset);

  CHECK(first == (1 | VIRTIO_PCI_ISR_CONFIG));
  CHECK(second == 0);
  CHECK(!intx.level);
}

TEST_CASE_METHOD(PciTransportTest, "A second notification before the ISR read is one assertion") {
  Start();

  device->interrupt->NotifyQueue(0);
  device->interrupt->NotifyQueue(0);

  CHECK(intx.assertions == 1);
}

TEST_CASE_METHOD(PciTransportTest, "PCI_STATUS_INTERRUPT follows the INTx line") {
  Start();
  device->interrupt->NotifyQueue(0);
  const uint16_t asserted = Cfg<uint16_t>(PCI_STATUS);
  Bar<uint8_t>(T::kIsrOffset);

  CHECK((asserted & PCI_STATUS_INTERRUPT) != 0);
  CHECK((Cfg<uint16_t>(PCI_STATUS) & PCI_STATUS_INTERRUPT) == 0);
}

TEST_CASE_METHOD(PciTransportTest, "INTX_DISABLE keeps the line low until cleared") {
  Start();
  SetCfg<uint16_t>(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
  device->interrupt->NotifyQueue(0);
  const bool while_disabled = intx.level;

  SetCfg<uint16_t>(PCI_COMMAND, PCI_COMMAND_MEMORY);

  CHECK(!while_disabled);
  CHECK(intx.level);
}

// PCI 3.0 §6.8.2: no INTx while MSI-X is enabled.
TEST_CASE_METHOD(PciTransportTest, "Enabling MSI-X deasserts INTx; the ISR keeps its bits") {
  Start();
  device->interrupt->NotifyQueue(0);
  REQUIRE(intx.level);

  EnableMsix();

  CHECK(!intx.level);
  CHECK(Bar<uint8_t>(T::kIsrOffset) == 1);
}

TEST_CASE_METHOD(PciTransportTest, "Notification of a queue that does not exist is dropped") {
  Start();

  device->interrupt->NotifyQueue(7);

  CHECK(!intx.level);
  CHECK(Bar<uint8_t>(T::kIsrOffset) == 0);
}

// ---- MSI-X. ----

TEST_CASE_METHOD(PciTransportTest, "Vectors start as VIRTIO_MSI_NO_VECTOR") {
  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_MSIX) == VIRTIO_MSI_NO_VECTOR);
  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_MSIX) == VIRTIO_MSI_NO_VECTOR);
}

TEST_CASE_METHOD(PciTransportTest, "Each queue fires the vector queue_msix_vector names") {
  EnableMsix();
  ProgramVector(1);
  ProgramVector(2);
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT, 0);
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_MSIX, 1);
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT, 1);
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_MSIX, 2);
  Start();

  device->interrupt->NotifyQueue(1);
  device->interrupt->NotifyQueue(0);

  CHECK(msi.fired == std::vector<uint16_t>{2, 1});
  CHECK(msi.routes[2] == pci::MsiMessage{0xfee0'0000, 0x42});
  CHECK(!intx.level);
  CHECK(Bar<uint8_t>(T::kIsrOffset) == 0);
}

TEST_CASE_METHOD(PciTransportTest, "Config change fires the msix_config vector") {
  EnableMsix();
  ProgramVector(0);
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_MSIX, 0);
  Start();

  device->interrupt->NotifyConfigChange();

  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_MSIX) == 0);
  CHECK(msi.fired == std::vector<uint16_t>{0});
}

TEST_CASE_METHOD(PciTransportTest, "A queue with VIRTIO_MSI_NO_VECTOR sends nothing") {
  EnableMsix();
  ProgramVector(1);
  Start();

  device->interrupt->NotifyQueue(0);

  CHECK(msi.fired.empty());
  CHECK(!intx.level);
}

TEST_CASE_METHOD(PciTransportTest, "queue_msix_vector past the table reads VIRTIO_MSI_NO_VECTOR") {
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT, 0);

  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_MSIX, 3);

  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_MSIX) == VIRTIO_MSI_NO_VECTOR);
}

TEST_CASE_METHOD(PciTransportTest, "msix_config past the table reads VIRTIO_MSI_NO_VECTOR") {
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_MSIX, 0x100);

  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_MSIX) == VIRTIO_MSI_NO_VECTOR);
}

TEST_CASE_METHOD(PciTransportTest, "A masked queue vector is pending in the PBA until unmasked") {
  EnableMsix();
  ProgramVector(1, /*masked=*/true);
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT, 0);
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_MSIX, 1);
  Start();
  device->interrupt->NotifyQueue(0);
  const uint64_t pba = Bar<uint64_t>(T::kMsixPbaOffset);
  const bool fired_while_masked = !msi.fired.empty();

  SetBar<uint32_t>(T::kMsixTableOffset + 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);

  CHECK(pba == 0b010);
  CHECK(!fired_while_masked);
  CHECK(msi.fired == std::vector<uint16_t>{1});
  CHECK(Bar<uint64_t>(T::kMsixPbaOffset) == 0);
}

TEST_CASE_METHOD(PciTransportTest,
                 "A queue's direct eventfd is its vector's irqfd while the vector is unmasked") {
  msi.direct_fds[1] = 51;
  Start();  // The device holds the interrupt from DRIVER_OK on.
  std::vector<std::pair<uint16_t, int>> heard;
  device->interrupt->SetDirectListener(
      [&](uint16_t queue, int fd) { heard.emplace_back(queue, fd); });
  EnableMsix();
  ProgramVector(1, /*masked=*/true);
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT, 0);
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_MSIX, 1);
  const int masked = device->interrupt->DirectQueueEventFd(0);
  heard.clear();

  SetBar<uint32_t>(T::kMsixTableOffset + 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);  // Unmask.
  const auto after_unmask = heard;
  heard.clear();
  SetBar<uint32_t>(T::kMsixTableOffset + 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 1);  // Mask.
  const auto after_mask = heard;

  using Heard = std::vector<std::pair<uint16_t, int>>;
  CHECK(masked == -1);
  CHECK(after_unmask == Heard{{0, 51}, {1, -1}});
  CHECK(after_mask == Heard{{0, -1}, {1, -1}});
  CHECK(device->interrupt->DirectQueueEventFd(1) == -1);  // No vector.
}

TEST_CASE_METHOD(PciTransportTest, "Moving a queue to another vector tells the direct listener") {
  msi.direct_fds[1] = 51;
  msi.direct_fds[2] = 52;
  Start();
  EnableMsix();
  ProgramVector(1);
  ProgramVector(2);
  std::vector<std::pair<uint16_t, int>> heard;
  device->interrupt->SetDirectListener(
      [&](uint16_t queue, int fd) { heard.emplace_back(queue, fd); });
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT, 1);

  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_MSIX, 1);
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_MSIX, 2);
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR);

  using Heard = std::vector<std::pair<uint16_t, int>>;
  CHECK(heard == Heard{{1, 51}, {1, 52}, {1, -1}});
}

TEST_CASE_METHOD(PciTransportTest, "With MSI-X disabled no queue has a direct eventfd") {
  msi.direct_fds[1] = 51;
  Start();
  ProgramVector(1);
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT, 0);
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_MSIX, 1);

  CHECK(device->interrupt->DirectQueueEventFd(0) == -1);
}

TEST_CASE_METHOD(PciTransportTest, "MSI-X table access of width 2 through the BAR is ignored") {
  SetBar<uint16_t>(T::kMsixTableOffset + PCI_MSIX_ENTRY_DATA, 0x41);

  CHECK(Bar<uint32_t>(T::kMsixTableOffset + PCI_MSIX_ENTRY_DATA) == 0);
  CHECK(Bar<uint16_t>(T::kMsixTableOffset + PCI_MSIX_ENTRY_VECTOR_CTRL) == 0);
}

TEST_CASE_METHOD(PciTransportTest, "Reset returns vectors to NO_VECTOR and clears the ISR") {
  EnableMsix();
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_MSIX, 0);
  Start();
  SetCfg<uint16_t>(FindCap(PCI_CAP_ID_MSIX) + PCI_MSIX_FLAGS, 0);  // Back to INTx.
  device->interrupt->NotifyQueue(0);
  REQUIRE(intx.level);

  SetStatus(0);

  CHECK(!intx.level);
  CHECK(Bar<uint8_t>(T::kIsrOffset) == 0);
  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_MSIX) == VIRTIO_MSI_NO_VECTOR);
}

}  // namespace
}  // namespace mini_vmm::virtio
