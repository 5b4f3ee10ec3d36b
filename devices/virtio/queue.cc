#include "devices/virtio/queue.h"

#include <atomic>
#include <bit>
#include <cstring>

#include "devices/virtio/chain_walker.h"
#include "devices/virtio/virtio_ring.h"

namespace mini_vmm::virtio {
namespace {

// Split-ring layout (§2.7.6, §2.7.8): avail = flags, idx, ring[size],
// used_event; used = flags, idx, ring[size] of {id, len}, avail_event.
constexpr uint64_t kRingHeader = 4;
constexpr uint64_t kAvailElement = 2;
constexpr uint64_t kUsedElement = 8;
constexpr uint64_t kEventField = 2;
constexpr uint64_t kDescSize = 16;

uint64_t DescTableBytes(uint16_t size) { return kDescSize * size; }
uint64_t AvailRingBytes(uint16_t size) { return kRingHeader + kAvailElement * size + kEventField; }
uint64_t UsedRingBytes(uint16_t size) { return kRingHeader + kUsedElement * size + kEventField; }

// Ring fields are naturally aligned (checked at activation), so atomic_ref
// may view them.
uint16_t& Field16(uint8_t* base, uint64_t offset) {
  return *reinterpret_cast<uint16_t*>(base + offset);
}

}  // namespace

const char* QueueConfigErrorName(QueueConfigError error) {
  switch (error) {
    case QueueConfigError::kSizeNotPowerOfTwo:
      return "queue size is zero or not a power of two";
    case QueueConfigError::kSizeTooLarge:
      return "queue size exceeds the device's maximum";
    case QueueConfigError::kMisaligned:
      return "a ring is misaligned";
    case QueueConfigError::kRingOutsideRam:
      return "a ring is not inside guest RAM";
  }
  return "unknown queue configuration error";
}

Queue::Queue(uint16_t max_size) : max_size_(max_size), size_(max_size) {}

void Queue::Reset() {
  size_ = max_size_;
  desc_table_ = avail_ring_ = used_ring_ = GuestAddress();
  mem_ = nullptr;
  desc_ = {};
  avail_ = used_ = nullptr;
  event_idx_ = indirect_desc_ = false;
  next_avail_ = next_used_ = signalled_used_ = 0;
  signalled_used_valid_ = false;
  fault_.reset();
}

std::optional<QueueConfigError> Queue::Activate(const GuestMemory& mem, bool event_idx,
                                                bool indirect_desc) {
  if (size_ == 0 || !std::has_single_bit(size_)) return QueueConfigError::kSizeNotPowerOfTwo;
  if (size_ > max_size_) return QueueConfigError::kSizeTooLarge;
  if (desc_table_.value() % VRING_DESC_ALIGN_SIZE != 0 ||
      avail_ring_.value() % VRING_AVAIL_ALIGN_SIZE != 0 ||
      used_ring_.value() % VRING_USED_ALIGN_SIZE != 0) {
    return QueueConfigError::kMisaligned;
  }
  auto desc = mem.GetSlice(desc_table_, DescTableBytes(size_));
  auto avail = mem.GetSlice(avail_ring_, AvailRingBytes(size_));
  auto used = mem.GetSlice(used_ring_, UsedRingBytes(size_));
  if (!desc || !avail || !used) return QueueConfigError::kRingOutsideRam;
  mem_ = &mem;
  desc_ = *desc;
  avail_ = avail->data();
  used_ = used->data();
  event_idx_ = event_idx;
  indirect_desc_ = indirect_desc;
  return std::nullopt;
}

void Queue::set_indices(uint16_t next_avail, uint16_t next_used) {
  next_avail_ = next_avail;
  next_used_ = next_used;
  signalled_used_valid_ = false;
}

uint16_t Queue::LoadAvailIdx() const {
  // Acquire pairs with the driver's write barrier before it bumps avail->idx
  // (§2.7.13.2): ring entries and descriptors it published are visible.
  return std::atomic_ref<uint16_t>(Field16(avail_, 2)).load(std::memory_order_acquire);
}

uint16_t* Queue::AvailRingEntry(uint16_t slot) const {
  return &Field16(avail_, kRingHeader + kAvailElement * slot);
}
uint16_t* Queue::UsedEvent() const { return &Field16(avail_, kRingHeader + kAvailElement * size_); }
uint16_t* Queue::AvailEvent() const { return &Field16(used_, kRingHeader + kUsedElement * size_); }

std::optional<DescriptorChain> Queue::Pop() {
  if (!active() || fault_) return std::nullopt;
  const uint16_t avail_idx = LoadAvailIdx();
  const uint16_t pending = static_cast<uint16_t>(avail_idx - next_avail_);
  if (pending == 0) return std::nullopt;
  if (pending > size_) {
    // The driver cannot have more than `size` buffers outstanding.
    fault_ = ChainError::kAvailIndexJump;
    return std::nullopt;
  }
  const uint16_t slot = static_cast<uint16_t>(next_avail_ & (size_ - 1));
  const uint16_t head =
      std::atomic_ref<uint16_t>(*AvailRingEntry(slot)).load(std::memory_order_relaxed);
  ++next_avail_;
  auto walked = WalkChain(*mem_, desc_, head, WalkOptions{size_, indirect_desc_});
  if (auto* error = std::get_if<ChainError>(&walked)) {
    fault_ = *error;
    return std::nullopt;
  }
  return std::move(std::get<DescriptorChain>(walked));
}

void Queue::AddUsed(DescriptorChain&& chain, uint32_t written) {
  VMM_CHECK(active());
  // §2.7.8.2: the device MUST NOT report more bytes than the chain can take.
  VMM_CHECK(written <= chain.writable_bytes());
  const uint16_t slot = static_cast<uint16_t>(next_used_ & (size_ - 1));
  const uint32_t element[2] = {chain.head(), written};
  std::memcpy(used_ + kRingHeader + kUsedElement * slot, element, sizeof(element));
  ++next_used_;
  // §2.7.8.2: the element must be visible before the index that covers it.
  std::atomic_ref<uint16_t>(Field16(used_, 2)).store(next_used_, std::memory_order_release);
  chain.MarkReturned();
}

bool Queue::ShouldNotifyDriver() {
  if (!active()) return false;
  // Our used->idx store must be ordered before reading the driver's
  // suppression state, or we could miss a driver that just re-enabled
  // interrupts (the classic lost-wakeup; §2.7.7 and Linux's
  // virtqueue_kick_prepare use a full barrier here too).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!event_idx_) {
    const uint16_t flags =
        std::atomic_ref<uint16_t>(Field16(avail_, 0)).load(std::memory_order_relaxed);
    return (flags & VRING_AVAIL_F_NO_INTERRUPT) == 0;
  }
  const uint16_t used_event =
      std::atomic_ref<uint16_t>(*UsedEvent()).load(std::memory_order_relaxed);
  const uint16_t old = signalled_used_;
  const bool valid = signalled_used_valid_;
  signalled_used_ = next_used_;
  signalled_used_valid_ = true;
  if (!valid) return true;
  // vring_need_event(): notify iff used_event lies in [old, new).
  return static_cast<uint16_t>(next_used_ - used_event - 1) <
         static_cast<uint16_t>(next_used_ - old);
}

void Queue::DisableNotification() {
  if (!active() || event_idx_) return;  // With EVENT_IDX, avail_event alone decides.
  uint16_t& flags = Field16(used_, 0);
  std::atomic_ref<uint16_t>(flags).store(VRING_USED_F_NO_NOTIFY, std::memory_order_relaxed);
}

bool Queue::EnableNotification() {
  if (!active() || fault_) return false;
  if (event_idx_) {
    // Ask for a kick as soon as the driver adds past what we consumed.
    std::atomic_ref<uint16_t>(*AvailEvent()).store(next_avail_, std::memory_order_relaxed);
  } else {
    std::atomic_ref<uint16_t>(Field16(used_, 0)).store(0, std::memory_order_relaxed);
  }
  // The store must be visible before we look at avail->idx again, or a
  // driver that added a buffer and read our old state would not kick.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return LoadAvailIdx() != next_avail_;
}

}  // namespace mini_vmm::virtio
