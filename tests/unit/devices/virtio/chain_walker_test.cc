// WalkChain: one negative test per malformed chain, named after the input,
// asserting the exact ChainError; then the shapes a driver may legally use.
// Section numbers are virtio 1.2.
#include "devices/virtio/chain_walker.h"

#include <array>
#include <catch2/catch.hpp>
#include <variant>

#include "devices/virtio/virtio_ring.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/virtio_test_helpers.h"
#include "tests/support/virtqueue_driver.h"

namespace mini_vmm::virtio {
namespace {

using testing::ScopedChain;
using testing::VirtQueueDriver;

constexpr uint16_t kQueueSize = 8;
constexpr uint64_t kRamEnd = 0x10000;
// A second region ending 4 KiB below 2^64, where addr + len can wrap.
constexpr uint64_t kHighRam = 0xffff'ffff'ffff'0000;
constexpr uint64_t kHighRamSize = 0xf000;

struct WalkerTest {
  GuestMemory mem = testing::MakeGuestMemory(
      {{GuestAddress(0), kRamEnd}, {GuestAddress(kHighRam), kHighRamSize}});
  VirtQueueDriver driver{mem, GuestAddress(0), kQueueSize};

  std::variant<DescriptorChain, ChainError> Walk(uint16_t head, bool indirect_allowed) {
    auto table = mem.GetSlice(driver.desc_table(), uint64_t{16} * kQueueSize);
    REQUIRE(table.has_value());
    return WalkChain(mem, *table, head, WalkOptions{kQueueSize, indirect_allowed});
  }

  // The error the walk stops with; fails the test if the chain was valid.
  ChainError WalkError(uint16_t head, bool indirect_allowed = true) {
    auto result = Walk(head, indirect_allowed);
    if (auto* chain = std::get_if<DescriptorChain>(&result)) {
      chain->MarkReturned();
      FAIL("the chain was accepted");
    }
    return std::get<ChainError>(result);
  }

  // The walked chain; fails the test if the walk stopped with an error.
  ScopedChain WalkOk(uint16_t head, bool indirect_allowed = true) {
    auto result = Walk(head, indirect_allowed);
    if (auto* error = std::get_if<ChainError>(&result)) {
      FAIL("the chain was refused: " << ChainErrorName(*error));
    }
    return ScopedChain(std::move(std::get<DescriptorChain>(result)));
  }

  // A valid one-entry indirect table holding a 4-byte readable buffer.
  GuestAddress OneEntryTable() {
    const GuestAddress buffer = driver.Allocate(4);
    const GuestAddress table = driver.Allocate(16);
    driver.WriteDescriptorAt(table, 0, buffer.value(), 4, 0, 0);
    return table;
  }

  uint8_t* Host(GuestAddress addr, uint64_t len) const { return mem.TranslateToHost(addr, len); }
};

// ---- Malformed chains: one test per shape, each with its exact error. ----

TEST_CASE_METHOD(WalkerTest, "HeadOutOfRange: a head index >= queue size is refused") {
  const uint16_t head = kQueueSize;

  CHECK(WalkError(head) == ChainError::kHeadOutOfRange);
}

TEST_CASE_METHOD(WalkerTest, "NextOutOfRange: a next index >= queue size is refused") {
  const GuestAddress buffer = driver.Allocate(8);
  driver.WriteDescriptor(0, buffer.value(), 8, VRING_DESC_F_NEXT, kQueueSize);

  CHECK(WalkError(0) == ChainError::kNextOutOfRange);
}

TEST_CASE_METHOD(WalkerTest,
                 "NextOutOfRange: a next index past the end of an indirect table is refused") {
  const GuestAddress buffer = driver.Allocate(8);
  const GuestAddress table = driver.Allocate(32);
  driver.WriteDescriptorAt(table, 0, buffer.value(), 8, VRING_DESC_F_NEXT, 2);  // 2 entries.
  driver.WriteDescriptorAt(table, 1, buffer.value(), 8, 0, 0);
  const uint16_t head = driver.Chain().Raw(table.value(), 32, VRING_DESC_F_INDIRECT).Publish();

  CHECK(WalkError(head) == ChainError::kNextOutOfRange);
}

// §2.7.5.2: no chain longer than 2^32 bytes, "this implies that loops in the
// descriptor chain are forbidden"; the TTL is the queue size (§2.7.5.3.1).
TEST_CASE_METHOD(WalkerTest, "ChainLongerThanQueue: a loop through two descriptors is refused") {
  const GuestAddress buffer = driver.Allocate(8);
  driver.WriteDescriptor(0, buffer.value(), 8, VRING_DESC_F_NEXT, 1);
  driver.WriteDescriptor(1, buffer.value(), 8, VRING_DESC_F_NEXT, 0);

  CHECK(WalkError(0) == ChainError::kTooLong);
}

TEST_CASE_METHOD(WalkerTest, "ChainLongerThanQueue: a descriptor chained to itself is refused") {
  const GuestAddress buffer = driver.Allocate(8);
  driver.WriteDescriptor(3, buffer.value(), 8, VRING_DESC_F_NEXT, 3);

  CHECK(WalkError(3) == ChainError::kTooLong);
}

TEST_CASE_METHOD(WalkerTest, "ChainLongerThanQueue: a loop inside an indirect table is refused") {
  const GuestAddress buffer = driver.Allocate(8);
  const GuestAddress table = driver.Allocate(16);
  driver.WriteDescriptorAt(table, 0, buffer.value(), 8, VRING_DESC_F_NEXT, 0);
  const uint16_t head = driver.Chain().Raw(table.value(), 16, VRING_DESC_F_INDIRECT).Publish();

  CHECK(WalkError(head) == ChainError::kTooLong);
}

// §2.7.5.3.1: the driver MUST NOT set INDIRECT unless VIRTIO_F_INDIRECT_DESC
// was negotiated.
TEST_CASE_METHOD(WalkerTest, "IndirectNotNegotiated: an indirect descriptor is refused") {
  const uint16_t head = driver.Chain().Readable(4).Indirect().Publish();

  CHECK(WalkError(head, /*indirect_allowed=*/false) == ChainError::kIndirectNotNegotiated);
}

// §2.7.5.3.1: the driver MUST NOT set INDIRECT within an indirect descriptor.
TEST_CASE_METHOD(WalkerTest, "IndirectInsideIndirect: a nested indirect table is refused") {
  const GuestAddress inner = OneEntryTable();
  const uint16_t head =
      driver.Chain().Raw(inner.value(), 16, VRING_DESC_F_INDIRECT).Indirect().Publish();

  CHECK(WalkError(head) == ChainError::kIndirectNested);
}

// §2.7.5.3.1: the driver MUST NOT set both INDIRECT and NEXT.
TEST_CASE_METHOD(WalkerTest, "IndirectWithNext: an indirect descriptor with NEXT is refused") {
  const GuestAddress table = OneEntryTable();
  const uint16_t head =
      driver.Chain().Raw(table.value(), 16, VRING_DESC_F_INDIRECT).Readable(4).Publish();

  CHECK(WalkError(head) == ChainError::kIndirectWithNext);
}

TEST_CASE_METHOD(WalkerTest, "IndirectLengthZero: an empty indirect table is refused") {
  const uint16_t head = driver.Chain().Indirect().Publish();

  CHECK(WalkError(head) == ChainError::kIndirectBadSize);
}

TEST_CASE_METHOD(WalkerTest, "IndirectLengthNotMultipleOf16: a table of 24 bytes is refused") {
  const GuestAddress table = OneEntryTable();
  const uint16_t head = driver.Chain().Raw(table.value(), 24, VRING_DESC_F_INDIRECT).Publish();

  CHECK(WalkError(head) == ChainError::kIndirectBadSize);
}

TEST_CASE_METHOD(WalkerTest, "IndirectTableOutsideRam: a table past the end of RAM is refused") {
  const uint16_t head = driver.Chain().Raw(kRamEnd, 16, VRING_DESC_F_INDIRECT).Publish();

  CHECK(WalkError(head) == ChainError::kIndirectOutOfRam);
}

TEST_CASE_METHOD(WalkerTest,
                 "IndirectTableOutsideRam: a table straddling the end of RAM is refused") {
  const uint16_t head = driver.Chain().Raw(kRamEnd - 16, 32, VRING_DESC_F_INDIRECT).Publish();

  CHECK(WalkError(head) == ChainError::kIndirectOutOfRam);
}

TEST_CASE_METHOD(WalkerTest, "BufferOutsideRam: a buffer in the hole between regions is refused") {
  const uint16_t head = driver.Chain().Readable(4).Raw(kRamEnd, 4, 0).Publish();

  CHECK(WalkError(head) == ChainError::kBufferOutOfRam);
}

TEST_CASE_METHOD(WalkerTest, "BufferOutsideRam: a buffer straddling the end of RAM is refused") {
  const uint16_t head = driver.Chain().Raw(kRamEnd - 2, 4, 0).Publish();

  CHECK(WalkError(head) == ChainError::kBufferOutOfRam);
}

TEST_CASE_METHOD(WalkerTest, "BufferOutsideRam: a zero-length buffer outside RAM is refused") {
  const uint16_t head = driver.Chain().Raw(kRamEnd, 0, 0).Publish();

  CHECK(WalkError(head) == ChainError::kBufferOutOfRam);
}

TEST_CASE_METHOD(WalkerTest,
                 "BufferLengthOverflowsAddressSpace: addr + len wrapping past 2^64 is refused") {
  const uint64_t addr = kHighRam + 0x8000;  // Inside the high region.
  const uint16_t head = driver.Chain().Raw(addr, 0xffff'ffff, 0).Publish();

  CHECK(WalkError(head) == ChainError::kBufferOutOfRam);
}

// GuestMemory never hands out a span across two regions, even adjacent ones
// (their host mappings need not be adjacent).
TEST_CASE("BufferOutsideRam: a buffer crossing into an adjacent region is refused") {
  const GuestMemory mem =
      testing::MakeGuestMemory({{GuestAddress(0), 0x8000}, {GuestAddress(0x8000), 0x8000}});
  VirtQueueDriver driver(mem, GuestAddress(0), kQueueSize);
  const uint16_t head = driver.Chain().Raw(0x7ff0, 0x20, 0).Publish();
  auto table = mem.GetSlice(driver.desc_table(), uint64_t{16} * kQueueSize);
  REQUIRE(table.has_value());

  auto result = WalkChain(mem, *table, head, WalkOptions{kQueueSize, false});

  REQUIRE(std::holds_alternative<ChainError>(result));
  CHECK(std::get<ChainError>(result) == ChainError::kBufferOutOfRam);
}

// §2.7.4.2: the driver MUST place device-writable descriptors after
// device-readable ones.
TEST_CASE_METHOD(WalkerTest,
                 "ReadableAfterWritable: a readable buffer after a writable one is refused") {
  const uint16_t head = driver.Chain().Writable(4).Readable(4).Publish();

  CHECK(WalkError(head) == ChainError::kReadableAfterWritable);
}

TEST_CASE_METHOD(WalkerTest,
                 "ReadableAfterWritable: order is checked across the jump into an indirect table") {
  const GuestAddress table = OneEntryTable();  // Its one buffer is readable.
  const uint16_t head =
      driver.Chain().Writable(4).Raw(table.value(), 16, VRING_DESC_F_INDIRECT).Publish();

  CHECK(WalkError(head) == ChainError::kReadableAfterWritable);
}

// ---- Valid chains. ----

TEST_CASE_METHOD(WalkerTest, "A direct chain yields its buffers in order, readable first") {
  const std::array<uint8_t, 3> header{1, 2, 3};
  auto builder = driver.Chain();
  const uint16_t head = builder.Readable(header).Writable(16).Writable(1).Publish();

  ScopedChain chain = WalkOk(head);

  CHECK(chain->head() == head);
  REQUIRE(chain->segments().size() == 3);
  CHECK(chain->segments()[0].data.data() == Host(builder.buffer(0), 3));
  CHECK(chain->segments()[0].data.size() == 3);
  CHECK_FALSE(chain->segments()[0].writable);
  CHECK(chain->segments()[1].data.data() == Host(builder.buffer(1), 16));
  CHECK(chain->segments()[1].data.size() == 16);
  CHECK(chain->segments()[1].writable);
  CHECK(chain->segments()[2].data.data() == Host(builder.buffer(2), 1));
  CHECK(chain->segments()[2].writable);
}

TEST_CASE_METHOD(WalkerTest, "An indirect chain yields the buffers of its table") {
  auto builder = driver.Chain();
  const uint16_t head = builder.Readable(8).Writable(2).Indirect().Publish();

  ScopedChain chain = WalkOk(head);

  CHECK(chain->head() == head);
  REQUIRE(chain->segments().size() == 2);
  CHECK(chain->segments()[0].data.data() == Host(builder.buffer(0), 8));
  CHECK_FALSE(chain->segments()[0].writable);
  CHECK(chain->segments()[1].data.data() == Host(builder.buffer(1), 2));
  CHECK(chain->segments()[1].writable);
}

// §2.7.5.3.2: the device MUST handle zero or more normal chained descriptors
// followed by a single INDIRECT descriptor.
TEST_CASE_METHOD(WalkerTest, "Direct descriptors followed by an indirect table form one chain") {
  const GuestAddress table = OneEntryTable();
  auto builder = driver.Chain();
  const uint16_t head =
      builder.Readable(2).Readable(3).Raw(table.value(), 16, VRING_DESC_F_INDIRECT).Publish();

  ScopedChain chain = WalkOk(head);

  REQUIRE(chain->segments().size() == 3);
  CHECK(chain->segments()[0].data.size() == 2);
  CHECK(chain->segments()[1].data.size() == 3);
  CHECK(chain->segments()[2].data.size() == 4);
}

// §2.7.5.3.2: the device MUST ignore WRITE on the descriptor that refers to
// an indirect table.
TEST_CASE_METHOD(WalkerTest, "WRITE on the descriptor referring to an indirect table is ignored") {
  const GuestAddress table = OneEntryTable();  // Its one buffer is readable.
  const uint16_t head =
      driver.Chain().Raw(table.value(), 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE).Publish();

  ScopedChain chain = WalkOk(head);

  REQUIRE(chain->segments().size() == 1);
  CHECK_FALSE(chain->segments()[0].writable);
}

TEST_CASE_METHOD(WalkerTest, "A zero-length descriptor inside RAM is an empty segment") {
  const uint16_t head = driver.Chain().Readable(0).Writable(1).Publish();

  ScopedChain chain = WalkOk(head);

  REQUIRE(chain->segments().size() == 2);
  CHECK(chain->segments()[0].data.empty());
  CHECK(chain->readable_bytes() == 0);
  CHECK(chain->writable_bytes() == 1);
}

TEST_CASE_METHOD(WalkerTest, "A buffer ending exactly at the end of RAM is accepted") {
  const uint16_t head = driver.Chain().Raw(kRamEnd - 4, 4, 0).Publish();

  ScopedChain chain = WalkOk(head);

  REQUIRE(chain->segments().size() == 1);
  CHECK(chain->segments()[0].data.data() == Host(GuestAddress(kRamEnd - 4), 4));
}

TEST_CASE_METHOD(WalkerTest, "A chain of exactly queue-size descriptors is accepted") {
  auto builder = driver.Chain();
  builder.Readable(1).Readable(1).Readable(1).Readable(1);
  builder.Writable(1).Writable(1).Writable(1).Writable(1);
  const uint16_t head = builder.Publish();

  ScopedChain chain = WalkOk(head);

  CHECK(chain->segments().size() == kQueueSize);
}

TEST_CASE_METHOD(WalkerTest, "An indirect table of exactly queue size entries is accepted") {
  // The INDIRECT descriptor is not a buffer and does not count towards the
  // TTL (Linux's largest virtio-blk request is a table of queue size).
  auto builder = driver.Chain();
  builder.Readable(1).Readable(1).Readable(1).Readable(1);
  builder.Writable(1).Writable(1).Writable(1).Writable(1);
  const uint16_t head = builder.Indirect().Publish();

  ScopedChain chain = WalkOk(head);

  CHECK(chain->segments().size() == kQueueSize);
}

TEST_CASE_METHOD(WalkerTest, "IndirectTableLongerThanQueue: queue size + 1 entries are refused") {
  auto builder = driver.Chain();
  builder.Readable(1).Readable(1).Readable(1).Readable(1).Readable(1);
  builder.Writable(1).Writable(1).Writable(1).Writable(1);
  const uint16_t head = builder.Indirect().Publish();

  CHECK(WalkError(head) == ChainError::kTooLong);
}

TEST_CASE_METHOD(WalkerTest, "Readable and writable byte counts add up the segments") {
  const uint16_t head = driver.Chain().Readable(16).Readable(3).Writable(512).Writable(1).Publish();

  ScopedChain chain = WalkOk(head);

  CHECK(chain->readable_bytes() == 19);
  CHECK(chain->writable_bytes() == 513);
}

}  // namespace
}  // namespace mini_vmm::virtio
