// pci_fuzzer: a hostile guest against the PCI root bus (ECAM and
// 0xcf8/0xcfc), a virtio-pci function's configuration space, its MSI-X
// table and PBA, and its BAR 0 registers, around a fake device with two
// queues.
//
// The input is a program: each instruction is an opcode byte and operands
// (little-endian, zero once the input runs out); see enum Op. Invariants,
// checked after every instruction:
//   - DRIVER_OK is never visible without FEATURES_OK;
//   - the device is running iff it was activated and not reset since;
//   - an MSI-X vector fires only while it has a route (enabled, unmasked),
//     and only vectors that exist fire;
//   - the INTx line is high iff PCI_STATUS_INTERRUPT says so;
//   - BarMoved reports form a chain (each old address is the previous new
//     one), and match what the function reports as mapped;
//   - slots without a device read all-ones; every read fills its buffer;
//   - after status 0: status, ISR and both vectors read as reset.
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "devices/pci/config_access.h"
#include "devices/pci/root_bus.h"
#include "devices/virtio/transport/pci.h"
#include "devices/virtio/virtio_ring.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_memory.h"
#include "tests/support/fake_pci.h"
#include "tests/support/fake_virtio_device.h"
#include "tests/support/virtqueue_driver.h"
#include "vmm/base/check.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm {
namespace {

using testing::FakeIntxLine;
using testing::FakeVirtioDevice;
using testing::VirtQueueDriver;
using virtio::VirtioPciTransport;

constexpr uint64_t kRamSize = 0x10000;
constexpr uint64_t kOffered = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) |
                              (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << 5);
constexpr uint16_t kVectors = 3;  // Two queues plus the config vector.
constexpr uint8_t kSlot = 1;      // Where the virtio function lands.

// Common configuration fields and their widths, so most writes land on one.
struct Field {
  uint8_t offset;
  uint8_t width;
};
constexpr std::array<Field, 20> kCommonFields = {{
    {VIRTIO_PCI_COMMON_DFSELECT, 4},  {VIRTIO_PCI_COMMON_DF, 4},
    {VIRTIO_PCI_COMMON_GFSELECT, 4},  {VIRTIO_PCI_COMMON_GF, 4},
    {VIRTIO_PCI_COMMON_MSIX, 2},      {VIRTIO_PCI_COMMON_NUMQ, 2},
    {VIRTIO_PCI_COMMON_STATUS, 1},    {VIRTIO_PCI_COMMON_CFGGENERATION, 1},
    {VIRTIO_PCI_COMMON_Q_SELECT, 2},  {VIRTIO_PCI_COMMON_Q_SIZE, 2},
    {VIRTIO_PCI_COMMON_Q_MSIX, 2},    {VIRTIO_PCI_COMMON_Q_ENABLE, 2},
    {VIRTIO_PCI_COMMON_Q_NOFF, 2},    {VIRTIO_PCI_COMMON_Q_DESCLO, 4},
    {VIRTIO_PCI_COMMON_Q_DESCHI, 4},  {VIRTIO_PCI_COMMON_Q_AVAILLO, 4},
    {VIRTIO_PCI_COMMON_Q_AVAILHI, 4}, {VIRTIO_PCI_COMMON_Q_USEDLO, 4},
    {VIRTIO_PCI_COMMON_Q_USEDHI, 4},  {VIRTIO_PCI_COMMON_Q_NDATA, 2},
}};

enum Op : uint8_t {
  kEcamAccess,        // Any width 1-8, any offset in the 1 MiB window, read or write.
  kConfigIoAccess,    // Any width 1-4 at any of the 8 ports, read or write.
  kConfigWrite,       // A 1/2/4-byte write to the virtio function, offset < 0x100.
  kCommonWrite,       // A write of the right width to one of kCommonFields.
  kCommonRead,        // A read of the right width of one of kCommonFields.
  kBarAccess,         // Any width 1-8 at any BAR 0 offset, read or write.
  kMsixEntryWrite,    // An aligned dword to one MSI-X table entry field.
  kMsixControl,       // The MSI-X Message Control register (enable, mask).
  kSetStatusBit,      // device_status |= one bit.
  kPointQueueAtRing,  // The selected queue's addresses and size: a valid ring.
  kPciCfgWindow,      // The pci_cfg capability: bar/offset/length, then data.
  kNotifyQueue,       // Device side: used buffers on a queue.
  kConfigChange,      // Device side: configuration changed.
  kNeedsReset,        // Device side: DEVICE_NEEDS_RESET.
  kOpCount,
};

using Program = fuzz::FuzzInput;

const GuestMemory& Memory() {
  static const GuestMemory* memory = [] {
    const GuestRegionSpec layout[] = {{GuestAddress(0), kRamSize}};
    return new GuestMemory(fuzz::MakeFuzzMemory(layout));
  }();
  return *memory;
}

// Checks every fire against the routes it was told.
class CheckingMsiSink final : public pci::MsiSink {
 public:
  void UpdateRoute(uint16_t vector, std::optional<pci::MsiMessage> message) noexcept override {
    VMM_CHECK(vector < kVectors);
    routed_[vector] = message.has_value();
  }
  void Fire(uint16_t vector) noexcept override {
    VMM_CHECK(vector < kVectors);
    VMM_CHECK(routed_[vector]);
  }

 private:
  std::array<bool, kVectors> routed_{};
};

// Checks that BAR reports chain and tracks where BAR 0 is.
class ChainObserver final : public pci::BarObserver {
 public:
  void BarMoved(int bar, std::optional<uint64_t> old_address,
                std::optional<uint64_t> new_address) noexcept override {
    VMM_CHECK(bar == VirtioPciTransport::kBar);  // The only BAR.
    VMM_CHECK(old_address == current);
    VMM_CHECK(old_address != new_address);
    if (new_address) VMM_CHECK(*new_address % VirtioPciTransport::kBarSize == 0);
    current = new_address;
  }
  std::optional<uint64_t> current;
};

class Session {
 public:
  explicit Session(const GuestMemory& mem)
      : device_(std::make_shared<FakeVirtioDevice>(VIRTIO_ID_NET, kOffered,
                                                   std::vector<uint16_t>{16, 8})),
        pci_(std::make_shared<VirtioPciTransport>(device_, mem, testing::MakeQueueEvents(2), msi_,
                                                  intx_)),
        root_(std::make_shared<pci::PciRootBus>()),
        ecam_(root_),
        io_(root_),
        driver_(mem, GuestAddress(0x1000), 8) {
    device_->config = {1, 2, 3, 4, 5, 6, 7, 8};
    pci_->set_bar_observer(&observer_);
    auto slot = root_->Add(pci_);
    VMM_CHECK(slot.ok() && *slot == kSlot);
    pci_cfg_cap_ = FindPciCfgCap();
    msix_cap_ = FindCap(PCI_CAP_ID_MSIX);
    VMM_CHECK(pci_cfg_cap_ != 0 && msix_cap_ != 0);
  }

  void Run(Program& program) {
    while (!program.done()) {
      Step(program);
      CheckInvariants();
    }
  }

 private:
  // ---- Accessors, little-endian, width = sizeof(T). ----
  template <typename T>
  T Config(uint32_t reg) {
    std::array<uint8_t, sizeof(T)> bytes{};
    pci_->ReadConfig(reg, bytes);
    T value{};
    std::memcpy(&value, bytes.data(), sizeof(T));
    return value;
  }
  void WriteConfig(uint32_t reg, uint32_t value, size_t width) {
    std::array<uint8_t, 4> bytes{};
    std::memcpy(bytes.data(), &value, sizeof(value));
    root_->WriteConfig({0, kSlot, 0}, reg, std::span<const uint8_t>(bytes.data(), width));
  }
  uint32_t ReadBar(uint64_t offset, size_t width) {
    std::array<uint8_t, 8> bytes{};
    bytes.fill(0xcc);
    pci_->Read({offset, offset, 0}, std::span<uint8_t>(bytes.data(), width));
    uint32_t value = 0;
    std::memcpy(&value, bytes.data(), std::min<size_t>(width, 4));
    return value;
  }
  void WriteBar(uint64_t offset, uint32_t value, size_t width) {
    std::array<uint8_t, 4> bytes{};
    std::memcpy(bytes.data(), &value, sizeof(value));
    pci_->Write({offset, offset, 0}, std::span<const uint8_t>(bytes.data(), width));
    if (offset == VIRTIO_PCI_COMMON_STATUS && width == 1 && static_cast<uint8_t>(value) == 0) {
      CheckReset();
    }
  }
  uint8_t FindCap(uint8_t id) {
    uint8_t at = Config<uint8_t>(PCI_CAPABILITY_LIST);
    for (int ttl = 48; at != 0 && ttl > 0; --ttl) {
      if (Config<uint8_t>(at) == id) return at;
      at = Config<uint8_t>(at + PCI_CAP_LIST_NEXT);
    }
    return 0;
  }
  uint8_t FindPciCfgCap() {
    uint8_t at = Config<uint8_t>(PCI_CAPABILITY_LIST);
    for (int ttl = 48; at != 0 && ttl > 0; --ttl) {
      if (Config<uint8_t>(at) == PCI_CAP_ID_VNDR &&
          Config<uint8_t>(at + VIRTIO_PCI_CAP_CFG_TYPE) == VIRTIO_PCI_CAP_PCI_CFG) {
        return at;
      }
      at = Config<uint8_t>(at + PCI_CAP_LIST_NEXT);
    }
    return 0;
  }

  void Step(Program& program) {
    switch (program.U8() % kOpCount) {
      case kEcamAccess:
        RawAccess(program, ecam_, program.U32() % pci::PciEcam::kWindowSize, 8);
        return;
      case kConfigIoAccess:
        RawAccess(program, io_, program.U8() % pci::PciConfigIo::kPortCount, 4);
        return;
      case kConfigWrite: {
        const uint8_t reg = program.U8();
        const size_t width = size_t{1} << (program.U8() % 3);
        WriteConfig(reg, program.U32(), width);
        return;
      }
      case kCommonWrite: {
        const Field field = kCommonFields[program.U8() % kCommonFields.size()];
        WriteBar(field.offset, program.U32(), field.width);
        return;
      }
      case kCommonRead: {
        const Field field = kCommonFields[program.U8() % kCommonFields.size()];
        ReadBar(field.offset, field.width);
        return;
      }
      case kBarAccess:
        RawAccess(program, *pci_, program.U16() % VirtioPciTransport::kBarSize, 8);
        return;
      case kMsixEntryWrite: {
        const uint64_t entry = program.U8() % (kVectors + 1);  // One past the table, too.
        const uint64_t field = (program.U8() % 4) * 4;
        WriteBar(VirtioPciTransport::kMsixTableOffset + entry * PCI_MSIX_ENTRY_SIZE + field,
                 program.U32(), 4);
        return;
      }
      case kMsixControl:
        WriteConfig(msix_cap_ + PCI_MSIX_FLAGS, program.U16(), 2);
        return;
      case kSetStatusBit: {
        const uint32_t bit = 1u << (program.U8() % 8);
        WriteBar(VIRTIO_PCI_COMMON_STATUS, ReadBar(VIRTIO_PCI_COMMON_STATUS, 1) | bit, 1);
        return;
      }
      case kPointQueueAtRing:
        PointQueueAtRing();
        return;
      case kPciCfgWindow:
        PciCfgWindow(program);
        return;
      case kNotifyQueue:
        if (device_->interrupt != nullptr) device_->interrupt->NotifyQueue(program.U8() % 3);
        return;
      case kConfigChange:
        if (device_->interrupt != nullptr) device_->interrupt->NotifyConfigChange();
        return;
      case kNeedsReset:
        if (device_->needs_reset) device_->needs_reset();
        return;
      default:
        return;
    }
  }

  void RawAccess(Program& program, devices::BusDevice& target, uint64_t offset, size_t max) {
    const uint8_t shape = program.U8();
    const size_t width = 1 + (shape % max);
    std::array<uint8_t, 8> data{};
    if (shape & 0x80) {
      program.Copy(std::span<uint8_t>(data.data(), width));
      target.Write({offset, offset, 0}, std::span<const uint8_t>(data.data(), width));
    } else {
      data.fill(0xcc);
      target.Read({offset, offset, 0}, std::span<uint8_t>(data.data(), width));
    }
  }

  void PointQueueAtRing() {
    const auto write64 = [this](uint64_t low, GuestAddress address) {
      WriteBar(low, static_cast<uint32_t>(address.value()), 4);
      WriteBar(low + 4, static_cast<uint32_t>(address.value() >> 32), 4);
    };
    WriteBar(VIRTIO_PCI_COMMON_Q_SIZE, driver_.size(), 2);
    write64(VIRTIO_PCI_COMMON_Q_DESCLO, driver_.desc_table());
    write64(VIRTIO_PCI_COMMON_Q_AVAILLO, driver_.avail_ring());
    write64(VIRTIO_PCI_COMMON_Q_USEDLO, driver_.used_ring());
  }

  void PciCfgWindow(Program& program) {
    WriteConfig(pci_cfg_cap_ + VIRTIO_PCI_CAP_BAR, program.U8() % 2, 1);
    WriteConfig(pci_cfg_cap_ + VIRTIO_PCI_CAP_OFFSET, program.U16(), 4);
    WriteConfig(pci_cfg_cap_ + VIRTIO_PCI_CAP_LENGTH, program.U8() % 5, 4);
    const uint32_t data = pci_cfg_cap_ + offsetof(virtio_pci_cfg_cap, pci_cfg_data);
    if (program.U8() & 1) {
      WriteConfig(data, program.U32(), 4);
    } else {
      Config<uint32_t>(data);
    }
  }

  void CheckReset() {
    VMM_CHECK(ReadBar(VIRTIO_PCI_COMMON_STATUS, 1) == 0);
    VMM_CHECK(!intx_.level);
    VMM_CHECK(ReadBar(VIRTIO_PCI_COMMON_MSIX, 2) == VIRTIO_MSI_NO_VECTOR);
    VMM_CHECK(ReadBar(VIRTIO_PCI_COMMON_Q_MSIX, 2) == VIRTIO_MSI_NO_VECTOR);
    VMM_CHECK(device_->interrupt == nullptr);
  }

  void CheckInvariants() {
    const uint32_t status = ReadBar(VIRTIO_PCI_COMMON_STATUS, 1);
    if (status & VIRTIO_CONFIG_S_DRIVER_OK) VMM_CHECK(status & VIRTIO_CONFIG_S_FEATURES_OK);
    VMM_CHECK(device_->activate_calls - device_->reset_calls ==
              (device_->interrupt != nullptr ? 1 : 0));
    const bool status_interrupt = (Config<uint16_t>(PCI_STATUS) & PCI_STATUS_INTERRUPT) != 0;
    VMM_CHECK(status_interrupt == intx_.level);
    VMM_CHECK(observer_.current == pci_config_mapped());
    std::array<uint8_t, 4> empty{};
    root_->ReadConfig({0, 31, 0}, PCI_VENDOR_ID, empty);
    VMM_CHECK(empty == (std::array<uint8_t, 4>{0xff, 0xff, 0xff, 0xff}));
  }

  // What the function's configuration says BAR 0 is mapped at.
  std::optional<uint64_t> pci_config_mapped() {
    if ((Config<uint16_t>(PCI_COMMAND) & PCI_COMMAND_MEMORY) == 0) return std::nullopt;
    const uint64_t address = (uint64_t{Config<uint32_t>(PCI_BASE_ADDRESS_1)} << 32) |
                             (Config<uint32_t>(PCI_BASE_ADDRESS_0) & PCI_BASE_ADDRESS_MEM_MASK);
    if (address == 0 || address == ~(VirtioPciTransport::kBarSize - 1)) return std::nullopt;
    return address;
  }

  CheckingMsiSink msi_;
  FakeIntxLine intx_;
  ChainObserver observer_;
  std::shared_ptr<FakeVirtioDevice> device_;
  std::shared_ptr<VirtioPciTransport> pci_;
  std::shared_ptr<pci::PciRootBus> root_;
  pci::PciEcam ecam_;
  pci::PciConfigIo io_;
  VirtQueueDriver driver_;
  uint8_t pci_cfg_cap_ = 0;
  uint8_t msix_cap_ = 0;
};

}  // namespace
}  // namespace mini_vmm

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mini_vmm;
  Program program(std::span<const uint8_t>(data, size));
  Session session(Memory());
  session.Run(program);
  return 0;
}
