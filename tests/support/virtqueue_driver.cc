#include "tests/support/virtqueue_driver.h"

#include <atomic>
#include <bit>
#include <cstdint>

#include "devices/virtio/virtio_ring.h"
#include "vmm/base/check.h"

namespace mini_vmm::testing {
namespace {

// Split-ring layout (virtio 1.2 §2.7): avail = flags, idx, ring[size],
// used_event; used = flags, idx, ring[size] of {id, len}, avail_event.
constexpr uint64_t kDescSize = sizeof(vring_desc);
constexpr uint64_t kRingHeader = 4;
constexpr uint64_t kAvailElement = 2;
constexpr uint64_t kUsedElement = sizeof(vring_used_elem);
constexpr uint64_t kIdxOffset = 2;

constexpr uint64_t AlignUp(uint64_t value, uint64_t align) {
  return (value + align - 1) & ~(align - 1);
}

}  // namespace

VirtQueueDriver::VirtQueueDriver(const GuestMemory& mem, GuestAddress base, uint16_t size)
    : mem_(mem), size_(size) {
  VMM_CHECK(size > 0);
  const GuestRegion* region = mem.FindRegion(base);
  VMM_CHECK(region != nullptr);
  desc_table_ = GuestAddress(AlignUp(base.value(), VRING_DESC_ALIGN_SIZE));
  avail_ring_ = desc_table_.Offset(kDescSize * size);
  const uint64_t avail_bytes = kRingHeader + kAvailElement * size + 2;
  used_ring_ = GuestAddress(AlignUp(avail_ring_.value() + avail_bytes, VRING_USED_ALIGN_SIZE));
  const uint64_t used_bytes = kRingHeader + kUsedElement * size + 2;
  data_next_ = AlignUp(used_ring_.value() + used_bytes, 16);
  data_end_ = region->end();
  VMM_CHECK(data_next_ <= data_end_);
  Fill(desc_table_, static_cast<uint32_t>(data_next_ - desc_table_.value()), 0);
}

void VirtQueueDriver::Configure(virtio::Queue& queue) const {
  queue.set_size(size_);
  queue.set_desc_table(desc_table_);
  queue.set_avail_ring(avail_ring_);
  queue.set_used_ring(used_ring_);
}

ChainBuilder VirtQueueDriver::Chain() { return ChainBuilder(*this); }

uint16_t VirtQueueDriver::used_idx() const { return Read16(used_ring_.Offset(kIdxOffset)); }

std::optional<VirtQueueDriver::UsedElement> VirtQueueDriver::NextUsed() {
  if (last_used_ == used_idx()) return std::nullopt;
  const uint64_t slot = last_used_ % size_;
  auto element =
      mem_.ReadObj<vring_used_elem>(used_ring_.Offset(kRingHeader + kUsedElement * slot));
  VMM_CHECK(element.has_value());
  ++last_used_;
  return UsedElement{element->id, element->len};
}

void VirtQueueDriver::SetAvailFlags(uint16_t flags) { Write16(avail_ring_, flags); }

void VirtQueueDriver::SetUsedEvent(uint16_t value) {
  Write16(avail_ring_.Offset(kRingHeader + kAvailElement * size_), value);
}

uint16_t VirtQueueDriver::avail_event() const {
  return Read16(used_ring_.Offset(kRingHeader + kUsedElement * size_));
}

uint16_t VirtQueueDriver::used_flags() const { return Read16(used_ring_); }

void VirtQueueDriver::WriteDescriptor(uint16_t index, uint64_t addr, uint32_t len, uint16_t flags,
                                      uint16_t next) {
  VMM_CHECK(index < size_);
  WriteDescriptorAt(desc_table_, index, addr, len, flags, next);
}

void VirtQueueDriver::WriteDescriptorAt(GuestAddress table, uint32_t index, uint64_t addr,
                                        uint32_t len, uint16_t flags, uint16_t next) {
  const vring_desc desc{addr, len, flags, next};
  VMM_CHECK(mem_.WriteObj(table.Offset(kDescSize * index), desc));
}

void VirtQueueDriver::PublishHead(uint16_t head) {
  const uint16_t idx = avail_idx();
  Write16(avail_ring_.Offset(kRingHeader + kAvailElement * (idx % size_)), head);
  // Write16 publishes with release: the entry is visible before the index.
  SetAvailIdx(static_cast<uint16_t>(idx + 1));
}

void VirtQueueDriver::SetAvailIdx(uint16_t idx) { Write16(avail_ring_.Offset(kIdxOffset), idx); }

uint16_t VirtQueueDriver::avail_idx() const { return Read16(avail_ring_.Offset(kIdxOffset)); }

GuestAddress VirtQueueDriver::Allocate(uint32_t len, uint32_t align) {
  VMM_CHECK(std::has_single_bit(align));
  const uint64_t start = AlignUp(data_next_, align);
  VMM_CHECK(start <= data_end_ && len <= data_end_ - start);
  data_next_ = start + len;
  return GuestAddress(start);
}

std::vector<uint8_t> VirtQueueDriver::ReadBytes(GuestAddress addr, uint32_t len) const {
  std::vector<uint8_t> bytes(len);
  VMM_CHECK(mem_.Read(addr, bytes));
  return bytes;
}

void VirtQueueDriver::WriteBytes(GuestAddress addr, std::span<const uint8_t> bytes) {
  VMM_CHECK(mem_.Write(addr, bytes));
}

void VirtQueueDriver::Fill(GuestAddress addr, uint32_t len, uint8_t value) {
  WriteBytes(addr, std::vector<uint8_t>(len, value));
}

uint16_t VirtQueueDriver::TakeDescriptors(uint16_t count) {
  VMM_CHECK(count > 0 && count <= size_);
  const uint16_t first = next_free_desc_;
  next_free_desc_ = static_cast<uint16_t>((next_free_desc_ + count) % size_);
  return first;
}

// The 16-bit ring fields (indices, flags, event indices) are what the
// device's I/O thread polls while a test thread writes them, as a real
// driver's CPU would: store with release, so the descriptors and buffers
// written before avail->idx are visible to a device that loads it with
// acquire (queue.cc), and load with acquire, so a used element and the
// bytes the device wrote are visible once used->idx says so. Plain copies
// here were a data race (ThreadSanitizer reported it) even where the
// device side was atomic. Ring fields are 2-aligned (the layout above).
std::atomic_ref<uint16_t> VirtQueueDriver::Field16(GuestAddress addr) const {
  uint8_t* host = mem_.TranslateToHost(addr, sizeof(uint16_t));
  VMM_CHECK(host != nullptr && reinterpret_cast<uintptr_t>(host) % alignof(uint16_t) == 0);
  return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(host));
}

void VirtQueueDriver::Write16(GuestAddress addr, uint16_t value) {
  Field16(addr).store(value, std::memory_order_release);
}

uint16_t VirtQueueDriver::Read16(GuestAddress addr) const {
  return Field16(addr).load(std::memory_order_acquire);
}

ChainBuilder& ChainBuilder::Readable(std::span<const uint8_t> bytes) {
  const auto len = static_cast<uint32_t>(bytes.size());
  const GuestAddress addr = driver_.Allocate(len);
  driver_.WriteBytes(addr, bytes);
  entries_.push_back(Entry{addr.value(), len, 0});
  return *this;
}

ChainBuilder& ChainBuilder::Readable(uint32_t len) {
  const GuestAddress addr = driver_.Allocate(len);
  driver_.Fill(addr, len, 0);
  entries_.push_back(Entry{addr.value(), len, 0});
  return *this;
}

ChainBuilder& ChainBuilder::Writable(uint32_t len) {
  const GuestAddress addr = driver_.Allocate(len);
  driver_.Fill(addr, len, kUntouched);
  entries_.push_back(Entry{addr.value(), len, VRING_DESC_F_WRITE});
  return *this;
}

ChainBuilder& ChainBuilder::Raw(uint64_t addr, uint32_t len, uint16_t flags) {
  entries_.push_back(Entry{addr, len, static_cast<uint16_t>(flags & ~VRING_DESC_F_NEXT)});
  return *this;
}

ChainBuilder& ChainBuilder::Indirect() {
  indirect_ = true;
  return *this;
}

uint16_t ChainBuilder::Publish() {
  const uint16_t head = Write();
  driver_.PublishHead(head);
  return head;
}

uint16_t ChainBuilder::Write() {
  const size_t count = entries_.size();
  const auto flags_at = [&](size_t i) {
    const uint16_t next = i + 1 < count ? VRING_DESC_F_NEXT : 0;
    return static_cast<uint16_t>(entries_[i].flags | next);
  };
  if (indirect_) {
    const auto table_len = static_cast<uint32_t>(kDescSize * count);
    indirect_table_ = driver_.Allocate(table_len);
    for (size_t i = 0; i < count; ++i) {
      const auto index = static_cast<uint32_t>(i);
      driver_.WriteDescriptorAt(indirect_table_, index, entries_[i].addr, entries_[i].len,
                                flags_at(i), static_cast<uint16_t>(i + 1 < count ? i + 1 : 0));
    }
    const uint16_t head = driver_.TakeDescriptors(1);
    driver_.WriteDescriptor(head, indirect_table_.value(), table_len, VRING_DESC_F_INDIRECT, 0);
    return head;
  }
  VMM_CHECK(count > 0 && count <= driver_.size());
  const uint16_t first = driver_.TakeDescriptors(static_cast<uint16_t>(count));
  const auto slot = [&](size_t i) { return static_cast<uint16_t>((first + i) % driver_.size()); };
  for (size_t i = 0; i < count; ++i) {
    driver_.WriteDescriptor(slot(i), entries_[i].addr, entries_[i].len, flags_at(i),
                            i + 1 < count ? slot(i + 1) : 0);
  }
  return first;
}

GuestAddress ChainBuilder::buffer(size_t i) const {
  VMM_CHECK(i < entries_.size());
  return GuestAddress(entries_[i].addr);
}

}  // namespace mini_vmm::testing
