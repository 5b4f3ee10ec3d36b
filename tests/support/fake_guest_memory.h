// Guest memory for unit tests: real GuestMemory regions (private RAM, no KVM
// needed), with helpers to build layouts quickly.
#pragma once

#include <catch2/catch.hpp>
#include <initializer_list>
#include <vector>

#include "vmm/memory/guest_memory.h"

namespace mini_vmm::testing {

// One region of `size` bytes at `base`.
inline GuestMemory MakeGuestMemory(uint64_t base, uint64_t size) {
  GuestRegionSpec spec{GuestAddress(base), size};
  auto mem = GuestMemory::Create(std::span<const GuestRegionSpec>(&spec, 1),
                                 GuestMemory::Options{.hugepages = false});
  REQUIRE(mem.ok());
  return std::move(mem).value();
}

inline GuestMemory MakeGuestMemory(std::initializer_list<GuestRegionSpec> specs) {
  std::vector<GuestRegionSpec> layout(specs);
  auto mem = GuestMemory::Create(layout, GuestMemory::Options{.hugepages = false});
  REQUIRE(mem.ok());
  return std::move(mem).value();
}

}  // namespace mini_vmm::testing
