// A virtio-pci transport around a fake device with two queues, and the
// accesses a guest driver makes to it: BAR 0 registers of any width and
// configuration space, plus Linux's virtio_pci_modern init sequence.
#pragma once

#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "devices/virtio/transport/pci.h"
#include "devices/virtio/virtio_ring.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/fake_pci.h"
#include "tests/support/fake_virtio_device.h"
#include "tests/support/virtqueue_driver.h"

namespace mini_vmm::virtio::testing {

using mini_vmm::testing::FakeIntxLine;
using mini_vmm::testing::FakeVirtioDevice;
using mini_vmm::testing::RecordingMsiSink;
using mini_vmm::testing::VirtQueueDriver;

inline constexpr uint64_t kVersion1 = 1ull << VIRTIO_F_VERSION_1;
inline constexpr uint64_t kOffered = kVersion1 | (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << 5);
inline constexpr uint8_t kAck = VIRTIO_CONFIG_S_ACKNOWLEDGE;
inline constexpr uint8_t kDriver = VIRTIO_CONFIG_S_DRIVER;
inline constexpr uint8_t kFeaturesOk = VIRTIO_CONFIG_S_FEATURES_OK;
inline constexpr uint8_t kDriverOk = VIRTIO_CONFIG_S_DRIVER_OK;
inline constexpr uint64_t kCommon = VirtioPciTransport::kCommonOffset;

struct PciTransportTest {
  GuestMemory mem = mini_vmm::testing::MakeGuestMemory(0, 0x10000);
  std::shared_ptr<FakeVirtioDevice> device =
      std::make_shared<FakeVirtioDevice>(VIRTIO_ID_BLOCK, kOffered, std::vector<uint16_t>{16, 8});
  RecordingMsiSink msi;
  FakeIntxLine intx;
  VirtioPciTransport pci{device, mem, mini_vmm::testing::MakeQueueEvents(2), msi, intx};
  VirtQueueDriver driver{mem, GuestAddress(0x1000), 8};

  template <typename T>
  T Bar(uint64_t offset) {
    std::array<uint8_t, sizeof(T)> bytes{};
    pci.Read({offset, offset, 0}, bytes);
    T value{};
    std::memcpy(&value, bytes.data(), sizeof(T));
    return value;
  }
  template <typename T>
  void SetBar(uint64_t offset, T value) {
    std::array<uint8_t, sizeof(T)> bytes{};
    std::memcpy(bytes.data(), &value, sizeof(T));
    pci.Write({offset, offset, 0}, bytes);
  }
  template <typename T>
  T Cfg(uint32_t offset) {
    std::array<uint8_t, sizeof(T)> bytes{};
    pci.ReadConfig(offset, bytes);
    T value{};
    std::memcpy(&value, bytes.data(), sizeof(T));
    return value;
  }
  template <typename T>
  void SetCfg(uint32_t offset, T value) {
    std::array<uint8_t, sizeof(T)> bytes{};
    std::memcpy(bytes.data(), &value, sizeof(T));
    pci.WriteConfig(offset, bytes);
  }

  // The first vendor capability with `cfg_type`, as virtio_pci_find_capability
  // finds it; 0 if none.
  uint8_t FindVirtioCap(uint8_t cfg_type) {
    uint8_t at = Cfg<uint8_t>(PCI_CAPABILITY_LIST);
    for (int ttl = 48; at != 0 && ttl > 0; --ttl) {
      if (Cfg<uint8_t>(at) == PCI_CAP_ID_VNDR &&
          Cfg<uint8_t>(at + VIRTIO_PCI_CAP_CFG_TYPE) == cfg_type) {
        return at;
      }
      at = Cfg<uint8_t>(at + PCI_CAP_LIST_NEXT);
    }
    return 0;
  }
  uint8_t FindCap(uint8_t id) {
    uint8_t at = Cfg<uint8_t>(PCI_CAPABILITY_LIST);
    for (int ttl = 48; at != 0 && ttl > 0; --ttl) {
      if (Cfg<uint8_t>(at) == id) return at;
      at = Cfg<uint8_t>(at + PCI_CAP_LIST_NEXT);
    }
    return 0;
  }

  uint8_t Status() { return Bar<uint8_t>(kCommon + VIRTIO_PCI_COMMON_STATUS); }
  void SetStatus(uint8_t status) { SetBar<uint8_t>(kCommon + VIRTIO_PCI_COMMON_STATUS, status); }

  // What Linux's virtio_pci_modern probe and setup_vq do, in order.
  void Negotiate(uint64_t features) {
    SetStatus(kAck);
    SetStatus(kAck | kDriver);
    SetBar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_GFSELECT, 0);
    SetBar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_GF, static_cast<uint32_t>(features));
    SetBar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_GFSELECT, 1);
    SetBar<uint32_t>(kCommon + VIRTIO_PCI_COMMON_GF, static_cast<uint32_t>(features >> 32));
    SetStatus(kAck | kDriver | kFeaturesOk);
  }
  void SetQueueAddress(uint64_t low_offset, GuestAddress address) {
    SetBar<uint32_t>(kCommon + low_offset, static_cast<uint32_t>(address.value()));
    SetBar<uint32_t>(kCommon + low_offset + 4, static_cast<uint32_t>(address.value() >> 32));
  }
  void SetUpQueue(uint16_t index) {
    SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SELECT, index);
    SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_SIZE, driver.size());
    SetQueueAddress(VIRTIO_PCI_COMMON_Q_DESCLO, driver.desc_table());
    SetQueueAddress(VIRTIO_PCI_COMMON_Q_AVAILLO, driver.avail_ring());
    SetQueueAddress(VIRTIO_PCI_COMMON_Q_USEDLO, driver.used_ring());
    SetBar<uint16_t>(kCommon + VIRTIO_PCI_COMMON_Q_ENABLE, 1);
  }
  void Start() {
    Negotiate(kVersion1);
    SetUpQueue(0);
    SetStatus(kAck | kDriver | kFeaturesOk | kDriverOk);
  }

  // Sets MSI-X Enable in the capability, as pci_msix_enable does.
  void EnableMsix() {
    const uint8_t cap = FindCap(PCI_CAP_ID_MSIX);
    SetCfg<uint16_t>(cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE);
  }
  // Table entry `v` (< 3): the LAPIC address, data 0x40 + v, and the mask.
  void ProgramVector(uint16_t v, bool masked = false) {
    const uint64_t entry = VirtioPciTransport::kMsixTableOffset + v * uint64_t{PCI_MSIX_ENTRY_SIZE};
    SetBar<uint32_t>(entry + PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee0'0000);
    SetBar<uint32_t>(entry + PCI_MSIX_ENTRY_UPPER_ADDR, 0);
    SetBar<uint32_t>(entry + PCI_MSIX_ENTRY_DATA, 0x40u + v);
    SetBar<uint32_t>(entry + PCI_MSIX_ENTRY_VECTOR_CTRL, masked ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
  }
};

}  // namespace mini_vmm::virtio::testing
