// net_fuzzer: a hostile virtio-net driver and host network against the
// data path (devices/virtio/net/queue_pair.h) and the control queue
// (control.h), over real guest memory and a socketpair tap
// (tests/support/fake_tap.h). No threads: the fuzzer calls what the I/O
// thread would.
//
// Input, read front to back (tests/fuzz/fuzz_input.h; zeros once used up):
//
//   u8 flags: 0x01 MRG_RXBUF, 0x02 EVENT_IDX, 0x04 MQ negotiated,
//             0x08 legacy 10-byte header instead of 12
//   then up to kMaxOps operations, each a u8 opcode (mod 7):
//     0 tx chain    1 rx chain    2 control chain      (queue = opcode)
//         u8 count (mod kMaxSegments+1), per segment:
//         u8 d: 0x80 device-writable, 0x40 indirect table for the whole
//               chain (first segment only), length (d & 0x3f) * 8, or with
//               d & 0x3f == 0x3f a u16 length follows;
//         readable segments' bytes come from the input
//     3 tap frame   u16 length (mod kMaxInjected), the bytes from the input
//     4 raw descriptor: u8 queue, u8 index, u64 addr, u32 len, u16 flags,
//                       u16 next (hostile rings)
//     5 raw publish: u8 queue, u16 head (heads past the table, reuse)
//     6 run:  u8 budget; ProcessTx, ProcessRx, then the control queue
//   and a final run.
//
// Checked on every input (VMM_CHECK aborts, which libFuzzer reports):
//   - every frame the tap receives is a well-formed tx chain's bytes:
//     header included, within the size limits;
//   - used lengths never exceed a chain's writable bytes (Queue::AddUsed
//     checks) and rx delivers no more frames than the tap gave;
//   - VQ_PAIRS_SET is only ever applied within 1..max_virtqueue_pairs;
//   - nothing leaks, nothing is left held by the device on teardown
//     (DescriptorChain's destructor).
// tests/fuzz/net_seeds.py writes the seeds, one per unit-test shape.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "devices/virtio/net/control.h"
#include "devices/virtio/net/frame.h"
#include "devices/virtio/net/queue_pair.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_memory.h"
#include "tests/support/fake_tap.h"
#include "tests/support/virtqueue_driver.h"
#include "vmm/base/check.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::net {
namespace {

using Input = fuzz::FuzzInput;
using testing::VirtQueueDriver;

constexpr size_t kQueues = 3;  // rx, tx, control
constexpr uint64_t kStride = 16ull << 20;
constexpr uint64_t kRegion = 2ull << 20;
constexpr uint16_t kDriverQueueSize = 16;
constexpr size_t kMaxOps = 64;
constexpr size_t kMaxSegments = 8;
constexpr size_t kMaxInjected = 4096;
constexpr uint16_t kMaxPairs = 4;

const GuestMemory& Memory() {
  static const GuestMemory memory = [] {
    std::vector<GuestRegionSpec> layout;
    for (size_t i = 0; i < kQueues; ++i) layout.push_back({GuestAddress(i * kStride), kRegion});
    return fuzz::MakeFuzzMemory(layout);
  }();
  return memory;
}

class NullInterrupt final : public VirtioInterrupt {
 public:
  void NotifyQueue(uint16_t) noexcept override {}
  void NotifyConfigChange() noexcept override {}
};

struct Harness {
  explicit Harness(uint8_t flags)
      : mergeable((flags & 0x01) != 0),
        event_idx((flags & 0x02) != 0),
        context{.mq = (flags & 0x04) != 0, .max_pairs = kMaxPairs},
        header_bytes((flags & 0x08) != 0 ? kLegacyHeaderBytes : kHeaderBytes) {
    for (size_t i = 0; i < kQueues; ++i) {
      drivers[i].Configure(queues[i]);
      VMM_CHECK(!queues[i].Activate(Memory(), event_idx, true).has_value());
    }
    pair.emplace(QueuePair::Config{.name = "fuzz",
                                   .index = 0,
                                   .rx = queues[0],
                                   .tx = queues[1],
                                   .header_bytes = header_bytes,
                                   .mergeable = mergeable},
                 tap, interrupt, counters);
  }

  void Chain(size_t queue, Input& in) {
    VirtQueueDriver& driver = drivers[queue];
    auto chain = driver.Chain();
    const size_t count = in.U8() % (kMaxSegments + 1);
    for (size_t i = 0; i < count; ++i) {
      const uint8_t d = in.U8();
      if (i == 0 && (d & 0x40) != 0) chain.Indirect();
      uint32_t len = (d & 0x3f) * 8u;
      if ((d & 0x3f) == 0x3f) len = in.U16();
      // A full data area would be a bug in the harness, not the device.
      if (driver.data_left() < uint64_t{len} + 4096) return;
      if ((d & 0x80) != 0) {
        chain.Writable(len);
      } else {
        std::vector<uint8_t> bytes(len);
        in.Copy(bytes);
        chain.Readable(bytes);
      }
    }
    // No buffers: nothing to publish (the builder needs one descriptor).
    if (count == 0 || driver.data_left() < 4096) return;
    chain.Publish();
  }

  void Inject(Input& in) {
    std::vector<uint8_t> frame(in.U16() % kMaxInjected);
    in.Copy(frame);
    if (tap.Inject(frame)) ++injected;
  }

  void RawDescriptor(Input& in) {
    VirtQueueDriver& driver = drivers[in.U8() % kQueues];
    const uint16_t index = in.U8() % kDriverQueueSize;
    const uint64_t addr = in.U64();
    const uint32_t len = in.U32();
    const uint16_t flags = in.U16();
    driver.WriteDescriptor(index, addr, len, flags, in.U16());
  }

  void Run(uint32_t budget) {
    pair->ProcessTx(budget);
    while (auto sent = tap.Sent()) {
      VMM_CHECK(sent->size() >= header_bytes && sent->size() <= header_bytes + kMaxFrameBytes);
    }
    pair->ProcessRx(budget);
    VMM_CHECK(counters.rx_frames.load() <= injected);
    const uint64_t before = queues[2].next_used();
    ServeControlQueue(
        queues[2], context, counters, [](uint16_t n) { VMM_CHECK(n >= 1 && n <= kMaxPairs); },
        "fuzz");
    VMM_CHECK(static_cast<uint16_t>(queues[2].next_used() - before) <= kDriverQueueSize);
  }

  const bool mergeable;
  const bool event_idx;
  const ControlContext context;
  const size_t header_bytes;
  std::vector<VirtQueueDriver> drivers = [] {
    std::vector<VirtQueueDriver> d;
    d.reserve(kQueues);
    for (size_t i = 0; i < kQueues; ++i)
      d.emplace_back(Memory(), GuestAddress(i * kStride), kDriverQueueSize);
    return d;
  }();
  std::vector<Queue> queues{Queue(256), Queue(256), Queue(64)};
  testing::FakeTap tap{1};
  NullInterrupt interrupt;
  NetCounters counters;
  uint64_t injected = 0;
  std::optional<QueuePair> pair;  // Last: abandons what it holds first.
};

}  // namespace
}  // namespace mini_vmm::virtio::net

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mini_vmm::virtio::net;
  static const bool quiet = [] {
    mini_vmm::log::SetLevel(mini_vmm::LogLevel::kError);
    return true;
  }();
  (void)quiet;
  Input in(std::span<const uint8_t>(data, size));
  Harness harness(in.U8());
  // Opcodes 0, 1, 2: chains on the tx queue (1), the rx queue (0), the
  // control queue (2).
  static constexpr size_t kQueueOf[] = {1, 0, 2};
  for (size_t count = 0; count < kMaxOps && !in.done(); ++count) {
    const uint8_t op = in.U8() % 7;
    if (op < 3) {
      harness.Chain(kQueueOf[op], in);
    } else if (op == 3) {
      harness.Inject(in);
    } else if (op == 4) {
      harness.RawDescriptor(in);
    } else if (op == 5) {
      VirtQueueDriver& driver = harness.drivers[in.U8() % kQueues];
      driver.PublishHead(in.U16());
    } else {
      harness.Run(in.U8());
    }
  }
  harness.Run(256);
  return 0;
}
