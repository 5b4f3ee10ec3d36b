// AddressAllocator: hands out aligned ranges of one space (an MMIO window,
// the port space, GSIs, PCI device numbers) and records the fixed ones
// (COM1, the IOAPIC), so run-time resources never collide with the
// platform's or with each other.
//
//   AddressAllocator mmio("32-bit MMIO", 0xc000'0000, 0x3ec0'0000);
//   TRY(mmio.Reserve(0xd000'0000, 0x1000, "virtio-mmio 0"));
//   uint64_t bar = TRY(mmio.Allocate(0x4000, 0x4000, "virtio-net BAR 0"));
//   mmio.Free(bar);
//
// First fit from the bottom, so a layout is the same from run to run.
// Threading: not thread-safe; the machine builder (and later the PCI
// config-space owner, under its own lock) uses it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "vmm/base/result.h"

namespace mini_vmm {

class AddressAllocator {
 public:
  // Manages [base, base + size); `name` appears in errors.
  AddressAllocator(std::string name, uint64_t base, uint64_t size);

  // The lowest free `size` bytes aligned to `alignment` (a power of two).
  Result<uint64_t> Allocate(uint64_t size, uint64_t alignment, const std::string& owner);
  // Marks a fixed range used; fails if it leaves the space or overlaps.
  Result<void> Reserve(uint64_t base, uint64_t size, const std::string& owner);
  // Returns the range starting at `base`; false if none starts there.
  bool Free(uint64_t base);

  uint64_t base() const { return base_; }
  uint64_t end() const { return end_; }

 private:
  struct Used {
    uint64_t end;
    std::string owner;
  };

  std::string name_;
  uint64_t base_;
  uint64_t end_;                   // One past the last unit.
  std::map<uint64_t, Used> used_;  // By start; non-overlapping.
};

}  // namespace mini_vmm
