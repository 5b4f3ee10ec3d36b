// BoundedQueue: a fixed-capacity FIFO that never allocates, for device
// buffers filled by one side (host or guest) and drained by the other.
//
//   BoundedQueue<uint8_t, 16> fifo;
//   size_t taken = fifo.PushSome(bytes);   // what did not fit stays with the caller
//   while (auto byte = fifo.Pop()) Consume(*byte);
//
// Not thread-safe: the owning device guards it with its own mutex.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>

namespace mini_vmm::devices {

template <typename T, size_t kCapacity>
class BoundedQueue {
  static_assert(kCapacity > 0, "a queue must hold at least one element");

 public:
  static constexpr size_t capacity() { return kCapacity; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == kCapacity; }
  size_t free_space() const { return kCapacity - size_; }

  // Appends `value`; returns false and stores nothing when full.
  bool Push(const T& value) {
    if (full()) return false;
    items_[(head_ + size_) % kCapacity] = value;
    ++size_;
    return true;
  }

  // Appends as many leading elements of `values` as fit; returns how many.
  size_t PushSome(std::span<const T> values) {
    const size_t count = values.size() < free_space() ? values.size() : free_space();
    for (size_t i = 0; i < count; ++i) Push(values[i]);
    return count;
  }

  // Removes and returns the oldest element, or nullopt when empty.
  std::optional<T> Pop() {
    if (empty()) return std::nullopt;
    T value = items_[head_];
    head_ = (head_ + 1) % kCapacity;
    --size_;
    return value;
  }

  void Clear() {
    head_ = 0;
    size_ = 0;
  }

 private:
  std::array<T, kCapacity> items_{};
  size_t head_ = 0;  // Index of the oldest element; always < kCapacity.
  size_t size_ = 0;  // Always <= kCapacity.
};

}  // namespace mini_vmm::devices
