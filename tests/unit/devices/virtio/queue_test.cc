// Queue: activation checks, Pop/AddUsed through the rings, the driver faults
// that stop the queue, and both notification-suppression schemes (flags, and
// EVENT_IDX's vring_need_event window). Section numbers are virtio 1.2.
#include "devices/virtio/queue.h"

#include <catch2/catch.hpp>
#include <optional>

#include "devices/virtio/virtio_ring.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/virtio_test_helpers.h"
#include "tests/support/virtqueue_driver.h"

namespace mini_vmm::virtio {
namespace {

using testing::VirtQueueDriver;

constexpr uint64_t kRamEnd = 0x10000;
constexpr uint16_t kMaxSize = 16;
constexpr uint16_t kSize = 8;
// Ring sizes for kSize (§2.7 table): avail 6 + 2 * 8, used 6 + 8 * 8.
constexpr uint64_t kAvailBytes = 22;
constexpr uint64_t kUsedBytes = 70;
// RAM the tests' hand-written descriptors point at.
constexpr uint64_t kSpareBuffer = 0x8000;

struct QueueTest {
  GuestMemory mem = testing::MakeGuestMemory(0, kRamEnd);
  VirtQueueDriver driver{mem, GuestAddress(0x1000), kSize};
  Queue queue{kMaxSize};

  QueueTest() { driver.Configure(queue); }

  void Activate(bool event_idx = false, bool indirect = false) {
    const auto error = queue.Activate(mem, event_idx, indirect);
    REQUIRE_FALSE(error.has_value());
  }

  // Publishes a one-descriptor chain; returns its head.
  uint16_t PublishChain() { return driver.Chain().Writable(4).Publish(); }

  // Pops one chain and returns it to the used ring at once with `written`
  // bytes; its head, or nullopt if nothing was popped.
  std::optional<uint16_t> PopAndComplete(uint32_t written = 0) {
    auto chain = queue.Pop();
    if (!chain) return std::nullopt;
    const uint16_t head = chain->head();
    queue.AddUsed(std::move(*chain), written);
    return head;
  }

  // Publishes, pops and completes `count` chains (arrangement only).
  void CompleteChains(int count) {
    for (int i = 0; i < count; ++i) {
      PublishChain();
      REQUIRE(PopAndComplete().has_value());
    }
  }
};

// ---- Activate: size and ring checks (§2.7, §2.7.1). ----

TEST_CASE_METHOD(QueueTest, "Activate refuses queue size 0") {
  queue.set_size(0);

  CHECK(queue.Activate(mem, false, false) == QueueConfigError::kSizeNotPowerOfTwo);
  CHECK_FALSE(queue.active());
}

TEST_CASE_METHOD(QueueTest, "Activate refuses a queue size that is not a power of two") {
  queue.set_size(6);

  CHECK(queue.Activate(mem, false, false) == QueueConfigError::kSizeNotPowerOfTwo);
}

TEST_CASE_METHOD(QueueTest, "Activate refuses a queue size above the device maximum") {
  queue.set_size(kMaxSize * 2);

  CHECK(queue.Activate(mem, false, false) == QueueConfigError::kSizeTooLarge);
}

TEST_CASE_METHOD(QueueTest, "Activate accepts the device maximum as queue size") {
  VirtQueueDriver big(mem, GuestAddress(0x4000), kMaxSize);
  big.Configure(queue);

  CHECK_FALSE(queue.Activate(mem, false, false).has_value());
  CHECK(queue.active());
}

TEST_CASE_METHOD(QueueTest, "Activate refuses a descriptor table not 16-byte aligned") {
  queue.set_desc_table(GuestAddress(0x2008));

  CHECK(queue.Activate(mem, false, false) == QueueConfigError::kMisaligned);
}

TEST_CASE_METHOD(QueueTest, "Activate refuses an avail ring not 2-byte aligned") {
  queue.set_avail_ring(GuestAddress(0x2001));

  CHECK(queue.Activate(mem, false, false) == QueueConfigError::kMisaligned);
}

TEST_CASE_METHOD(QueueTest, "Activate refuses a used ring not 4-byte aligned") {
  queue.set_used_ring(GuestAddress(0x2002));

  CHECK(queue.Activate(mem, false, false) == QueueConfigError::kMisaligned);
}

TEST_CASE_METHOD(QueueTest, "Activate refuses a descriptor table outside RAM") {
  queue.set_desc_table(GuestAddress(kRamEnd));

  CHECK(queue.Activate(mem, false, false) == QueueConfigError::kRingOutsideRam);
}

TEST_CASE_METHOD(QueueTest, "Activate refuses a descriptor table straddling the end of RAM") {
  queue.set_desc_table(GuestAddress(kRamEnd - 16 * kSize + 16));

  CHECK(queue.Activate(mem, false, false) == QueueConfigError::kRingOutsideRam);
}

TEST_CASE_METHOD(QueueTest, "Activate refuses an avail ring whose used_event lies past RAM") {
  queue.set_avail_ring(GuestAddress(kRamEnd - kAvailBytes + 2));

  CHECK(queue.Activate(mem, false, false) == QueueConfigError::kRingOutsideRam);
}

TEST_CASE_METHOD(QueueTest, "Activate refuses a used ring whose avail_event lies past RAM") {
  queue.set_used_ring(GuestAddress(kRamEnd - kUsedBytes + 2));

  CHECK(queue.Activate(mem, false, false) == QueueConfigError::kRingOutsideRam);
}

TEST_CASE_METHOD(QueueTest, "Activate accepts an avail ring ending exactly at the end of RAM") {
  queue.set_avail_ring(GuestAddress(kRamEnd - kAvailBytes));

  CHECK_FALSE(queue.Activate(mem, false, false).has_value());
}

TEST_CASE_METHOD(QueueTest, "Activate refuses a ring address that wraps the address space") {
  queue.set_used_ring(GuestAddress(0xffff'ffff'ffff'fffc));

  CHECK(queue.Activate(mem, false, false) == QueueConfigError::kRingOutsideRam);
}

// ---- Pop and AddUsed. ----

TEST_CASE_METHOD(QueueTest, "Pop on an inactive queue returns nothing") {
  PublishChain();

  CHECK_FALSE(queue.Pop().has_value());
}

TEST_CASE_METHOD(QueueTest, "Pop on an empty ring returns nothing and is not a fault") {
  Activate();

  CHECK_FALSE(queue.Pop().has_value());
  CHECK_FALSE(queue.fault().has_value());
}

TEST_CASE_METHOD(QueueTest, "Chains pop in the order the driver made them available") {
  Activate();
  const uint16_t first = driver.Chain().Readable(4).Writable(1).Publish();
  const uint16_t second = driver.Chain().Readable(8).Publish();

  const auto popped_first = PopAndComplete();
  const auto popped_second = PopAndComplete();

  CHECK(popped_first == first);
  CHECK(popped_second == second);
  CHECK(queue.next_avail() == 2);
}

TEST_CASE_METHOD(QueueTest, "AddUsed publishes the head and written length and bumps used idx") {
  Activate();
  const uint16_t head = driver.Chain().Readable(4).Writable(64).Publish();

  PopAndComplete(/*written=*/17);

  CHECK(driver.used_idx() == 1);
  const auto used = driver.NextUsed();
  REQUIRE(used.has_value());
  CHECK(used->id == head);
  CHECK(used->len == 17);
}

TEST_CASE_METHOD(QueueTest, "Chains completed out of order appear in completion order") {
  Activate();
  const uint16_t first = PublishChain();
  const uint16_t second = PublishChain();
  auto chain_a = queue.Pop();
  auto chain_b = queue.Pop();
  REQUIRE(chain_a.has_value());
  REQUIRE(chain_b.has_value());

  queue.AddUsed(std::move(*chain_b), 2);
  queue.AddUsed(std::move(*chain_a), 1);

  CHECK(driver.used_idx() == 2);
  const auto used_first = driver.NextUsed();
  const auto used_second = driver.NextUsed();
  REQUIRE(used_first.has_value());
  REQUIRE(used_second.has_value());
  CHECK(used_first->id == second);
  CHECK(used_first->len == 2);
  CHECK(used_second->id == first);
  CHECK(used_second->len == 1);
}

// The walk works on copies of the descriptors: what the device holds cannot
// change when the driver rewrites the table afterwards.
TEST_CASE_METHOD(QueueTest, "A popped chain is unaffected by later descriptor rewrites") {
  Activate();
  auto builder = driver.Chain();
  const uint16_t head = builder.Writable(8).Publish();
  auto chain = queue.Pop();
  REQUIRE(chain.has_value());

  driver.WriteDescriptor(head, kSpareBuffer, 4096, VRING_DESC_F_WRITE, 0);

  CHECK(chain->segments()[0].data.data() == mem.TranslateToHost(builder.buffer(0), 8));
  CHECK(chain->segments()[0].data.size() == 8);
  queue.AddUsed(std::move(*chain), 0);
}

TEST_CASE_METHOD(QueueTest, "Ring indices wrap from 65535 to 0") {
  Activate();
  queue.set_indices(0xffff, 0xffff);
  driver.SetAvailIdx(0xffff);
  PublishChain();  // avail->idx becomes 0.

  const auto head = PopAndComplete();

  CHECK(head.has_value());
  CHECK(queue.next_avail() == 0);
  CHECK(queue.next_used() == 0);
  CHECK(driver.used_idx() == 0);
}

TEST_CASE_METHOD(QueueTest, "Exactly queue-size chains outstanding are all delivered") {
  Activate();
  driver.WriteDescriptor(0, kSpareBuffer, 4, 0, 0);
  driver.SetAvailIdx(kSize);  // Every ring entry is still 0: head 0, valid.

  const auto popped = PopAndComplete();

  CHECK(popped == uint16_t{0});
  CHECK_FALSE(queue.fault().has_value());
}

// §2.7.6: the driver cannot have more than queue-size buffers outstanding,
// so an avail->idx further ahead is garbage and nothing on the ring can be
// trusted.
TEST_CASE_METHOD(QueueTest, "AvailIndexJump: avail idx more than queue size ahead faults") {
  Activate();
  driver.WriteDescriptor(0, kSpareBuffer, 4, 0, 0);
  driver.SetAvailIdx(kSize + 1);

  const auto popped = PopAndComplete();

  CHECK_FALSE(popped.has_value());
  CHECK(queue.fault() == ChainError::kAvailIndexJump);
}

TEST_CASE_METHOD(QueueTest, "AvailIndexJump: a faulted queue stays stopped after idx is fixed") {
  Activate();
  driver.WriteDescriptor(0, kSpareBuffer, 4, 0, 0);
  driver.SetAvailIdx(kSize + 1);
  PopAndComplete();
  driver.SetAvailIdx(1);

  const auto popped = PopAndComplete();
  const bool more = queue.EnableNotification();

  CHECK_FALSE(popped.has_value());
  CHECK_FALSE(more);
  CHECK(queue.fault() == ChainError::kAvailIndexJump);
}

TEST_CASE_METHOD(QueueTest, "A malformed chain faults the queue with its ChainError") {
  Activate();
  driver.PublishHead(kSize);  // Head out of range.
  PublishChain();

  const auto popped_bad = PopAndComplete();
  const auto popped_good = PopAndComplete();

  CHECK_FALSE(popped_bad.has_value());
  CHECK_FALSE(popped_good.has_value());
  CHECK(queue.fault() == ChainError::kHeadOutOfRange);
}

TEST_CASE_METHOD(QueueTest, "A chain popped before a fault can still be returned") {
  Activate();
  const uint16_t good = PublishChain();
  driver.PublishHead(kSize);
  auto chain = queue.Pop();
  REQUIRE(chain.has_value());
  CHECK_FALSE(queue.Pop().has_value());

  queue.AddUsed(std::move(*chain), 0);

  CHECK(queue.fault() == ChainError::kHeadOutOfRange);
  const auto used = driver.NextUsed();
  REQUIRE(used.has_value());
  CHECK(used->id == good);
}

TEST_CASE_METHOD(QueueTest, "Indirect chains fault unless INDIRECT_DESC was negotiated") {
  Activate(/*event_idx=*/false, /*indirect=*/false);
  driver.Chain().Readable(4).Indirect().Publish();

  const auto popped = PopAndComplete();

  CHECK_FALSE(popped.has_value());
  CHECK(queue.fault() == ChainError::kIndirectNotNegotiated);
}

TEST_CASE_METHOD(QueueTest, "Indirect chains pop when INDIRECT_DESC was negotiated") {
  Activate(/*event_idx=*/false, /*indirect=*/true);
  const uint16_t head = driver.Chain().Readable(4).Writable(1).Indirect().Publish();

  const auto popped = PopAndComplete();

  CHECK(popped == head);
  CHECK_FALSE(queue.fault().has_value());
}

// ---- Used buffer notifications without EVENT_IDX (§2.7.7.2). ----

TEST_CASE_METHOD(QueueTest, "Without EVENT_IDX the driver is notified when flags are 0") {
  Activate();
  CompleteChains(1);

  CHECK(queue.ShouldNotifyDriver());
}

TEST_CASE_METHOD(QueueTest, "Without EVENT_IDX NO_INTERRUPT suppresses the notification") {
  Activate();
  driver.SetAvailFlags(VRING_AVAIL_F_NO_INTERRUPT);
  CompleteChains(1);

  CHECK_FALSE(queue.ShouldNotifyDriver());
}

TEST_CASE_METHOD(QueueTest, "An inactive queue never notifies") {
  CHECK_FALSE(queue.ShouldNotifyDriver());
}

// ---- Used buffer notifications with EVENT_IDX: notify iff used_event lies
// in [old, new), old being used idx at the last notification decision
// (§2.7.7.2: notify when the used idx that placed an entry equals used_event).

TEST_CASE_METHOD(QueueTest, "With EVENT_IDX the first decision after activation notifies") {
  Activate(/*event_idx=*/true);
  driver.SetUsedEvent(5);
  CompleteChains(1);

  CHECK(queue.ShouldNotifyDriver());
}

TEST_CASE_METHOD(QueueTest, "EVENT_IDX notifies when used_event is the first new entry") {
  Activate(/*event_idx=*/true);
  queue.ShouldNotifyDriver();  // old = 0
  driver.SetUsedEvent(0);
  CompleteChains(3);  // new = 3

  CHECK(queue.ShouldNotifyDriver());
}

TEST_CASE_METHOD(QueueTest, "EVENT_IDX notifies when used_event is the last new entry") {
  Activate(/*event_idx=*/true);
  queue.ShouldNotifyDriver();
  driver.SetUsedEvent(2);
  CompleteChains(3);

  CHECK(queue.ShouldNotifyDriver());
}

TEST_CASE_METHOD(QueueTest, "EVENT_IDX does not notify before used idx passes used_event") {
  Activate(/*event_idx=*/true);
  queue.ShouldNotifyDriver();
  driver.SetUsedEvent(3);
  CompleteChains(3);

  CHECK_FALSE(queue.ShouldNotifyDriver());
}

TEST_CASE_METHOD(QueueTest, "EVENT_IDX does not notify again for a used_event already passed") {
  Activate(/*event_idx=*/true);
  CompleteChains(2);
  queue.ShouldNotifyDriver();  // old = 2
  driver.SetUsedEvent(1);
  CompleteChains(2);  // new = 4

  CHECK_FALSE(queue.ShouldNotifyDriver());
}

TEST_CASE_METHOD(QueueTest, "EVENT_IDX does not notify twice for the same entries") {
  Activate(/*event_idx=*/true);
  queue.ShouldNotifyDriver();
  driver.SetUsedEvent(0);
  CompleteChains(1);
  REQUIRE(queue.ShouldNotifyDriver());

  CHECK_FALSE(queue.ShouldNotifyDriver());
}

TEST_CASE_METHOD(QueueTest, "EVENT_IDX window works across the 16-bit wrap") {
  Activate(/*event_idx=*/true);
  queue.set_indices(0xfffe, 0xfffe);
  driver.SetAvailIdx(0xfffe);
  queue.ShouldNotifyDriver();  // old = 0xfffe
  driver.SetUsedEvent(0xffff);
  CompleteChains(3);  // new = 0x0001

  CHECK(queue.ShouldNotifyDriver());
}

TEST_CASE_METHOD(QueueTest, "EVENT_IDX window across the wrap excludes the new used idx") {
  Activate(/*event_idx=*/true);
  queue.set_indices(0xfffe, 0xfffe);
  driver.SetAvailIdx(0xfffe);
  queue.ShouldNotifyDriver();
  driver.SetUsedEvent(0x0001);
  CompleteChains(3);

  CHECK_FALSE(queue.ShouldNotifyDriver());
}

// §2.7.7.2: with EVENT_IDX the device MUST ignore the lower bit of flags.
TEST_CASE_METHOD(QueueTest, "EVENT_IDX ignores NO_INTERRUPT") {
  Activate(/*event_idx=*/true);
  queue.ShouldNotifyDriver();
  driver.SetAvailFlags(VRING_AVAIL_F_NO_INTERRUPT);
  driver.SetUsedEvent(0);
  CompleteChains(1);

  CHECK(queue.ShouldNotifyDriver());
}

TEST_CASE_METHOD(QueueTest, "set_indices forgets the last notification decision") {
  Activate(/*event_idx=*/true);
  queue.ShouldNotifyDriver();
  driver.SetUsedEvent(0x100);

  queue.set_indices(0, 0);

  CHECK(queue.ShouldNotifyDriver());
}

// ---- Available buffer notifications (§2.7.10.2). ----

TEST_CASE_METHOD(QueueTest, "Without EVENT_IDX DisableNotification sets NO_NOTIFY") {
  Activate();

  queue.DisableNotification();

  CHECK(driver.used_flags() == VRING_USED_F_NO_NOTIFY);
}

TEST_CASE_METHOD(QueueTest, "Without EVENT_IDX EnableNotification clears NO_NOTIFY") {
  Activate();
  queue.DisableNotification();

  const bool more = queue.EnableNotification();

  CHECK(driver.used_flags() == 0);
  CHECK_FALSE(more);
}

TEST_CASE_METHOD(QueueTest, "EnableNotification reports a buffer that raced in") {
  Activate();
  queue.DisableNotification();
  CompleteChains(1);
  PublishChain();  // Arrives after the device's last Pop.

  CHECK(queue.EnableNotification());
}

// §2.7.10.2: with EVENT_IDX the device MUST set flags to 0.
TEST_CASE_METHOD(QueueTest, "With EVENT_IDX DisableNotification leaves used flags at 0") {
  Activate(/*event_idx=*/true);

  queue.DisableNotification();

  CHECK(driver.used_flags() == 0);
}

TEST_CASE_METHOD(QueueTest, "With EVENT_IDX EnableNotification asks for a kick at next_avail") {
  Activate(/*event_idx=*/true);
  CompleteChains(3);

  const bool more = queue.EnableNotification();

  CHECK(driver.avail_event() == 3);
  CHECK_FALSE(more);
}

TEST_CASE_METHOD(QueueTest, "With EVENT_IDX EnableNotification reports a buffer that raced in") {
  Activate(/*event_idx=*/true);
  CompleteChains(1);
  PublishChain();

  const bool more = queue.EnableNotification();

  CHECK(more);
  CHECK(driver.avail_event() == 1);
}

// ---- Reset (§2.7: back to the state of a fresh queue). ----

TEST_CASE_METHOD(QueueTest, "Reset returns the queue to its initial configuration") {
  Activate(/*event_idx=*/true, /*indirect=*/true);
  CompleteChains(2);
  driver.PublishHead(kSize);
  PopAndComplete();
  REQUIRE(queue.fault().has_value());

  queue.Reset();

  CHECK_FALSE(queue.active());
  CHECK(queue.size() == kMaxSize);
  CHECK(queue.desc_table() == GuestAddress(0));
  CHECK(queue.avail_ring() == GuestAddress(0));
  CHECK(queue.used_ring() == GuestAddress(0));
  CHECK(queue.next_avail() == 0);
  CHECK(queue.next_used() == 0);
  CHECK_FALSE(queue.fault().has_value());
}

TEST_CASE_METHOD(QueueTest, "A reset queue pops nothing until activated again") {
  Activate();
  PublishChain();

  queue.Reset();

  CHECK_FALSE(queue.Pop().has_value());
}

TEST_CASE_METHOD(QueueTest, "A queue reactivated after reset starts from index 0") {
  Activate();
  CompleteChains(2);
  queue.Reset();
  VirtQueueDriver fresh(mem, GuestAddress(0x4000), kSize);
  fresh.Configure(queue);
  Activate();
  const uint16_t head = fresh.Chain().Readable(1).Publish();

  const auto popped = PopAndComplete();

  CHECK(popped == head);
  CHECK(fresh.used_idx() == 1);
}

}  // namespace
}  // namespace mini_vmm::virtio
