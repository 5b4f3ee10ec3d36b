// The PCI Express extended capability chain of a passed-through function
// (configuration space 0x100-0xfff), walked once when the function is
// opened, and the guest's view of it: capabilities the guest must not
// drive are unlinked.
//
//   ExtendedLayout ext = ParseExtendedCapabilities(config);  // the region's first 4 KiB
//   for (const ExtendedHeader& h : GuestExtendedHeaders(ext)) shadow(h.offset, h.value);
//
// Hidden (as QEMU's vfio-pci hides them, plus their kin):
//  - ID 0: a capability the kernel's vfio-pci already masked;
//  - SR-IOV and MR-IOV: virtual functions the guest could create but never
//    see on its bus (and whose read-only VF BARs confuse firmware);
//  - ARI: it renumbers functions, which needs next-function virtualisation;
//  - Resizable BAR and VF Resizable BAR: they would change BAR sizes under
//    mini-vmm, which sized and mapped the BARs once.
// A hidden capability is unlinked by rewriting the previous header's next
// pointer; if it is the first one, at 0x100, the guest reads a header with
// ID 0 and version 0 whose next pointer skips it (what vfio-pci itself
// presents). Its bytes, up to the next capability in address order, read
// as zero.
//
// The bytes come from the device and are not trusted: the walk is bounded,
// a next pointer must be dword-aligned and inside [0x100, end), and a
// chain that loops or points outside ends where it went wrong, with the
// problem reported (the guest sees the capabilities before it). A pure
// function of its input, unit-tested and fuzzed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mini_vmm::vfio_pci {

inline constexpr uint32_t kExtendedStart = 0x100;
inline constexpr uint32_t kExtendedEnd = 0x1000;

struct ExtCapabilityLayout {
  uint16_t id = 0;
  uint8_t version = 0;
  uint16_t offset = 0;
  uint16_t end = 0;  // The next capability's offset in address order, or the space's end.
  bool hidden = false;
};

struct ExtendedLayout {
  // Extended space is [0x100, end): 0 when the function has none (a
  // conventional PCI function, whose config region is 256 bytes).
  uint32_t end = 0;
  std::vector<ExtCapabilityLayout> capabilities;  // In chain order.
  std::string problem;                            // Why the walk stopped early; empty if it did not.
};

struct ExtendedHeader {
  uint16_t offset = 0;
  uint32_t value = 0;
};

// Whether the guest must not see extended capability `id`.
bool HiddenExtendedCapability(uint16_t id);

// `config` is the device's configuration space from offset 0, as much of
// its first 4 KiB as its region has.
ExtendedLayout ParseExtendedCapabilities(std::span<const uint8_t> config);

// The header dwords the guest reads instead of the device's: one per
// visible capability (next pointer rewritten to the next visible one) and,
// when the first capability is hidden or the chain is empty, the one at
// 0x100. Empty when the function has no extended space.
std::vector<ExtendedHeader> GuestExtendedHeaders(const ExtendedLayout& layout);

}  // namespace mini_vmm::vfio_pci
