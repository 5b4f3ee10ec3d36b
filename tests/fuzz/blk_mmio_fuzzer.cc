// blk_mmio_fuzzer: a hostile driver against the real virtio-blk device
// (BlockDevice, its I/O thread, the synchronous backend over a memfd disk)
// behind the real virtio-mmio transport, with the rings in guest memory.
//
// mmio_fuzzer covers the register file against a fake device and
// blk_request_fuzzer the request parser alone; this target covers what lies
// between: activation and reset of a real device from register writes, the
// worker popping fuzzed rings, completions into guest memory, and resets
// while requests are in flight.
//
// The input is a program (opcode byte, little-endian operands, zeros once
// the input runs out):
//   - kInitDriver: the Linux init sequence (§3.1.1) with fuzzed features;
//   - kRequest: a well-formed request chain (header, data, status). Shape
//     byte: bits 0-3 the type (kRequestTypes), 0x20 indirect, 0x40 a u16
//     data length (else a u8 count of sectors, mod 4), 0x80 a u64 sector
//     (else a u8 one near the disk's end);
//   - kRawDescriptor / kPublishHead / kSetAvailIdx: hostile ring contents;
//   - kKick: a QueueNotify write, then (while the device runs) wait until
//     it has used every published chain, flagged DEVICE_NEEDS_RESET, or
//     kKickWait passed;
//   - kWriteRegister / kRawAccess: any register access, including Status 0
//     (a reset, possibly with requests in flight).
// Checked (VMM_CHECK aborts, which libFuzzer reports as a crash):
//   - every used element names a head below the queue size, and its length
//     is at most the size of guest RAM;
//   - while the ring holds only chains built by kRequest, each used one has
//     exactly one of OK / IOERR / UNSUPP in its status byte;
//   - DRIVER_OK is never visible without FEATURES_OK.
// ASan (and TSan, if built so) watch the I/O thread's accesses.
// tests/fuzz/blk_mmio_seeds.py writes the seeds.
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "devices/virtio/blk/block_device.h"
#include "devices/virtio/blk/disk_image.h"
#include "devices/virtio/transport/mmio.h"
#include "devices/virtio/virtio_ring.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_memory.h"
#include "tests/support/counting_interrupt.h"
#include "tests/support/fake_virtio_device.h"
#include "tests/support/register_access.h"
#include "tests/support/virtqueue_driver.h"
#include "vmm/base/check.h"
#include "vmm/base/log.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm {
namespace {

using testing::VirtQueueDriver;
using virtio::MmioTransport;
using virtio::blk::BlockDevice;

constexpr uint64_t kRamSize = 0x40000;  // 256 KiB.
constexpr uint64_t kDiskSectors = 64;
constexpr uint16_t kDriverQueueSize = 8;
constexpr uint64_t kRingBase = 0x1000;
// How long a kick waits for the I/O thread, and for how many kicks per
// input: enough for the sync backend to finish a ring of requests, short
// enough that hostile rings the device never completes do not slow the
// fuzzer down.
constexpr auto kKickWait = std::chrono::milliseconds(5);
constexpr int kMaxWaitingKicks = 16;

constexpr std::array<uint16_t, 12> kRegisters = {
    VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES, VIRTIO_MMIO_DRIVER_FEATURES_SEL,
    VIRTIO_MMIO_QUEUE_SEL,           VIRTIO_MMIO_QUEUE_NUM,       VIRTIO_MMIO_QUEUE_READY,
    VIRTIO_MMIO_QUEUE_NOTIFY,        VIRTIO_MMIO_INTERRUPT_ACK,   VIRTIO_MMIO_STATUS,
    VIRTIO_MMIO_QUEUE_DESC_LOW,      VIRTIO_MMIO_QUEUE_AVAIL_LOW, VIRTIO_MMIO_QUEUE_USED_LOW};

constexpr std::array<uint32_t, 7> kRequestTypes = {
    VIRTIO_BLK_T_IN,      VIRTIO_BLK_T_OUT,          VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID,
    VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES, 0xdead};

enum Op : uint8_t {
  kInitDriver,
  kRequest,
  kRawDescriptor,
  kPublishHead,
  kSetAvailIdx,
  kKick,
  kWriteRegister,
  kRawAccess,
  kOpCount,
};

using Program = fuzz::FuzzInput;

// One memfd disk for the whole run, opened by path like a --disk image.
const std::string& DiskPath() {
  static const std::string* path = [] {
    const int fd = ::memfd_create("blk-mmio-fuzzer-disk", MFD_CLOEXEC);
    VMM_CHECK(fd >= 0);
    VMM_CHECK(::ftruncate(fd, static_cast<off_t>(kDiskSectors * 512)) == 0);
    return new std::string("/proc/self/fd/" + std::to_string(fd));
  }();
  return *path;
}

class Session {
 public:
  Session()
      : mem_(MakeMemory()),
        device_(MakeDevice()),
        mmio_(device_, mem_, testing::MakeQueueEvents(1), line_) {
    driver_.emplace(mem_, GuestAddress(kRingBase), kDriverQueueSize);
  }

  ~Session() {
    // The reset joins the I/O thread before the memory it uses goes.
    Write(VIRTIO_MMIO_STATUS, 0);
  }

  void Run(Program& program) {
    while (!program.done()) {
      Step(program);
      const uint32_t status = Read(VIRTIO_MMIO_STATUS);
      if (status & VIRTIO_CONFIG_S_DRIVER_OK) VMM_CHECK(status & VIRTIO_CONFIG_S_FEATURES_OK);
    }
  }

 private:
  static GuestMemory MakeMemory() {
    const GuestRegionSpec layout[] = {{GuestAddress(0), kRamSize}};
    return fuzz::MakeFuzzMemory(layout);
  }

  static std::shared_ptr<BlockDevice> MakeDevice() {
    auto image = virtio::blk::DiskImage::Open({.path = DiskPath(), .serial = "fuzz"});
    VMM_CHECK(image.ok());
    auto device = BlockDevice::Create(std::move(image).value(),
                                      {.name = "blk-fuzz", .backend = virtio::blk::BackendKind::kSync});
    VMM_CHECK(device.ok());
    return std::move(device).value();
  }

  uint32_t Read(uint64_t offset) {
    return testing::ReadRegister32(mmio_, devices::IoAccess{offset, offset, 0});
  }
  void Write(uint64_t offset, uint32_t value) {
    testing::WriteRegister32(mmio_, devices::IoAccess{offset, offset, 0}, value);
  }

  void Step(Program& program) {
    switch (program.U8() % kOpCount) {
      case kInitDriver:
        InitDriver(program.U32());
        return;
      case kRequest:
        Request(program);
        return;
      case kRawDescriptor: {
        clean_ = false;
        const uint16_t index = program.U8() % kDriverQueueSize;
        const uint64_t addr = program.U8() & 0x80 ? program.U64() : program.U32() % kRamSize;
        const uint32_t len = program.U32();
        const uint16_t flags = program.U16();
        driver_->WriteDescriptor(index, addr, len, flags, program.U16());
        return;
      }
      case kPublishHead:
        clean_ = false;
        driver_->PublishHead(program.U16());
        ++published_;
        return;
      case kSetAvailIdx:
        clean_ = false;
        driver_->SetAvailIdx(program.U16());
        return;
      case kKick:
        Kick();
        return;
      case kWriteRegister: {
        const uint16_t offset = kRegisters[program.U8() % kRegisters.size()];
        Write(offset, program.U32());
        if (offset == VIRTIO_MMIO_STATUS) clean_ = false;
        return;
      }
      case kRawAccess:
        RawAccess(program);
        return;
      default:
        return;
    }
  }

  // §3.1.1, as Linux's virtio_mmio and virtio_blk drivers do it.
  void InitDriver(uint32_t features_low) {
    Write(VIRTIO_MMIO_STATUS, 0);  // Joins the I/O thread, if one runs.
    // A fresh driver: the reset queue starts again at index 0, and a new
    // VirtQueueDriver zeroes the rings.
    driver_.emplace(mem_, GuestAddress(kRingBase), kDriverQueueSize);
    Write(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    Write(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    Write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    Write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    Write(VIRTIO_MMIO_DRIVER_FEATURES, 1);  // VERSION_1 (bit 32).
    Write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    Write(VIRTIO_MMIO_DRIVER_FEATURES, features_low & Read(VIRTIO_MMIO_DEVICE_FEATURES));
    uint32_t status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
    Write(VIRTIO_MMIO_STATUS, status |= VIRTIO_CONFIG_S_FEATURES_OK);
    Write(VIRTIO_MMIO_QUEUE_SEL, 0);
    Write(VIRTIO_MMIO_QUEUE_NUM, driver_->size());
    Write(VIRTIO_MMIO_QUEUE_DESC_LOW, static_cast<uint32_t>(driver_->desc_table().value()));
    Write(VIRTIO_MMIO_QUEUE_AVAIL_LOW, static_cast<uint32_t>(driver_->avail_ring().value()));
    Write(VIRTIO_MMIO_QUEUE_USED_LOW, static_cast<uint32_t>(driver_->used_ring().value()));
    Write(VIRTIO_MMIO_QUEUE_READY, 1);
    Write(VIRTIO_MMIO_STATUS, status | VIRTIO_CONFIG_S_DRIVER_OK);
    statuses_.clear();
    published_ = 0;
    descriptors_since_drain_ = 0;
    clean_ = true;
  }

  void Request(Program& program) {
    const uint8_t shape = program.U8();
    const uint32_t type = kRequestTypes[(shape & 0x0f) % kRequestTypes.size()];
    const uint64_t sector = shape & 0x80 ? program.U64() : program.U8() % (kDiskSectors + 2);
    const uint32_t data_len = (shape & 0x40) ? program.U16() % 2048 : 512u * (program.U8() % 4);
    if (driver_->data_left() < data_len + 64 + 16 * 4) return;  // The data area is used up.
    virtio_blk_outhdr header{type, 0, sector};
    const auto* header_bytes = reinterpret_cast<const uint8_t*>(&header);
    auto chain = driver_->Chain();
    chain.Readable(std::span<const uint8_t>(header_bytes, sizeof(header)));
    const bool device_writes = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
    if (data_len > 0) {
      if (device_writes) {
        chain.Writable(data_len);
      } else {
        chain.Readable(data_len);
      }
    }
    chain.Writable(1);
    if (shape & 0x20) chain.Indirect();
    // VirtQueueDriver hands out descriptor slots round robin and never
    // reclaims them: past a ring's worth since the ring last drained, a new
    // chain may overwrite one still in flight. That is a fine hostile input,
    // but no longer one whose statuses can be checked.
    const uint32_t descriptors = (shape & 0x20) ? 1 : (data_len > 0 ? 3 : 2);
    descriptors_since_drain_ += descriptors;
    if (descriptors_since_drain_ > kDriverQueueSize) clean_ = false;
    const uint16_t head = chain.Publish();
    ++published_;
    statuses_[head] = chain.buffer(data_len > 0 ? 2 : 1);
  }

  void Kick() {
    Write(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    const auto running = [this] {
      const uint32_t status = Read(VIRTIO_MMIO_STATUS);
      return (status & VIRTIO_CONFIG_S_DRIVER_OK) != 0 &&
             (status & VIRTIO_CONFIG_S_NEEDS_RESET) == 0;
    };
    const auto deadline = std::chrono::steady_clock::now() + kKickWait;
    if (waiting_kicks_ < kMaxWaitingKicks) {
      ++waiting_kicks_;
      while (driver_->used_idx() != static_cast<uint16_t>(published_) && running() &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
    }
    CheckUsed();
    if (driver_->used_idx() == static_cast<uint16_t>(published_)) descriptors_since_drain_ = 0;
  }

  void CheckUsed() {
    while (auto used = driver_->NextUsed()) {
      VMM_CHECK(used->id < kDriverQueueSize);
      VMM_CHECK(used->len <= kRamSize);
      if (!clean_) continue;
      auto status = statuses_.find(static_cast<uint16_t>(used->id));
      VMM_CHECK(status != statuses_.end());
      const uint8_t byte = driver_->ReadBytes(status->second, 1)[0];
      VMM_CHECK(byte == VIRTIO_BLK_S_OK || byte == VIRTIO_BLK_S_IOERR ||
                byte == VIRTIO_BLK_S_UNSUPP);
    }
  }

  void RawAccess(Program& program) {
    clean_ = false;
    const uint8_t shape = program.U8();
    const size_t width = 1 + (shape & 7);
    const uint64_t offset = program.U16() % MmioTransport::kWindowSize;
    std::array<uint8_t, 8> data{};
    if (shape & 0x80) {
      for (size_t i = 0; i < width; ++i) data[i] = program.U8();
      mmio_.Write(devices::IoAccess{offset, offset, 0},
                  std::span<const uint8_t>(data.data(), width));
    } else {
      mmio_.Read(devices::IoAccess{offset, offset, 0}, std::span<uint8_t>(data.data(), width));
    }
  }

  testing::AtomicCountingInterrupt line_;  // Triggered from the I/O thread.
  GuestMemory mem_;
  std::shared_ptr<BlockDevice> device_;
  MmioTransport mmio_;
  std::optional<VirtQueueDriver> driver_;
  std::map<uint16_t, GuestAddress> statuses_;  // Head -> status byte, of kRequest chains.
  uint32_t published_ = 0;  // Heads made available since the last init.
  uint32_t descriptors_since_drain_ = 0;
  int waiting_kicks_ = 0;
  bool clean_ = true;  // Only kRequest chains on the ring since the last init.
};

}  // namespace
}  // namespace mini_vmm

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // A hostile guest makes the device log (rate-limited) warnings; they are
  // expected here and would drown libFuzzer's output.
  mini_vmm::log::SetLevel(mini_vmm::LogLevel::kError);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mini_vmm::fuzz::FuzzInput program(std::span<const uint8_t>(data, size));
  mini_vmm::Session session;
  session.Run(program);
  return 0;
}
