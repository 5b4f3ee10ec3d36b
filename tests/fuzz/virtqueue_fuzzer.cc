// virtqueue_fuzzer: a hostile driver against the device side of one split
// virtqueue (Queue, WalkChain, DescriptorChain, Reader/Writer).
//
// The input is a small program, not raw ring bytes. A config byte picks the
// queue size (1 << ((config & 7) % 5)) and the negotiated ring features
// (0x08 EVENT_IDX, 0x10 INDIRECT_DESC); then each instruction is an opcode
// byte and its operands (little-endian, zero once the input runs out).
// Instructions act either as the driver -- write a descriptor into the ring
// or into an indirect table, publish a head, move avail->idx, set the
// suppression fields, poke any byte of RAM -- or as the device -- Pop,
// AddUsed, Enable/DisableNotification, ShouldNotifyDriver, read and write a
// popped chain through Reader/Writer, reset and reactivate the queue. So the
// fuzzer spends its time on ring states a guest can reach instead of on
// layouts Activate() would refuse. tests/fuzz/virtqueue_seeds.py writes the
// seed corpus in this format, one seed per unit-test scenario.
//
// Guest RAM is two adjacent regions (a buffer must not cross from one to the
// other) plus one ending just below 2^64 (addr + len can wrap there), all
// real GuestMemory. Invariants checked on every step (VMM_CHECK aborts, which
// libFuzzer reports as a crash):
//   - every popped segment lies inside one RAM region;
//   - no device-readable segment follows a device-writable one;
//   - a chain holds at most queue-size segments and its head is < size;
//   - a faulted queue delivers nothing;
//   - used->idx in guest RAM is what the queue says it published;
//   - Reader/Writer never move more bytes than the chain has.
// Every popped chain goes back through AddUsed before the input ends (a
// dropped chain aborts in debug builds by design).
//
// To see what an input does (a crash, a seed): VIRTQUEUE_FUZZER_TRACE=1
// ./virtqueue_fuzzer <file> prints each instruction and what the queue did.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "devices/virtio/descriptor_chain.h"
#include "devices/virtio/queue.h"
#include "devices/virtio/reader_writer.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_memory.h"
#include "tests/support/virtqueue_driver.h"
#include "vmm/base/check.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm {
namespace {

using testing::VirtQueueDriver;
using virtio::DescriptorChain;
using virtio::Queue;

constexpr uint64_t kLowRegionSize = 0x8000;
constexpr uint64_t kHighRam = 0xffff'ffff'ffff'0000;
constexpr uint64_t kHighRamSize = 0xf000;
constexpr uint16_t kMaxQueueSize = 16;
// Where instructions write indirect tables (inside the driver's data area).
constexpr uint64_t kIndirectTables = 0x4000;
constexpr uint32_t kIndirectSlots = 64;
// More outstanding chains than this: the oldest goes back first.
constexpr size_t kMaxOutstanding = 2 * kMaxQueueSize;

enum Op : uint8_t {
  kWriteDescriptor,
  kWriteIndirectDescriptor,
  kPublishHead,
  kSetAvailIdx,
  kSetAvailFlags,
  kSetUsedEvent,
  kPop,
  kAddUsed,
  kEnableNotification,
  kDisableNotification,
  kShouldNotify,
  kPokeByte,
  kReadChain,
  kWriteChain,
  kResetQueue,
  kOpCount,
};

// Operands, front to back; zeros once the input is used up.
class Program : public fuzz::FuzzInput {
 public:
  using FuzzInput::FuzzInput;

  // A guest address: mostly somewhere that matters.
  uint64_t Address() {
    switch (U8() % 3) {
      case 0:
        return U16();  // Low RAM (and a little past its end).
      case 1:
        return kHighRam + U16();  // Near 2^64.
      default:
        return U64();
    }
  }
};

const bool kTrace = std::getenv("VIRTQUEUE_FUZZER_TRACE") != nullptr;

template <typename... Args>
void Trace(const char* format, Args... args) {
  if (kTrace) std::fprintf(stderr, format, args...);
}

const GuestMemory& Memory() {
  static const GuestMemory* memory = [] {
    const GuestRegionSpec layout[] = {{GuestAddress(0), kLowRegionSize},
                                      {GuestAddress(kLowRegionSize), kLowRegionSize},
                                      {GuestAddress(kHighRam), kHighRamSize}};
    return new GuestMemory(fuzz::MakeFuzzMemory(layout));
  }();
  return *memory;
}

void ZeroMemory(const GuestMemory& mem) {
  for (const GuestRegion& region : mem.regions()) {
    std::memset(region.host_address(), 0, region.size());
  }
}

bool InsideOneRegion(const GuestMemory& mem, std::span<const uint8_t> data) {
  for (const GuestRegion& region : mem.regions()) {
    const uint8_t* begin = region.host_address();
    const uint8_t* end = begin + region.size();
    if (data.data() >= begin && data.data() < end &&
        data.size() <= static_cast<size_t>(end - data.data())) {
      return true;
    }
  }
  return false;
}

void CheckChain(const GuestMemory& mem, const DescriptorChain& chain, uint16_t queue_size) {
  VMM_CHECK(chain.head() < queue_size);
  VMM_CHECK(chain.segments().size() <= queue_size);
  bool seen_writable = false;
  uint64_t readable = 0;
  uint64_t writable = 0;
  for (const virtio::Segment& segment : chain.segments()) {
    VMM_CHECK(InsideOneRegion(mem, segment.data));
    VMM_CHECK(segment.writable || !seen_writable);
    seen_writable = seen_writable || segment.writable;
    (segment.writable ? writable : readable) += segment.data.size();
  }
  VMM_CHECK(chain.readable_bytes() == readable);
  VMM_CHECK(chain.writable_bytes() == writable);
}

class Session {
 public:
  Session(const GuestMemory& mem, uint8_t config)
      : mem_(mem),
        driver_(mem, GuestAddress(0), static_cast<uint16_t>(1u << ((config & 0x07) % 5))),
        queue_(kMaxQueueSize) {
    Activate(config);
  }

  void Run(Program& program) {
    while (!program.done()) Step(program);
    ReturnAll();
  }

 private:
  void Activate(uint8_t config) {
    driver_.Configure(queue_);
    const bool event_idx = (config & 0x08) != 0;
    const bool indirect = (config & 0x10) != 0;
    VMM_CHECK(!queue_.Activate(mem_, event_idx, indirect).has_value());
  }

  void Step(Program& program) {
    const uint16_t size = driver_.size();
    const auto op = static_cast<uint8_t>(program.U8() % kOpCount);
    Trace("op %u\n", op);
    switch (op) {
      case kWriteDescriptor: {
        const auto index = static_cast<uint16_t>(program.U8() % size);
        const uint64_t addr = program.Address();
        const uint32_t len = program.U8() & 1 ? program.U32() : program.U8();
        const uint16_t flags = program.U8();
        const auto next = static_cast<uint16_t>(program.U8() % (2 * size));
        driver_.WriteDescriptor(index, addr, len, flags, next);
        return;
      }
      case kWriteIndirectDescriptor: {
        const uint32_t index = program.U8() % kIndirectSlots;
        const uint64_t addr = program.Address();
        const uint32_t len = program.U8() & 1 ? program.U32() : program.U8();
        const uint16_t flags = program.U8();
        const uint16_t next = program.U8();
        driver_.WriteDescriptorAt(GuestAddress(kIndirectTables), index, addr, len, flags, next);
        return;
      }
      case kPublishHead:
        driver_.PublishHead(static_cast<uint16_t>(program.U8() % (size + 2)));
        return;
      case kSetAvailIdx:
        driver_.SetAvailIdx(program.U16());
        return;
      case kSetAvailFlags:
        driver_.SetAvailFlags(program.U16());
        return;
      case kSetUsedEvent:
        driver_.SetUsedEvent(program.U16());
        return;
      case kPop:
        Pop();
        return;
      case kAddUsed: {
        const uint8_t which = program.U8();
        AddUsed(which, program.U32());
        return;
      }
      case kEnableNotification: {
        const bool more = queue_.EnableNotification();
        Trace("  enable: more %d\n", more);
        return;
      }
      case kDisableNotification:
        queue_.DisableNotification();
        return;
      case kShouldNotify: {
        const bool notify = queue_.ShouldNotifyDriver();
        Trace("  should_notify: %d\n", notify);
        return;
      }
      case kPokeByte: {
        const uint8_t value[1] = {program.U8()};
        (void)mem_.Write(GuestAddress(program.U16()), value);
        return;
      }
      case kReadChain:
        ReadChain(program);
        return;
      case kWriteChain:
        WriteChain(program);
        return;
      case kResetQueue:
        ResetQueue(program);
        return;
      default:
        return;
    }
  }

  void Pop() {
    const bool faulted = queue_.fault().has_value();
    std::optional<DescriptorChain> chain = queue_.Pop();
    if (!chain) {
      Trace("  pop: nothing%s%s\n", queue_.fault() ? ", fault: " : "",
            queue_.fault() ? virtio::ChainErrorName(*queue_.fault()) : "");
      return;
    }
    Trace("  pop: head %u, %zu segments, %lu readable, %lu writable\n", chain->head(),
          chain->segments().size(), static_cast<unsigned long>(chain->readable_bytes()),
          static_cast<unsigned long>(chain->writable_bytes()));
    VMM_CHECK(!faulted);  // A faulted queue delivers nothing.
    CheckChain(mem_, *chain, driver_.size());
    if (outstanding_.size() == kMaxOutstanding) AddUsed(0, 0);
    outstanding_.push_back(std::move(*chain));
  }

  void AddUsed(uint8_t which, uint32_t written) {
    if (outstanding_.empty()) return;
    const size_t index = which % outstanding_.size();
    // A device never reports more than the chain can take (Queue::AddUsed
    // checks that contract), so fold the fuzzed length into range.
    const uint64_t writable = outstanding_[index].writable_bytes();
    written = static_cast<uint32_t>(written % (writable + 1));
    Trace("  add_used: head %u, len %u\n", outstanding_[index].head(), written);
    queue_.AddUsed(std::move(outstanding_[index]), written);
    outstanding_.erase(outstanding_.begin() + static_cast<std::ptrdiff_t>(index));
    VMM_CHECK(driver_.used_idx() == queue_.next_used());
  }

  void ReturnAll() {
    while (!outstanding_.empty()) AddUsed(0, 0);
  }

  // Reads through a Reader in pieces; a failed read must consume nothing.
  void ReadChain(Program& program) {
    if (outstanding_.empty()) return;
    const DescriptorChain& chain = outstanding_[program.U8() % outstanding_.size()];
    virtio::Reader reader(chain);
    VMM_CHECK(reader.available() == chain.readable_bytes());
    std::vector<uint8_t> buffer(program.U16() % 4096);
    const uint64_t before = reader.available();
    if (reader.Read(buffer)) {
      VMM_CHECK(reader.available() == before - buffer.size());
    } else {
      VMM_CHECK(buffer.size() > before && reader.available() == before);
    }
    const uint64_t left = reader.available();
    const uint64_t skip = program.U16() % (left + 1);
    reader.Consume(skip);
    VMM_CHECK(reader.available() == left - skip);
  }

  // Splits off a tail, writes both parts, checks the byte accounting.
  void WriteChain(Program& program) {
    if (outstanding_.empty()) return;
    const DescriptorChain& chain = outstanding_[program.U8() % outstanding_.size()];
    virtio::Writer writer(chain);
    VMM_CHECK(writer.available() == chain.writable_bytes());
    const uint64_t total = writer.available();
    const std::vector<uint8_t> head_bytes(program.U16() % 4096, 0x5a);
    const bool head_ok = writer.Write(head_bytes);
    VMM_CHECK(head_ok == (head_bytes.size() <= total));
    const uint64_t tail_len = program.U16() % (writer.available() + 1);
    virtio::Writer tail = writer.SplitTail(tail_len);
    VMM_CHECK(tail.available() == tail_len);
    VMM_CHECK(writer.written() + writer.available() + tail.available() == total);
    uint64_t iov_bytes = 0;
    for (const iovec& v : tail.Iovecs(tail.available())) iov_bytes += v.iov_len;
    VMM_CHECK(iov_bytes == tail_len);
    const std::vector<uint8_t> tail_bytes(program.U8(), 0xa5);
    const bool tail_ok = tail.Write(tail_bytes);
    VMM_CHECK(tail_ok == (tail_bytes.size() <= tail_len));
    VMM_CHECK(writer.written() + tail.written() <= total);
  }

  // Reset (returning what is outstanding first, as a device would before it
  // stops) and activate again, possibly at other ring indices.
  void ResetQueue(Program& program) {
    const uint8_t config = program.U8();
    const uint16_t next_avail = program.U16();
    const uint16_t next_used = program.U16();
    ReturnAll();
    queue_.Reset();
    VMM_CHECK(!queue_.active() && !queue_.fault().has_value());
    Activate(config);
    if (config & 0x20) queue_.set_indices(next_avail, next_used);
  }

  const GuestMemory& mem_;
  VirtQueueDriver driver_;
  Queue queue_;
  std::deque<DescriptorChain> outstanding_;
};

}  // namespace
}  // namespace mini_vmm

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mini_vmm;
  if (size == 0) return 0;
  const GuestMemory& mem = Memory();
  ZeroMemory(mem);
  Program program(std::span<const uint8_t>(data, size));
  const uint8_t config = program.U8();
  Session session(mem, config);
  session.Run(program);
  return 0;
}
