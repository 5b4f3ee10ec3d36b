// bench/blk_cost: the host instructions one 4 KiB virtio-blk read costs in
// mini-vmm's device model, outside the kernel: queue pop, chain walk,
// request parse, backend submit, completion, used ring, interrupt decision,
// and the I/O thread's event loop around them. Not a test, and not timed:
// bench/blkcost.py runs it under callgrind, counting only the device's I/O
// thread (BlockWorker::Run), so the figure is deterministic on a given
// binary, whatever else the machine does.
//
//   build/release/bench/blk_cost --depth 16 --requests 4096 [--backend sync|uring]
//
// The guest is this program: it lays out a split virtqueue in (host)
// memory behind GuestMemory, posts `depth` reads at a time (header, one
// 4 KiB data buffer, status), kicks the queue's eventfd as KVM's ioeventfd
// would, and waits for the used ring. The disk is a file in $TMPDIR.
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "devices/virtio/blk/block_device.h"
#include "devices/virtio/device.h"
#include "devices/virtio/queue.h"
#include "devices/virtio/virtio_ring.h"
#include "vmm/base/event_fd.h"
#include "vmm/memory/guest_memory.h"

namespace {

using mini_vmm::EventFd;
using mini_vmm::GuestAddress;
using mini_vmm::GuestMemory;
namespace blk = mini_vmm::virtio::blk;
namespace virtio = mini_vmm::virtio;

constexpr uint16_t kQueueSize = 256;
constexpr uint64_t kDesc = 0x1000;
constexpr uint64_t kAvail = 0x3000;
constexpr uint64_t kUsed = 0x4000;
constexpr uint64_t kHeaders = 0x10000;  // One 16-byte header per slot.
constexpr uint64_t kStatus = 0x20000;   // One status byte per slot.
constexpr uint64_t kData = 0x100000;    // One 4 KiB buffer per slot.
constexpr uint64_t kRam = 4 << 20;
constexpr uint64_t kDiskBytes = 16 << 20;

// Wakes the driver (this thread) when the device interrupts. Costs the I/O
// thread what the transports' interrupts do (an irqfd write: one eventfd
// write(2)), so the figure is the device model's and not the harness's.
class Interrupt final : public virtio::VirtioInterrupt {
 public:
  explicit Interrupt(EventFd irq) : irq_(std::move(irq)) {}
  void NotifyQueue(uint16_t) noexcept override { irq_.Signal(); }
  void NotifyConfigChange() noexcept override {}
  // No wakeup is lost: an interrupt after done() leaves the eventfd readable.
  void Wait(const std::function<bool()>& done) {
    while (!done()) {
      pollfd fd{.fd = irq_.fd(), .events = POLLIN, .revents = 0};
      ::poll(&fd, 1, -1);
      irq_.Consume();
    }
  }

 private:
  EventFd irq_;
};

template <typename T>
T* At(const GuestMemory& mem, uint64_t address) {
  return reinterpret_cast<T*>(mem.TranslateToHost(GuestAddress(address), sizeof(T)));
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "blk_cost: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned depth = 16;
  unsigned requests = 4096;
  blk::BackendKind backend = blk::BackendKind::kAuto;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--depth") depth = static_cast<unsigned>(std::atoi(argv[i + 1]));
    if (flag == "--requests") requests = static_cast<unsigned>(std::atoi(argv[i + 1]));
    if (flag == "--backend") {
      backend =
          std::string(argv[i + 1]) == "sync" ? blk::BackendKind::kSync : blk::BackendKind::kUring;
    }
  }
  if (depth == 0 || depth > kQueueSize / 2 || requests == 0) return Fail("bad --depth/--requests");

  std::string path = (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
  path += "/blk_cost.XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0 || ::ftruncate(fd, kDiskBytes) != 0) return Fail("cannot make the disk file");
  ::close(fd);
  auto image = blk::DiskImage::Open({.path = path, .read_only = true});
  ::unlink(path.c_str());
  if (!image.ok()) return Fail(image.error().ToString());
  auto device =
      blk::BlockDevice::Create(std::move(*image), {.name = "blk-cost", .backend = backend});
  if (!device.ok()) return Fail(device.error().ToString());

  const std::array<mini_vmm::GuestRegionSpec, 1> layout{{{GuestAddress(0), kRam}}};
  auto mem = GuestMemory::Create(layout);
  if (!mem.ok()) return Fail(mem.error().ToString());

  std::vector<virtio::Queue> queues;
  queues.emplace_back(kQueueSize);
  virtio::Queue& queue = queues[0];
  queue.set_size(kQueueSize);
  queue.set_desc_table(GuestAddress(kDesc));
  queue.set_avail_ring(GuestAddress(kAvail));
  queue.set_used_ring(GuestAddress(kUsed));
  // What Linux negotiates: EVENT_IDX on, so interrupts are suppressed by
  // used_event as in a real guest.
  const uint64_t features = (*device)->features() & ~(1ull << VIRTIO_RING_F_INDIRECT_DESC);
  if (queue.Activate(*mem, true, false)) return Fail("queue set-up refused");
  std::vector<EventFd> kicks;
  auto kick = EventFd::Create();
  if (!kick.ok()) return Fail(kick.error().ToString());
  kicks.push_back(std::move(*kick));
  auto irq = EventFd::Create();
  if (!irq.ok()) return Fail(irq.error().ToString());
  Interrupt interrupt(std::move(*irq));
  if (auto activated = (*device)->Activate(virtio::ActivateContext{
          .memory = *mem,
          .queues = queues,
          .queue_events = kicks,
          .interrupt = interrupt,
          .driver_features = features,
          .needs_reset = [] {},
      });
      !activated.ok()) {
    return Fail(activated.error().ToString());
  }

  auto* desc = At<vring_desc>(*mem, kDesc);
  auto* avail = At<vring_avail>(*mem, kAvail);
  auto* used = At<vring_used>(*mem, kUsed);
  uint16_t avail_idx = 0;
  unsigned done = 0;
  while (done < requests) {
    const unsigned batch = std::min(depth, requests - done);
    for (unsigned i = 0; i < batch; ++i) {
      const auto slot = static_cast<uint16_t>(((done + i) * 3) % (kQueueSize - 2));
      const uint64_t n = (done + i) % depth;
      auto* header = At<virtio_blk_outhdr>(*mem, kHeaders + 16 * n);
      header->type = VIRTIO_BLK_T_IN;
      header->ioprio = 0;
      header->sector = ((done + i) * 8) % (kDiskBytes / 512);
      desc[slot] = {kHeaders + 16 * n, 16, VRING_DESC_F_NEXT, static_cast<uint16_t>(slot + 1)};
      desc[slot + 1] = {kData + 4096 * n, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
                        static_cast<uint16_t>(slot + 2)};
      desc[slot + 2] = {kStatus + n, 1, VRING_DESC_F_WRITE, 0};
      avail->ring[(avail_idx + i) % kQueueSize] = slot;
    }
    // used_event: interrupt once the whole batch is used.
    const auto target = static_cast<uint16_t>(avail_idx + batch);
    avail->ring[kQueueSize] = static_cast<uint16_t>(target - 1);
    std::atomic_ref<uint16_t>(avail->idx).store(target, std::memory_order_release);
    avail_idx = target;
    kicks[0].Signal();
    interrupt.Wait([&] {
      return std::atomic_ref<uint16_t>(used->idx).load(std::memory_order_acquire) == target;
    });
    done += batch;
  }
  (*device)->Reset();
  std::printf("blk_cost: %u reads of 4 KiB at depth %u\n", requests, depth);
  return 0;
}
