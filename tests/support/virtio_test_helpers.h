// Catch2 helpers for the virtio tests: readable names for the error enums
// in assertion messages, and ScopedChain for chains a test inspects but
// never puts on a used ring.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <utility>

#include "devices/virtio/descriptor_chain.h"
#include "devices/virtio/queue.h"

namespace mini_vmm::testing {

// A DescriptorChain aborts (debug builds) when dropped without being
// returned. Tests that only look at a chain hold it here: it is marked
// returned on scope exit, also when a REQUIRE throws.
class ScopedChain {
 public:
  explicit ScopedChain(virtio::DescriptorChain chain) : chain_(std::move(chain)) {}
  ScopedChain(ScopedChain&&) noexcept = default;
  ~ScopedChain() { chain_.MarkReturned(); }

  virtio::DescriptorChain& operator*() { return chain_; }
  virtio::DescriptorChain* operator->() { return &chain_; }

 private:
  virtio::DescriptorChain chain_;
};

}  // namespace mini_vmm::testing

namespace Catch {

template <>
struct StringMaker<mini_vmm::virtio::ChainError> {
  static std::string convert(mini_vmm::virtio::ChainError error) {
    return mini_vmm::virtio::ChainErrorName(error);
  }
};

template <>
struct StringMaker<mini_vmm::virtio::QueueConfigError> {
  static std::string convert(mini_vmm::virtio::QueueConfigError error) {
    return mini_vmm::virtio::QueueConfigErrorName(error);
  }
};

}  // namespace Catch
