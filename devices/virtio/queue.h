// Queue: the device side of one split virtqueue (virtio 1.2 §2.7).
//
// The transport writes the driver's configuration (size, ring addresses)
// and calls Activate(), which validates it once; from then on the device's
// I/O thread alone uses the queue:
//
//   for (;;) {
//     queue.DisableNotification();
//     while (auto chain = queue.Pop()) {
//       uint32_t written = Process(*chain);
//       queue.AddUsed(std::move(*chain), written);
//     }
//     if (queue.fault()) { /* DEVICE_NEEDS_RESET */ break; }
//     if (!queue.EnableNotification()) break;   // nothing new arrived
//   }
//   if (queue.ShouldNotifyDriver()) interrupt.Signal();
//
// The rings live in guest RAM and the driver writes them concurrently: ring
// indices are read with acquire and published with release, and nothing
// read from a ring is trusted before it is validated.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "devices/virtio/descriptor_chain.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::virtio {

// Why Activate() refused a configuration (a driver bug: the transport fails
// the activation and the device asks for a reset).
enum class QueueConfigError {
  kSizeNotPowerOfTwo,
  kSizeTooLarge,
  kMisaligned,
  kRingOutsideRam,
};

const char* QueueConfigErrorName(QueueConfigError error);

class Queue {
 public:
  explicit Queue(uint16_t max_size);

  // Driver configuration, written through the transport while the queue is
  // not active. 0 = size not yet written.
  uint16_t max_size() const { return max_size_; }
  uint16_t size() const { return size_; }
  void set_size(uint16_t size) { size_ = size; }
  GuestAddress desc_table() const { return desc_table_; }
  GuestAddress avail_ring() const { return avail_ring_; }
  GuestAddress used_ring() const { return used_ring_; }
  void set_desc_table(GuestAddress a) { desc_table_ = a; }
  void set_avail_ring(GuestAddress a) { avail_ring_ = a; }
  void set_used_ring(GuestAddress a) { used_ring_ = a; }

  // Checks the configuration against `mem` (§2.7: alignments 16/2/4, sizes,
  // all three rings in guest RAM) and makes the queue live.
  std::optional<QueueConfigError> Activate(const GuestMemory& mem, bool event_idx,
                                           bool indirect_desc);
  bool active() const { return mem_ != nullptr; }
  // Back to the reset state of §2.7 (size = max, addresses 0, inactive).
  void Reset();

  // The next available chain, or nullopt if none (or the queue is faulted).
  std::optional<DescriptorChain> Pop();
  // Returns `chain` to the driver with `written` bytes written into it.
  void AddUsed(DescriptorChain&& chain, uint32_t written);
  // After AddUsed calls: whether the driver asked to be interrupted for them
  // (VIRTQ_AVAIL_F_NO_INTERRUPT, or used_event with EVENT_IDX, §2.7.7).
  bool ShouldNotifyDriver();

  // Ask the driver not to notify (kick) us / to notify again. Enable returns
  // true if buffers arrived meanwhile, which the caller must then process.
  void DisableNotification();
  bool EnableNotification();

  // A ring-level driver error: the queue delivers nothing more until reset.
  std::optional<ChainError> fault() const { return fault_; }
  uint16_t next_avail() const { return next_avail_; }
  uint16_t next_used() const { return next_used_; }
  // Continue from given indices (vhost and live migration hand them over).
  void set_indices(uint16_t next_avail, uint16_t next_used);

 private:
  uint16_t LoadAvailIdx() const;
  uint16_t* AvailRingEntry(uint16_t slot) const;
  uint16_t* UsedEvent() const;
  uint16_t* AvailEvent() const;

  const uint16_t max_size_;
  uint16_t size_;
  GuestAddress desc_table_;
  GuestAddress avail_ring_;
  GuestAddress used_ring_;

  // Valid while active; guest RAM, guest-controlled contents.
  const GuestMemory* mem_ = nullptr;
  std::span<const uint8_t> desc_;
  uint8_t* avail_ = nullptr;
  uint8_t* used_ = nullptr;
  bool event_idx_ = false;
  bool indirect_desc_ = false;

  uint16_t next_avail_ = 0;      // Next avail ring slot to consume.
  uint16_t next_used_ = 0;       // Next used ring slot to fill.
  uint16_t signalled_used_ = 0;  // next_used_ when we last decided to notify.
  bool signalled_used_valid_ = false;
  std::optional<ChainError> fault_;
};

}  // namespace mini_vmm::virtio
