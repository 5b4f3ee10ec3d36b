// VirtioPciTransport: identification, the capability list, the common
// configuration (virtio 1.2 §4.1.4.3), device configuration through the BAR
// and through the pci_cfg window (§4.1.4.9), doorbells and reset.
#include "devices/virtio/transport/pci.h"

#include <catch2/catch.hpp>
#include <cstddef>
#include <optional>
#include <vector>

#include "tests/unit/devices/virtio/transport/pci_fixture.h"

namespace mini_vmm::virtio {
namespace {

using testing::kAck;
using testing::kCommon;
using testing::kDriver;
using testing::kDriverOk;
using testing::kFeaturesOk;
using testing::kOffered;
using testing::kVersion1;
using testing::PciTransportTest;
using T = VirtioPciTransport;

// ---- Identification (§4.1.2). ----

TEST_CASE_METHOD(PciTransportTest, "IDs are 0x1af4:0x1040 + type with revision 1") {
  CHECK(Cfg<uint16_t>(PCI_VENDOR_ID) == 0x1af4);
  CHECK(Cfg<uint16_t>(PCI_DEVICE_ID) == 0x1040 + VIRTIO_ID_BLOCK);
  CHECK(Cfg<uint8_t>(PCI_REVISION_ID) == 1);
  CHECK(Cfg<uint16_t>(PCI_SUBSYSTEM_VENDOR_ID) == 0x1af4);
  CHECK(Cfg<uint16_t>(PCI_SUBSYSTEM_ID) == VIRTIO_ID_BLOCK);
  CHECK(Cfg<uint8_t>(PCI_INTERRUPT_PIN) == 1);
}

TEST_CASE_METHOD(PciTransportTest, "BAR 0 is a 64-bit memory BAR of kBarSize") {
  SetCfg<uint32_t>(PCI_BASE_ADDRESS_0, 0xffffffff);
  SetCfg<uint32_t>(PCI_BASE_ADDRESS_1, 0xffffffff);

  CHECK(Cfg<uint32_t>(PCI_BASE_ADDRESS_0) ==
        (static_cast<uint32_t>(~(T::kBarSize - 1)) | PCI_BASE_ADDRESS_MEM_TYPE_64));
  CHECK(Cfg<uint32_t>(PCI_BASE_ADDRESS_1) == 0xffffffff);
}

// ---- Capabilities (§4.1.4). ----

TEST_CASE_METHOD(PciTransportTest, "Each virtio structure has a capability pointing into BAR 0") {
  struct Expected {
    uint8_t type;
    uint64_t offset;
  };
  for (const Expected& e : {Expected{VIRTIO_PCI_CAP_COMMON_CFG, T::kCommonOffset},
                            Expected{VIRTIO_PCI_CAP_NOTIFY_CFG, T::kNotifyOffset},
                            Expected{VIRTIO_PCI_CAP_ISR_CFG, T::kIsrOffset},
                            Expected{VIRTIO_PCI_CAP_DEVICE_CFG, T::kDeviceOffset}}) {
    const uint8_t cap = FindVirtioCap(e.type);
    INFO("cfg_type " << int{e.type});
    REQUIRE(cap != 0);
    CHECK(Cfg<uint8_t>(cap + VIRTIO_PCI_CAP_BAR) == T::kBar);
    CHECK(Cfg<uint32_t>(cap + VIRTIO_PCI_CAP_OFFSET) == e.offset);
    CHECK(Cfg<uint32_t>(cap + VIRTIO_PCI_CAP_LENGTH) != 0);
  }
}

TEST_CASE_METHOD(PciTransportTest, "Common config capability covers the whole structure") {
  const uint8_t cap = FindVirtioCap(VIRTIO_PCI_CAP_COMMON_CFG);

  CHECK(Cfg<uint32_t>(cap + VIRTIO_PCI_CAP_LENGTH) >= sizeof(virtio_pci_common_cfg));
  CHECK(Cfg<uint8_t>(cap + VIRTIO_PCI_CAP_LEN) == sizeof(virtio_pci_cap));
}

TEST_CASE_METHOD(PciTransportTest, "Notify capability gives each queue its own doorbell") {
  const uint8_t cap = FindVirtioCap(VIRTIO_PCI_CAP_NOTIFY_CFG);

  CHECK(Cfg<uint32_t>(cap + VIRTIO_PCI_NOTIFY_CAP_MULT) == 4);
  CHECK(Cfg<uint32_t>(cap + VIRTIO_PCI_CAP_LENGTH) == 2 * 4);
  CHECK(Cfg<uint8_t>(cap + VIRTIO_PCI_CAP_LEN) == sizeof(virtio_pci_notify_cap));
}

TEST_CASE_METHOD(PciTransportTest, "PCI_CFG and MSI-X capabilities are present") {
  CHECK(FindVirtioCap(VIRTIO_PCI_CAP_PCI_CFG) != 0);
  const uint8_t msix = FindCap(PCI_CAP_ID_MSIX);
  REQUIRE(msix != 0);
  CHECK((Cfg<uint16_t>(msix + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE) == 2);  // 3 vectors.
  CHECK(pci.num_msix_vectors() == 3);
  CHECK(Cfg<uint32_t>(msix + PCI_MSIX_TABLE) == T::kMsixTableOffset);
  CHECK(Cfg<uint32_t>(msix + PCI_MSIX_PBA) == T::kMsixPbaOffset);
}

TEST_CASE_METHOD(PciTransportTest, "Write to a read-only capability field is ignored") {
  const uint8_t cap = FindVirtioCap(VIRTIO_PCI_CAP_COMMON_CFG);

  SetCfg<uint32_t>(cap + VIRTIO_PCI_CAP_OFFSET, 0x1234);

  CHECK(Cfg<uint32_t>(cap + VIRTIO_PCI_CAP_OFFSET) == T::kCommonOffset);
}

// ---- Doorbells. ----

TEST_CASE_METHOD(PciTransportTest,
                 "Doorbell layout matches queue_notify_off times the multiplier") {
  const auto doorbells = pci.doorbells();
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT, 1);
  const uint16_t notify_off = Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_NOFF);

  REQUIRE(doorbells.size() == 2);
  CHECK(doorbells[1].bar == 0);
  CHECK(doorbells[1].queue == 1);
  CHECK(doorbells[1].offset == T::kNotifyOffset + notify_off * T::kNotifyMultiplier);
  CHECK(doorbells[0].offset == T::kNotifyOffset);
}

TEST_CASE_METHOD(PciTransportTest, "A notify write reaching the transport signals that queue") {
  SetBar<uint16_t>(T::kNotifyOffset + 4, 1);

  CHECK(pci.queue_events()[1].Consume() == 1);
  CHECK(pci.queue_events()[0].Consume() == 0);
}

TEST_CASE_METHOD(PciTransportTest, "Notify write past the last queue is ignored") {
  SetBar<uint16_t>(T::kNotifyOffset + 8, 2);

  CHECK(pci.queue_events()[0].Consume() == 0);
  CHECK(pci.queue_events()[1].Consume() == 0);
}

// ---- Features (§4.1.4.3). ----

TEST_CASE_METHOD(PciTransportTest, "device_feature shows the page device_feature_select picks") {
  SetBar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_DFSELECT, 1);
  const uint32_t high = Bar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_DF);
  SetBar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_DFSELECT, 0);
  const uint32_t low = Bar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_DF);
  SetBar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_DFSELECT, 2);
  const uint32_t beyond = Bar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_DF);

  CHECK(high == static_cast<uint32_t>(kOffered >> 32));
  CHECK(low == static_cast<uint32_t>(kOffered));
  CHECK(beyond == 0);
}

TEST_CASE_METHOD(PciTransportTest, "Accepted features reach FEATURES_OK and read back") {
  Negotiate(kOffered);
  SetBar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_GFSELECT, 0);

  CHECK(Status() == (kAck | kDriver | kFeaturesOk));
  CHECK(Bar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_GF) == static_cast<uint32_t>(kOffered));
}

TEST_CASE_METHOD(PciTransportTest,
                 "FEATURES_OK reads back clear when an unoffered one is accepted") {
  Negotiate(kVersion1 | (1ull << 6));

  CHECK(Status() == (kAck | kDriver));
}

// ---- Queues. ----

TEST_CASE_METHOD(PciTransportTest, "num_queues counts the device's queues") {
  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_NUMQ) == 2);
}

TEST_CASE_METHOD(PciTransportTest, "queue_size reads the maximum until the driver writes it") {
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT, 1);
  const uint16_t initial = Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SIZE);

  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SIZE, 4);

  CHECK(initial == 8);
  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SIZE) == 4);
}

TEST_CASE_METHOD(PciTransportTest, "queue_size reads 0 for a queue that does not exist") {
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT, 2);

  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SIZE) == 0);
  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT) == 2);
}

TEST_CASE_METHOD(PciTransportTest, "Queue addresses read back both halves") {
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT, 0);
  SetQueueAddress(VIRTIO_PCI_COMMON_Q_AVAILLO, GuestAddress(0x1'2345'6780));

  CHECK(Bar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_Q_AVAILLO) == 0x2345'6780);
  CHECK(Bar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_Q_AVAILHI) == 1);
  CHECK(Bar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_Q_DESCLO) == 0);
}

TEST_CASE_METHOD(PciTransportTest,
                 "Linux's virtio-pci init sequence starts the device with a live queue") {
  Start();

  REQUIRE(device->activate_calls == 1);
  REQUIRE(device->queues.size() == 2);
  CHECK(device->queues[0].active());
  CHECK(device->queues[0].used_ring() == driver.used_ring());
  CHECK(!device->queues[1].active());
  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_ENABLE) == 1);
}

TEST_CASE_METHOD(PciTransportTest, "queue_enable reads back 1 once written") {
  Negotiate(kVersion1);
  SetUpQueue(1);

  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_ENABLE) == 1);
}

TEST_CASE_METHOD(PciTransportTest, "Write of 0 to queue_enable is ignored") {
  Negotiate(kVersion1);
  SetUpQueue(0);

  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_ENABLE, 0);

  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_ENABLE) == 1);
}

TEST_CASE_METHOD(PciTransportTest, "config_generation reads as a byte") {
  CHECK(Bar<uint8_t>(kCommon + VIRTIO_PCI_COMMON_CFGGENERATION) == 0);
}

// ---- Device configuration (§4.1.4.6, §4.1.4.9). ----

TEST_CASE_METHOD(PciTransportTest, "Device config reads through the BAR keep offset and width") {
  device->config = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15};

  const uint16_t value = Bar<uint16_t>(T::kDeviceOffset + 2);

  CHECK(value == 0x1312);
  CHECK(device->last_config_offset == 2);
}

TEST_CASE_METHOD(PciTransportTest, "Device config writes through the BAR reach the device") {
  device->config = {0, 0, 0, 0};

  SetBar<uint8_t>(T::kDeviceOffset + 3, 0x7f);

  CHECK(device->config == std::vector<uint8_t>{0, 0, 0, 0x7f});
}

TEST_CASE_METHOD(PciTransportTest, "pci_cfg window reads device config") {
  device->config = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15};
  const uint8_t cap = FindVirtioCap(VIRTIO_PCI_CAP_PCI_CFG);
  SetCfg<uint8_t>(cap + VIRTIO_PCI_CAP_BAR, 0);
  SetCfg<uint32_t>(cap + VIRTIO_PCI_CAP_OFFSET, T::kDeviceOffset + 4);
  SetCfg<uint32_t>(cap + VIRTIO_PCI_CAP_LENGTH, 2);

  const uint32_t data = Cfg<uint32_t>(cap + offsetof(virtio_pci_cfg_cap, pci_cfg_data));

  CHECK(data == 0x1514);
}

TEST_CASE_METHOD(PciTransportTest, "pci_cfg window writes the common config") {
  const uint8_t cap = FindVirtioCap(VIRTIO_PCI_CAP_PCI_CFG);
  SetCfg<uint8_t>(cap + VIRTIO_PCI_CAP_BAR, 0);
  SetCfg<uint32_t>(cap + VIRTIO_PCI_CAP_OFFSET, kCommon + VIRTIO_PCI_COMMON_STATUS);
  SetCfg<uint32_t>(cap + VIRTIO_PCI_CAP_LENGTH, 1);

  SetCfg<uint32_t>(cap + offsetof(virtio_pci_cfg_cap, pci_cfg_data), kAck);

  CHECK(Status() == kAck);
}

TEST_CASE_METHOD(PciTransportTest, "pci_cfg window with length 3 reads zero and writes nothing") {
  device->config = {0x10, 0x11, 0x12, 0x13};
  const uint8_t cap = FindVirtioCap(VIRTIO_PCI_CAP_PCI_CFG);
  SetCfg<uint32_t>(cap + VIRTIO_PCI_CAP_OFFSET, T::kDeviceOffset);
  SetCfg<uint32_t>(cap + VIRTIO_PCI_CAP_LENGTH, 3);

  const uint32_t data = Cfg<uint32_t>(cap + offsetof(virtio_pci_cfg_cap, pci_cfg_data));
  SetCfg<uint32_t>(cap + offsetof(virtio_pci_cfg_cap, pci_cfg_data), 0xffffffff);

  CHECK(data == 0);
  CHECK(device->config == std::vector<uint8_t>{0x10, 0x11, 0x12, 0x13});
}

TEST_CASE_METHOD(PciTransportTest, "pci_cfg window with a misaligned offset reads zero") {
  device->config = {0x10, 0x11, 0x12, 0x13};
  const uint8_t cap = FindVirtioCap(VIRTIO_PCI_CAP_PCI_CFG);
  SetCfg<uint32_t>(cap + VIRTIO_PCI_CAP_OFFSET, T::kDeviceOffset + 1);
  SetCfg<uint32_t>(cap + VIRTIO_PCI_CAP_LENGTH, 2);

  CHECK(Cfg<uint32_t>(cap + offsetof(virtio_pci_cfg_cap, pci_cfg_data)) == 0);
}

TEST_CASE_METHOD(PciTransportTest, "pci_cfg window naming BAR 1 reads zero") {
  device->config = {0x10, 0x11, 0x12, 0x13};
  const uint8_t cap = FindVirtioCap(VIRTIO_PCI_CAP_PCI_CFG);
  SetCfg<uint8_t>(cap + VIRTIO_PCI_CAP_BAR, 1);
  SetCfg<uint32_t>(cap + VIRTIO_PCI_CAP_OFFSET, T::kDeviceOffset);
  SetCfg<uint32_t>(cap + VIRTIO_PCI_CAP_LENGTH, 4);

  CHECK(Cfg<uint32_t>(cap + offsetof(virtio_pci_cfg_cap, pci_cfg_data)) == 0);
}

TEST_CASE_METHOD(PciTransportTest, "pci_cfg window past the end of the BAR reads zero") {
  const uint8_t cap = FindVirtioCap(VIRTIO_PCI_CAP_PCI_CFG);
  SetCfg<uint32_t>(cap + VIRTIO_PCI_CAP_OFFSET, static_cast<uint32_t>(T::kBarSize));
  SetCfg<uint32_t>(cap + VIRTIO_PCI_CAP_LENGTH, 4);

  CHECK(Cfg<uint32_t>(cap + offsetof(virtio_pci_cfg_cap, pci_cfg_data)) == 0);
}

// ---- Bad register accesses (§4.1.3.1: each field at its own width). ----

TEST_CASE_METHOD(PciTransportTest, "Common config dword read of a 16-bit field reads zero") {
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT, 1);

  CHECK(Bar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT) == 0);
}

TEST_CASE_METHOD(PciTransportTest, "Common config word write to a 32-bit field is ignored") {
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_DFSELECT, 1);

  CHECK(Bar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_DFSELECT) == 0);
}

TEST_CASE_METHOD(PciTransportTest, "Common config unaligned write inside a field is ignored") {
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_DFSELECT + 1, 1);

  CHECK(Bar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_DFSELECT) == 0);
}

TEST_CASE_METHOD(PciTransportTest, "Common config qword write to a queue address is ignored") {
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT, 0);

  SetBar<uint64_t>(kCommon + VIRTIO_PCI_COMMON_Q_DESCLO, 0x1'0000'1000);

  CHECK(Bar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_Q_DESCLO) == 0);
}

TEST_CASE_METHOD(PciTransportTest, "Write to read-only num_queues is ignored") {
  SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_NUMQ, 9);

  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_NUMQ) == 2);
}

TEST_CASE_METHOD(PciTransportTest, "BAR read in the gap after the ISR reads zero") {
  CHECK(Bar<uint32_t>(T::kIsrOffset + 0x10) == 0);
  CHECK(Bar<uint32_t>(T::kBarSize - 4) == 0);
}

// ---- Reset (§4.1.4.3.2). ----

TEST_CASE_METHOD(PciTransportTest, "Writing 0 to device_status resets device and selectors") {
  Start();
  SetBar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_DFSELECT, 1);

  SetStatus(0);

  CHECK(Status() == 0);
  CHECK(device->reset_calls == 1);
  CHECK(Bar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_DFSELECT) == 0);
  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT) == 0);
  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_ENABLE) == 0);
  CHECK(Bar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SIZE) == 16);
}

// ---- BAR placement. ----

class RecordingObserver final : public pci::BarObserver {
 public:
  void BarMoved(int bar, std::optional<uint64_t> old_address,
                std::optional<uint64_t> new_address) noexcept override {
    moves.push_back({bar, old_address, new_address});
  }
  struct Move {
    int bar;
    std::optional<uint64_t> old_address, new_address;
  };
  std::vector<Move> moves;
};

TEST_CASE_METHOD(PciTransportTest, "Programming BAR 0 and enabling memory decode reports it") {
  RecordingObserver observer;
  pci.set_bar_observer(&observer);
  SetCfg<uint32_t>(PCI_BASE_ADDRESS_0, 0x0000'0000);
  SetCfg<uint32_t>(PCI_BASE_ADDRESS_1, 0x0000'0080);

  SetCfg<uint16_t>(PCI_COMMAND, PCI_COMMAND_MEMORY);

  REQUIRE(observer.moves.size() == 1);
  CHECK(observer.moves[0].bar == 0);
  CHECK(observer.moves[0].old_address == std::nullopt);
  CHECK(observer.moves[0].new_address == 0x80'0000'0000);
}

}  // namespace
}  // namespace mini_vmm::virtio
