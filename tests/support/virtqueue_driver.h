// VirtQueueDriver: the driver side of one split virtqueue (virtio 1.2 §2.7),
// written into a real GuestMemory, so tests and fuzzers can drive the
// device-side Queue exactly as a guest would -- or as a hostile guest would,
// through the raw writers.
//
//   GuestMemory mem = MakeGuestMemory(0, 1 << 20);
//   VirtQueueDriver driver(mem, GuestAddress(0x1000), 16);
//   virtio::Queue queue(256);
//   driver.Configure(queue);
//   REQUIRE_FALSE(queue.Activate(mem, false, false));
//
//   auto chain = driver.Chain();
//   uint16_t head = chain.Readable(header).Writable(512).Writable(1).Publish();
//   ... device pops, processes, AddUsed ...
//   auto used = driver.NextUsed();                 // {id, len}
//   auto status = driver.ReadBytes(chain.buffer(2), 1);
//
// Layout from `base`: descriptor table (16-aligned), available ring, used ring
// (4-aligned), then a bump-allocated data area (buffers, indirect tables) up
// to the end of the RAM region holding `base`. Descriptors come from a cursor
// that wraps modulo the queue size and is never reclaimed: tests publish few
// chains, and a test that wants slot reuse writes descriptors itself.
//
// Misuse (an address outside RAM, a full data area) is a bug in the test and
// aborts through VMM_CHECK, so this class also serves the fuzzers, which do
// not link Catch2.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "devices/virtio/queue.h"
#include "vmm/memory/guest_address.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::testing {

class ChainBuilder;

class VirtQueueDriver {
 public:
  // Zeroes the three rings (§2.7.10.1: the driver initializes used->flags).
  VirtQueueDriver(const GuestMemory& mem, GuestAddress base, uint16_t size);

  // Writes size and ring addresses into `queue` (as the transport would).
  void Configure(virtio::Queue& queue) const;

  uint16_t size() const { return size_; }
  GuestAddress desc_table() const { return desc_table_; }
  GuestAddress avail_ring() const { return avail_ring_; }
  GuestAddress used_ring() const { return used_ring_; }
  const GuestMemory& memory() const { return mem_; }

  ChainBuilder Chain();

  struct UsedElement {
    uint32_t id;
    uint32_t len;
  };
  // used->idx as the device last published it.
  uint16_t used_idx() const;
  // The next used-ring element this driver has not read yet, or nullopt.
  std::optional<UsedElement> NextUsed();

  void SetAvailFlags(uint16_t flags);
  // avail->used_event (the avail ring's trailing field, EVENT_IDX only).
  void SetUsedEvent(uint16_t value);
  // used->avail_event (the used ring's trailing field, EVENT_IDX only).
  uint16_t avail_event() const;
  uint16_t used_flags() const;

  // Raw access, for malformed rings. `index` must be < size().
  void WriteDescriptor(uint16_t index, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
  // Entry `index` of a descriptor table at `table` (e.g. an indirect table).
  void WriteDescriptorAt(GuestAddress table, uint32_t index, uint64_t addr, uint32_t len,
                         uint16_t flags, uint16_t next);
  // avail->ring[avail->idx % size] = head, then avail->idx + 1.
  void PublishHead(uint16_t head);
  // Writes avail->idx directly (a jump ahead, a rewind); PublishHead goes on
  // from the value written.
  void SetAvailIdx(uint16_t idx);
  uint16_t avail_idx() const;

  // `len` bytes of the data area, `align` (a power of two) aligned.
  GuestAddress Allocate(uint32_t len, uint32_t align = 16);
  std::vector<uint8_t> ReadBytes(GuestAddress addr, uint32_t len) const;
  void WriteBytes(GuestAddress addr, std::span<const uint8_t> bytes);
  void Fill(GuestAddress addr, uint32_t len, uint8_t value);
  // Bytes of data area not yet allocated.
  uint64_t data_left() const { return data_end_ - data_next_; }

 private:
  friend class ChainBuilder;

  // `count` consecutive descriptor slots (wrapping modulo size).
  uint16_t TakeDescriptors(uint16_t count);
  std::atomic_ref<uint16_t> Field16(GuestAddress addr) const;
  void Write16(GuestAddress addr, uint16_t value);
  uint16_t Read16(GuestAddress addr) const;

  const GuestMemory& mem_;
  uint16_t size_;
  GuestAddress desc_table_;
  GuestAddress avail_ring_;
  GuestAddress used_ring_;
  uint64_t data_next_;
  uint64_t data_end_;
  uint16_t next_free_desc_ = 0;
  uint16_t last_used_ = 0;
};

// One chain, built front to back. Every buffer method adds one descriptor;
// NEXT flags and `next` links are the builder's business.
class ChainBuilder {
 public:
  explicit ChainBuilder(VirtQueueDriver& driver) : driver_(driver) {}

  // A new device-readable buffer holding `bytes`.
  ChainBuilder& Readable(std::span<const uint8_t> bytes);
  // A new zero-filled device-readable buffer.
  ChainBuilder& Readable(uint32_t len);
  // A new device-writable buffer, filled with kUntouched so bytes the device
  // did not write stay recognisable.
  ChainBuilder& Writable(uint32_t len);
  // A descriptor exactly as given (malformed tests); NEXT is still set by
  // the builder on every descriptor but the last.
  ChainBuilder& Raw(uint64_t addr, uint32_t len, uint16_t flags);
  // Put this chain's descriptors in an indirect table that one
  // VRING_DESC_F_INDIRECT descriptor in the ring refers to. With no
  // buffers, the table is zero bytes long.
  ChainBuilder& Indirect();

  // Writes the descriptors (consecutive free slots), makes the head
  // available and returns it.
  uint16_t Publish();
  // Writes the descriptors but leaves the avail ring alone (the caller
  // publishes the head later, or never).
  uint16_t Write();

  // Guest address of the i-th buffer added (Raw ones included).
  GuestAddress buffer(size_t i) const;
  // Guest address of the indirect table, once written.
  GuestAddress indirect_table() const { return indirect_table_; }

  static constexpr uint8_t kUntouched = 0xAA;

 private:
  struct Entry {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
  };

  VirtQueueDriver& driver_;
  std::vector<Entry> entries_;
  bool indirect_ = false;
  GuestAddress indirect_table_;
};

}  // namespace mini_vmm::testing
