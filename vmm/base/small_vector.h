// SmallVector<T, N>: a vector whose first N elements live inside the object,
// for the per-request paths (a descriptor chain's segments, a request's
// iovecs) that would otherwise call malloc and free for a handful of
// elements on every request. Past N it moves to the heap and grows
// geometrically, like std::vector; the caller bounds how far (a chain's
// TTL, IOV_MAX), since nothing here knows what a sane size is.
//
//   SmallVector<iovec, 4> iov;          // no allocation for up to 4
//   iov.push_back({base, len});
//   preadv(fd, iov.data(), static_cast<int>(iov.size()), offset);
//
// Only for trivially copyable, trivially destructible T: elements move by
// memcpy and are never destroyed, which keeps this small enough to trust.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

#include "vmm/base/check.h"

namespace mini_vmm {

template <typename T, size_t N>
class SmallVector {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "elements are moved with memcpy and never destroyed");
  static_assert(N > 0 && N <= UINT32_MAX);

 public:
  using value_type = T;
  static constexpr size_t kInlineCapacity = N;

  SmallVector() noexcept = default;
  explicit SmallVector(std::span<const T> items) { Assign(items); }
  SmallVector(std::initializer_list<T> items) { Assign({items.begin(), items.size()}); }
  SmallVector(const SmallVector& other) { Assign(other); }
  SmallVector(SmallVector&& other) noexcept { Steal(other); }
  SmallVector& operator=(const SmallVector& other) {
    if (this != &other) Assign(other);
    return *this;
  }
  SmallVector& operator=(SmallVector&& other) noexcept {
    if (this != &other) {
      FreeHeap();
      Steal(other);
    }
    return *this;
  }
  ~SmallVector() { FreeHeap(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  // False once the elements have moved to the heap (they never move back
  // before the vector is destroyed or moved from).
  bool is_inline() const { return heap_ == nullptr; }

  T* data() { return heap_ != nullptr ? heap_ : InlineData(); }
  const T* data() const { return heap_ != nullptr ? heap_ : InlineData(); }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  // Unchecked, like std::vector's.
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  T& back() {
    VMM_CHECK(size_ > 0);
    return data()[size_ - 1];
  }
  const T& back() const {
    VMM_CHECK(size_ > 0);
    return data()[size_ - 1];
  }

  operator std::span<T>() { return {data(), size_}; }
  operator std::span<const T>() const { return {data(), size_}; }

  void push_back(const T& item) {
    if (size_ == capacity_) Grow(size_t{size_} + 1);
    std::memcpy(static_cast<void*>(data() + size_), &item, sizeof(T));
    ++size_;
  }
  void pop_back() {
    VMM_CHECK(size_ > 0);
    --size_;
  }
  // Keeps the capacity (and the heap block, if any) for reuse.
  void clear() { size_ = 0; }
  void reserve(size_t capacity) {
    if (capacity > capacity_) Grow(capacity);
  }

 private:
  T* InlineData() { return reinterpret_cast<T*>(inline_); }
  const T* InlineData() const { return reinterpret_cast<const T*>(inline_); }

  void Grow(size_t needed) {
    VMM_CHECK(needed <= UINT32_MAX);
    const size_t capacity = std::min<size_t>(UINT32_MAX, std::max(needed, size_t{capacity_} * 2));
    T* heap = std::allocator<T>().allocate(capacity);
    if (size_ > 0) std::memcpy(static_cast<void*>(heap), data(), size_ * sizeof(T));
    FreeHeap();
    heap_ = heap;
    capacity_ = static_cast<uint32_t>(capacity);
  }

  void FreeHeap() {
    if (heap_ == nullptr) return;
    std::allocator<T>().deallocate(heap_, capacity_);
    heap_ = nullptr;
    capacity_ = N;
  }

  void Assign(std::span<const T> items) {
    size_ = 0;
    reserve(items.size());
    if (!items.empty()) std::memcpy(static_cast<void*>(data()), items.data(), items.size_bytes());
    size_ = static_cast<uint32_t>(items.size());
  }

  // Takes `other`'s elements (its heap block, or a copy of its inline ones)
  // and leaves it empty and inline. `this` holds no heap block.
  void Steal(SmallVector& other) noexcept {
    if (other.heap_ != nullptr) {
      heap_ = std::exchange(other.heap_, nullptr);
      capacity_ = std::exchange(other.capacity_, static_cast<uint32_t>(N));
    } else {
      // All of the inline storage, whatever the size: a fixed-size copy
      // compiles to a few moves, where a variable one calls memcpy.
      std::memcpy(inline_, other.inline_, sizeof(inline_));
    }
    size_ = std::exchange(other.size_, 0);
  }

  T* heap_ = nullptr;  // Null while the elements are inline.
  uint32_t size_ = 0;
  uint32_t capacity_ = N;
  alignas(T) std::byte inline_[N * sizeof(T)];
};

}  // namespace mini_vmm
