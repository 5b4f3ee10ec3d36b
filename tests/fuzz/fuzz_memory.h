// Guest memory for the fuzzers: real GuestMemory regions (private RAM, no
// huge-page advice, no KVM), created once per process. Catch2-free.
#pragma once

#include <span>

#include "vmm/base/check.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::fuzz {

// `layout`'s regions as guest RAM; aborts if the host refuses them.
inline GuestMemory MakeFuzzMemory(std::span<const GuestRegionSpec> layout) {
  auto created = GuestMemory::Create(layout, GuestMemory::Options{.hugepages = false});
  VMM_CHECK(created.ok());
  return std::move(created).value();
}

}  // namespace mini_vmm::fuzz
