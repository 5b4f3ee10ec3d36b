// FunctionLayout: what a passed-through PCI function looks like, read once
// from its VFIO device when it is opened: its header, its BARs (kind, size,
// which parts may be mmapped), its capability list, its MSI-X table, its
// MSI capability and its extended capability chain.
// The function (vfio_pci_function.h) virtualises the guest's view from it.
//
//   std::vector<uint8_t> config = ...;  // the config region, 256 bytes to 4 KiB
//   FunctionLayout layout = TRY(ParseFunctionLayout(config, io, /*page_size=*/4096));
//
// The configuration bytes come from the device and are not trusted: the
// capability walk is bounded, offsets are range-checked, a list that loops
// is refused, and the MSI-X table must lie inside its BAR. An MSI
// capability the function cannot offer (VFIO has no MSI vectors for it, it
// runs past the header, or it is a second one) is hidden, not refused: the
// guest still has MSI-X or INTx. A pure function of its inputs, unit-tested
// and fuzzed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "devices/pci/config_space.h"
#include "devices/vfio_pci/extended_capabilities.h"
#include "vmm/base/result.h"
#include "vmm/vfio/device_io.h"

namespace mini_vmm::vfio_pci {

struct BarLayout {
  int index = 0;
  pci::BarKind kind = pci::BarKind::kNone;
  uint64_t size = 0;         // The BAR's size as the guest sizes it (a power of two).
  uint64_t region_size = 0;  // What VFIO reports; accesses past it read as all-ones.
  bool prefetchable = false;
  // Page-aligned parts of the BAR that are mmapped into the guest: the
  // region's mmap areas minus the pages that hold the MSI-X table or PBA.
  std::vector<vfio::SparseArea> mapped;
};

struct CapabilityLayout {
  uint8_t id = 0;
  uint8_t offset = 0;
  uint8_t size = 0;     // Bytes the capability spans (what mini-vmm knows of it).
  bool hidden = false;  // Unlinked from the guest's list.
};

struct MsixLayout {
  uint8_t offset = 0;  // Of the capability.
  uint16_t vectors = 0;
  uint8_t table_bar = 0;
  uint32_t table_offset = 0;
  uint8_t pba_bar = 0;
  uint32_t pba_offset = 0;
};

struct MsiLayout {
  uint8_t offset = 0;    // Of the capability.
  uint16_t control = 0;  // Message Control as the guest sees it: MMC capped to VFIO's count.
  uint8_t vectors = 0;   // 2^MMC of `control`.
  uint8_t size = 0;      // Bytes, ID and next pointer included.
};

struct FunctionLayout {
  pci::PciHeader header;
  std::vector<BarLayout> bars;
  std::vector<CapabilityLayout> capabilities;  // In list order.
  std::optional<MsixLayout> msix;
  std::optional<MsiLayout> msi;
  ExtendedLayout extended;

  const BarLayout* bar(int index) const;
};

// The header's bytes [0, 256) as the device's config region returns them.
using ConfigHeader = std::array<uint8_t, pci::kHeaderSize>;

// `config` is the config region from offset 0: at least the 256-byte
// header, and up to 4 KiB when the function has extended space.
Result<FunctionLayout> ParseFunctionLayout(std::span<const uint8_t> config,
                                           const vfio::DeviceIo& io, uint64_t page_size);

// Pieces of `areas` that stay mapped once the pages of `holes` (offset,
// size, inside the BAR) are cut out, each page-aligned and nonempty.
std::vector<vfio::SparseArea> CutHoles(std::span<const vfio::SparseArea> areas,
                                       std::span<const vfio::SparseArea> holes, uint64_t page_size);

}  // namespace mini_vmm::vfio_pci
