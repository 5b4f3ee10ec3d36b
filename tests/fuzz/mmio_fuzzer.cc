// mmio_fuzzer: a hostile driver against the virtio-mmio register file
// (MmioTransport + TransportCore) of a fake device with two queues.
//
// The input is a program: each instruction is an opcode byte and operands
// (little-endian, zero once the input runs out). Instructions are register
// reads and writes of any width and offset (weighted towards the 32-bit
// aligned registers a driver uses), ring addresses pointing at a valid ring
// or anywhere, and device-side events (a used-buffer notification, the
// device asking for a reset). Invariants, checked after every instruction:
//   - DRIVER_OK is never visible without FEATURES_OK;
//   - with FEATURES_OK set, the accepted features are a subset of the offered
//     ones and include VERSION_1;
//   - the device is running iff it was activated and not reset since;
//   - Status 0 leaves Status, InterruptStatus and QueueReady all zero;
//   - reads of any width fill the whole buffer without crashing.
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "devices/virtio/transport/mmio.h"
#include "devices/virtio/virtio_ring.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_memory.h"
#include "tests/support/counting_interrupt.h"
#include "tests/support/fake_virtio_device.h"
#include "tests/support/register_access.h"
#include "tests/support/virtqueue_driver.h"
#include "vmm/base/check.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm {
namespace {

using testing::CountingInterrupt;
using testing::FakeVirtioDevice;
using testing::VirtQueueDriver;
using virtio::MmioTransport;

constexpr uint64_t kRamSize = 0x10000;
constexpr uint64_t kOffered = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) |
                              (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << 5);
constexpr uint32_t kFeaturesOk = VIRTIO_CONFIG_S_FEATURES_OK;
constexpr uint32_t kDriverOk = VIRTIO_CONFIG_S_DRIVER_OK;

// The registers a driver writes, so most writes land somewhere meaningful.
constexpr std::array<uint16_t, 18> kRegisters = {VIRTIO_MMIO_DEVICE_FEATURES_SEL,
                                                 VIRTIO_MMIO_DRIVER_FEATURES,
                                                 VIRTIO_MMIO_DRIVER_FEATURES_SEL,
                                                 VIRTIO_MMIO_QUEUE_SEL,
                                                 VIRTIO_MMIO_QUEUE_NUM,
                                                 VIRTIO_MMIO_QUEUE_READY,
                                                 VIRTIO_MMIO_QUEUE_NOTIFY,
                                                 VIRTIO_MMIO_INTERRUPT_ACK,
                                                 VIRTIO_MMIO_STATUS,
                                                 VIRTIO_MMIO_QUEUE_DESC_LOW,
                                                 VIRTIO_MMIO_QUEUE_DESC_HIGH,
                                                 VIRTIO_MMIO_QUEUE_AVAIL_LOW,
                                                 VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
                                                 VIRTIO_MMIO_QUEUE_USED_LOW,
                                                 VIRTIO_MMIO_QUEUE_USED_HIGH,
                                                 VIRTIO_MMIO_SHM_SEL,
                                                 VIRTIO_MMIO_CONFIG,
                                                 VIRTIO_MMIO_CONFIG_GENERATION};

enum Op : uint8_t {
  kWriteRegister,     // A 32-bit write to one of kRegisters.
  kReadRegister,      // A 32-bit read of any aligned offset below 0x100.
  kRawAccess,         // Any width (1-8) at any offset in the window, read or write.
  kSetStatusBit,      // Status |= one bit, as a driver steps through §3.1.1.
  kPointQueueAtRing,  // The selected queue's addresses and size: a valid ring.
  kNotifyQueue,       // Device side: used buffers.
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

class Session {
 public:
  explicit Session(const GuestMemory& mem)
      : device_(std::make_shared<FakeVirtioDevice>(VIRTIO_ID_BLOCK, kOffered,
                                                   std::vector<uint16_t>{16, 8})),
        mmio_(device_, mem, testing::MakeQueueEvents(2), line_),
        driver_(mem, GuestAddress(0x1000), 8) {
    device_->config = {1, 2, 3, 4, 5, 6, 7, 8};
  }

  void Run(Program& program) {
    while (!program.done()) {
      Step(program);
      CheckInvariants();
    }
  }

 private:
  uint32_t Read(uint64_t offset) {
    return testing::ReadRegister32(mmio_, devices::IoAccess{offset, offset, 0});
  }
  void Write(uint64_t offset, uint32_t value) {
    testing::WriteRegister32(mmio_, devices::IoAccess{offset, offset, 0}, value);
    if (offset == VIRTIO_MMIO_STATUS && static_cast<uint8_t>(value) == 0) CheckReset();
  }

  void Step(Program& program) {
    switch (program.U8() % kOpCount) {
      case kWriteRegister: {
        const uint16_t offset = kRegisters[program.U8() % kRegisters.size()];
        Write(offset, program.U32());
        return;
      }
      case kReadRegister:
        Read(uint64_t{program.U8()} & ~uint64_t{3});
        return;
      case kRawAccess:
        RawAccess(program);
        return;
      case kSetStatusBit: {
        const uint32_t bit = 1u << (program.U8() % 8);
        Write(VIRTIO_MMIO_STATUS, (Read(VIRTIO_MMIO_STATUS) & 0xff) | bit);
        return;
      }
      case kPointQueueAtRing:
        Write(VIRTIO_MMIO_QUEUE_NUM, driver_.size());
        Write(VIRTIO_MMIO_QUEUE_DESC_LOW, static_cast<uint32_t>(driver_.desc_table().value()));
        Write(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
        Write(VIRTIO_MMIO_QUEUE_AVAIL_LOW, static_cast<uint32_t>(driver_.avail_ring().value()));
        Write(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
        Write(VIRTIO_MMIO_QUEUE_USED_LOW, static_cast<uint32_t>(driver_.used_ring().value()));
        Write(VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
        return;
      case kNotifyQueue:
        if (device_->interrupt != nullptr) device_->interrupt->NotifyQueue(program.U8());
        return;
      case kNeedsReset:
        if (device_->needs_reset) device_->needs_reset();
        return;
      default:
        return;
    }
  }

  void RawAccess(Program& program) {
    const uint8_t shape = program.U8();
    const size_t width = 1 + (shape & 7);
    const uint64_t offset = program.U16() % MmioTransport::kWindowSize;
    std::array<uint8_t, 8> data{};
    if (shape & 0x80) {
      for (size_t i = 0; i < width; ++i) data[i] = program.U8();
      mmio_.Write(devices::IoAccess{offset, offset, 0},
                  std::span<const uint8_t>(data.data(), width));
      if (offset == VIRTIO_MMIO_STATUS && width == 4 && data[0] == 0) CheckReset();
    } else {
      data.fill(0xcc);
      mmio_.Read(devices::IoAccess{offset, offset, 0}, std::span<uint8_t>(data.data(), width));
    }
  }

  void CheckReset() {
    VMM_CHECK(Read(VIRTIO_MMIO_STATUS) == 0);
    VMM_CHECK(Read(VIRTIO_MMIO_INTERRUPT_STATUS) == 0);
    VMM_CHECK(Read(VIRTIO_MMIO_QUEUE_READY) == 0);
    VMM_CHECK(device_->interrupt == nullptr);  // Reset, or never activated.
  }

  void CheckInvariants() {
    const uint32_t status = Read(VIRTIO_MMIO_STATUS);
    VMM_CHECK((status & ~0xffu) == 0);
    if (status & kDriverOk) VMM_CHECK(status & kFeaturesOk);
    if (device_->interrupt != nullptr) {
      // Running: activated with acceptable features, not reset since.
      VMM_CHECK((status & kDriverOk) != 0);
      VMM_CHECK((device_->activated_features & ~kOffered) == 0);
      VMM_CHECK((device_->activated_features & (1ull << VIRTIO_F_VERSION_1)) != 0);
    }
    VMM_CHECK(device_->activate_calls - device_->reset_calls ==
              (device_->interrupt != nullptr ? 1 : 0));
  }

  CountingInterrupt line_;
  std::shared_ptr<FakeVirtioDevice> device_;
  MmioTransport mmio_;
  VirtQueueDriver driver_;
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
