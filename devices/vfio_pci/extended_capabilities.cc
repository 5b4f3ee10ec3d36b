#include "devices/vfio_pci/extended_capabilities.h"

#include <linux/pci_regs.h>

#include <algorithm>
#include <cstring>

#include "vmm/base/format.h"

namespace mini_vmm::vfio_pci {
namespace {

// Not in linux-libc-dev 6.1's pci_regs.h (PCIe 4.0 §7.8.7).
constexpr uint16_t kExtCapIdVfRebar = 0x24;
constexpr uint32_t kNextShift = 20;
constexpr uint32_t kVersionShift = 16;

uint32_t Load32(std::span<const uint8_t> config, uint32_t at) {
  uint32_t v = 0;
  std::memcpy(&v, &config[at], sizeof(v));
  return v;
}

uint32_t Header(uint16_t id, uint8_t version, uint32_t next) {
  return id | (uint32_t{version} << kVersionShift) | (next << kNextShift);
}

// Each capability's extent: up to the next one in address order. Its real
// length is the device's word, and not needed: only hidden ones use it.
void SetEnds(ExtendedLayout& layout) {
  std::vector<uint16_t> offsets;
  for (const ExtCapabilityLayout& cap : layout.capabilities) offsets.push_back(cap.offset);
  std::sort(offsets.begin(), offsets.end());
  for (ExtCapabilityLayout& cap : layout.capabilities) {
    const auto next = std::upper_bound(offsets.begin(), offsets.end(), cap.offset);
    cap.end = static_cast<uint16_t>(next == offsets.end() ? layout.end : *next);
  }
}

}  // namespace

bool HiddenExtendedCapability(uint16_t id) {
  switch (id) {
    case 0:
    case PCI_EXT_CAP_ID_ARI:
    case PCI_EXT_CAP_ID_SRIOV:
    case PCI_EXT_CAP_ID_MRIOV:
    case PCI_EXT_CAP_ID_REBAR:
    case kExtCapIdVfRebar:
      return true;
    default:
      return false;
  }
}

ExtendedLayout ParseExtendedCapabilities(std::span<const uint8_t> config) {
  ExtendedLayout layout;
  if (config.size() <= kExtendedStart) return layout;
  // Whole dwords only: a header must fit.
  layout.end = static_cast<uint32_t>(std::min<size_t>(config.size(), kExtendedEnd) & ~size_t{3});
  if (layout.end < kExtendedStart + 4) {
    layout.end = 0;
    return layout;
  }
  // One flag per dword: a chain visits each at most once, so the walk ends
  // within (end - 0x100) / 4 steps.
  std::vector<bool> seen((layout.end - kExtendedStart) / 4);
  uint32_t at = kExtendedStart;
  while (true) {
    const uint32_t header = Load32(config, at);
    if (at == kExtendedStart && header == 0) break;  // No extended capabilities.
    if (at == kExtendedStart && header == ~uint32_t{0}) {
      layout.problem = "extended configuration space reads as all-ones";
      break;
    }
    if (seen[(at - kExtendedStart) / 4]) {
      layout.problem = Format("extended capability chain loops back to {:#x}", at);
      break;
    }
    seen[(at - kExtendedStart) / 4] = true;
    const auto id = static_cast<uint16_t>(PCI_EXT_CAP_ID(header));
    layout.capabilities.push_back({.id = id,
                                   .version = static_cast<uint8_t>(PCI_EXT_CAP_VER(header)),
                                   .offset = static_cast<uint16_t>(at),
                                   .end = 0,
                                   .hidden = HiddenExtendedCapability(id)});
    const uint32_t next = PCI_EXT_CAP_NEXT(header);  // Dword-aligned: the low bits are masked.
    if (next == 0) break;
    if (next < kExtendedStart || next + 4 > layout.end) {
      layout.problem = Format("extended capability {:#x} at {:#x} points outside [{:#x}, {:#x})",
                              id, at, kExtendedStart, layout.end);
      break;
    }
    at = next;
  }
  SetEnds(layout);
  return layout;
}

std::vector<ExtendedHeader> GuestExtendedHeaders(const ExtendedLayout& layout) {
  std::vector<ExtendedHeader> headers;
  if (layout.end == 0) return headers;
  std::vector<const ExtCapabilityLayout*> visible;
  for (const ExtCapabilityLayout& cap : layout.capabilities) {
    if (!cap.hidden) visible.push_back(&cap);
  }
  if (visible.empty() || visible.front()->offset != kExtendedStart) {
    // ID 0, version 0: no capability here, but the chain goes on.
    headers.push_back({.offset = kExtendedStart,
                       .value = Header(0, 0, visible.empty() ? 0 : visible.front()->offset)});
  }
  for (size_t i = 0; i < visible.size(); ++i) {
    const uint32_t next = i + 1 < visible.size() ? visible[i + 1]->offset : 0;
    headers.push_back({.offset = visible[i]->offset,
                       .value = Header(visible[i]->id, visible[i]->version, next)});
  }
  return headers;
}

}  // namespace mini_vmm::vfio_pci
