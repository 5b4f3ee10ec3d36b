#include "devices/vfio_pci/function_layout.h"

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "devices/pci/msi.h"

namespace mini_vmm::vfio_pci {
namespace {

// A type-0 header has room for (256 - 64) / 4 capabilities.
constexpr int kMaxCapabilities = 48;

uint16_t Load16(const ConfigHeader& c, size_t at) {
  uint16_t v = 0;
  std::memcpy(&v, &c[at], sizeof(v));
  return v;
}

uint32_t Load32(const ConfigHeader& c, size_t at) {
  uint32_t v = 0;
  std::memcpy(&v, &c[at], sizeof(v));
  return v;
}

// The MSI capability at `at`, if the guest may have it. `vfio_vectors` is
// what VFIO's MSI index offers; Multiple Message Capable is capped to it
// (rounded down to a power of two), so the guest never enables vectors the
// kernel cannot connect.
std::optional<MsiLayout> ParseMsi(const ConfigHeader& config, uint8_t at, uint32_t vfio_vectors,
                                  uint8_t* size) {
  const uint16_t control = Load16(config, at + PCI_MSI_FLAGS);
  const uint8_t full = pci::MsiCapability::SizeFor(control);
  *size = std::min<uint8_t>(full, static_cast<uint8_t>(pci::kHeaderSize - at));
  if (vfio_vectors == 0 || at + uint32_t{full} > pci::kHeaderSize) return std::nullopt;
  uint16_t mmc = std::min<uint16_t>((control & PCI_MSI_FLAGS_QMASK) >> 1, 5);
  while (mmc > 0 && (1u << mmc) > vfio_vectors) --mmc;
  MsiLayout msi;
  msi.offset = at;
  msi.control = static_cast<uint16_t>((control & ~PCI_MSI_FLAGS_QMASK) | (mmc << 1));
  msi.vectors = static_cast<uint8_t>(1u << mmc);
  msi.size = full;
  return msi;
}

// One BAR from its register and its VFIO region; nullopt if it is unused.
Result<std::optional<BarLayout>> ParseBar(const ConfigHeader& config, int index,
                                          const vfio::DeviceIo& io) {
  const uint32_t raw = Load32(config, PCI_BASE_ADDRESS_0 + 4 * static_cast<size_t>(index));
  const vfio::RegionInfo* region = io.region(static_cast<uint32_t>(index));
  if (region == nullptr) return std::optional<BarLayout>();
  BarLayout bar;
  bar.index = index;
  bar.region_size = region->size;
  bar.size = std::bit_ceil(std::max<uint64_t>(region->size, 16));
  if ((raw & PCI_BASE_ADDRESS_SPACE) == PCI_BASE_ADDRESS_SPACE_IO) {
    bar.kind = pci::BarKind::kIo;
    bar.size = std::max<uint64_t>(bar.size, 4);
    if (bar.size > 256) {
      return Error::Invalid("I/O BAR {} of {:#x} bytes is larger than 256", index, region->size);
    }
    return std::optional<BarLayout>(bar);
  }
  bar.prefetchable = (raw & PCI_BASE_ADDRESS_MEM_PREFETCH) != 0;
  if ((raw & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64) {
    if (index == pci::kNumBars - 1) return Error::Invalid("64-bit BAR {} has no upper half", index);
    bar.kind = pci::BarKind::kMemory64;
  } else {
    bar.kind = pci::BarKind::kMemory32;
    if (bar.size > (1ull << 31)) {
      return Error::Invalid("32-bit BAR {} of {:#x} bytes is too large", index, region->size);
    }
  }
  if (region->size > (1ull << 40)) {
    return Error::Invalid("BAR {} of {:#x} bytes is too large", index, region->size);
  }
  bar.mapped = region->mmap_areas;
  return std::optional<BarLayout>(bar);
}

Result<MsixLayout> ParseMsix(const ConfigHeader& config, uint8_t at) {
  if (at + uint32_t{PCI_CAP_MSIX_SIZEOF} > pci::kHeaderSize) {
    return Error::Invalid("MSI-X capability at {:#x} runs past the header", at);
  }
  const uint16_t control = Load16(config, at + PCI_MSIX_FLAGS);
  const uint32_t table = Load32(config, at + PCI_MSIX_TABLE);
  const uint32_t pba = Load32(config, at + PCI_MSIX_PBA);
  return MsixLayout{.offset = at,
                    .vectors = static_cast<uint16_t>((control & PCI_MSIX_FLAGS_QSIZE) + 1),
                    .table_bar = static_cast<uint8_t>(table & PCI_MSIX_TABLE_BIR),
                    .table_offset = table & PCI_MSIX_TABLE_OFFSET,
                    .pba_bar = static_cast<uint8_t>(pba & PCI_MSIX_PBA_BIR),
                    .pba_offset = pba & PCI_MSIX_PBA_OFFSET};
}

Result<void> WalkCapabilities(const ConfigHeader& config, uint32_t msi_vectors,
                              FunctionLayout& layout) {
  if ((Load16(config, PCI_STATUS) & PCI_STATUS_CAP_LIST) == 0) return {};
  std::array<bool, pci::kHeaderSize> seen{};
  uint8_t at = static_cast<uint8_t>(config[PCI_CAPABILITY_LIST] & 0xfcu);
  for (int n = 0; at != 0; ++n) {
    if (n == kMaxCapabilities) return Error::Invalid("capability list is longer than 48");
    if (at < PCI_STD_HEADER_SIZEOF || at > pci::kHeaderSize - 4) {
      return Error::Invalid("capability pointer {:#x} is outside the capability area", at);
    }
    if (seen[at]) return Error::Invalid("capability list loops back to {:#x}", at);
    seen[at] = true;
    CapabilityLayout cap{.id = config[at + PCI_CAP_LIST_ID], .offset = at, .size = 2};
    if (cap.id == PCI_CAP_ID_MSIX) {
      if (layout.msix) return Error::Invalid("second MSI-X capability at {:#x}", at);
      layout.msix = TRY(ParseMsix(config, at));
      cap.size = PCI_CAP_MSIX_SIZEOF;
    } else if (cap.id == PCI_CAP_ID_MSI) {
      // Emulated (pci::MsiCapability) unless unusable; then hidden, and the
      // guest uses MSI-X or INTx. A second one is hidden too.
      std::optional<MsiLayout> msi = ParseMsi(config, at, msi_vectors, &cap.size);
      cap.hidden = layout.msi.has_value() || !msi.has_value();
      if (!cap.hidden) layout.msi = msi;
    }
    layout.capabilities.push_back(cap);
    at = static_cast<uint8_t>(config[at + PCI_CAP_LIST_NEXT] & 0xfcu);
  }
  return {};
}

// The MSI-X table and PBA must lie inside memory BARs of the function.
Result<void> CheckMsix(FunctionLayout& layout, uint64_t page_size) {
  const MsixLayout& m = *layout.msix;
  const uint64_t table_size = uint64_t{m.vectors} * PCI_MSIX_ENTRY_SIZE;
  const uint64_t pba_size = (uint64_t{m.vectors} + 63) / 64 * 8;
  const auto inside = [&layout](uint8_t bar, uint64_t offset, uint64_t size) {
    const BarLayout* b = layout.bar(bar);
    return b != nullptr && b->kind != pci::BarKind::kIo && offset <= b->size &&
           size <= b->size - offset;
  };
  if (!inside(m.table_bar, m.table_offset, table_size)) {
    return Error::Invalid("MSI-X table ({} vectors at BAR {} + {:#x}) is not inside a memory BAR",
                          m.vectors, m.table_bar, m.table_offset);
  }
  if (!inside(m.pba_bar, m.pba_offset, pba_size)) {
    return Error::Invalid("MSI-X PBA (BAR {} + {:#x}) is not inside a memory BAR", m.pba_bar,
                          m.pba_offset);
  }
  // Trapped, never mapped, even where the kernel would allow it
  // (VFIO_REGION_INFO_CAP_MSIX_MAPPABLE): the guest's table is emulated.
  for (BarLayout& bar : layout.bars) {
    std::vector<vfio::SparseArea> holes;
    if (bar.index == m.table_bar) holes.push_back({m.table_offset, table_size});
    if (bar.index == m.pba_bar) holes.push_back({m.pba_offset, pba_size});
    if (!holes.empty()) bar.mapped = CutHoles(bar.mapped, holes, page_size);
  }
  return {};
}

}  // namespace

const BarLayout* FunctionLayout::bar(int index) const {
  for (const BarLayout& b : bars) {
    if (b.index == index) return &b;
  }
  return nullptr;
}

std::vector<vfio::SparseArea> CutHoles(std::span<const vfio::SparseArea> areas,
                                       std::span<const vfio::SparseArea> holes,
                                       uint64_t page_size) {
  std::vector<vfio::SparseArea> pieces;
  for (const vfio::SparseArea& area : areas) {
    // Page-align inward: only whole pages can be mapped.
    uint64_t start = (area.offset + page_size - 1) / page_size * page_size;
    const uint64_t end = (area.offset + area.size) / page_size * page_size;
    std::vector<vfio::SparseArea> cuts;
    for (const vfio::SparseArea& h : holes) {
      // Page-align outward: a page with any of the table in it is trapped.
      cuts.push_back({h.offset / page_size * page_size,
                      (h.offset + h.size + page_size - 1) / page_size * page_size});
    }
    std::sort(cuts.begin(), cuts.end(),
              [](const auto& a, const auto& b) { return a.offset < b.offset; });
    for (const vfio::SparseArea& cut : cuts) {  // {offset: start, size: end}
      if (cut.size <= start || cut.offset >= end) continue;
      if (cut.offset > start) pieces.push_back({start, cut.offset - start});
      start = std::max(start, cut.size);
    }
    if (end > start) pieces.push_back({start, end - start});
  }
  return pieces;
}

Result<FunctionLayout> ParseFunctionLayout(std::span<const uint8_t> bytes,
                                           const vfio::DeviceIo& io, uint64_t page_size) {
  if (bytes.size() < pci::kHeaderSize) {
    return Error::Invalid("configuration space of {} bytes has no full header", bytes.size());
  }
  ConfigHeader config{};
  std::copy_n(bytes.begin(), config.size(), config.begin());
  if ((config[PCI_HEADER_TYPE] & 0x7f) != PCI_HEADER_TYPE_NORMAL) {
    return Error::Invalid("header type {:#x} is not a type-0 function (a bridge?)",
                          config[PCI_HEADER_TYPE]);
  }
  FunctionLayout layout;
  layout.header = {
      .vendor_id = Load16(config, PCI_VENDOR_ID),
      .device_id = Load16(config, PCI_DEVICE_ID),
      .class_code = Load32(config, PCI_CLASS_REVISION) >> 8,
      .revision = config[PCI_REVISION_ID],
      .subsystem_vendor_id = Load16(config, PCI_SUBSYSTEM_VENDOR_ID),
      .subsystem_id = Load16(config, PCI_SUBSYSTEM_ID),
      .interrupt_pin = config[PCI_INTERRUPT_PIN] <= 4 ? config[PCI_INTERRUPT_PIN] : uint8_t{0}};
  if (io.irq(VFIO_PCI_INTX_IRQ_INDEX).count == 0) layout.header.interrupt_pin = 0;
  for (int i = 0; i < pci::kNumBars; ++i) {
    std::optional<BarLayout> bar = TRY(ParseBar(config, i, io));
    if (!bar) continue;
    layout.bars.push_back(*bar);
    if (bar->kind == pci::BarKind::kMemory64) ++i;  // The upper half.
  }
  for (BarLayout& bar : layout.bars) bar.mapped = CutHoles(bar.mapped, {}, page_size);
  TRY(WalkCapabilities(config, io.irq(VFIO_PCI_MSI_IRQ_INDEX).count, layout));
  if (layout.msix) TRY(CheckMsix(layout, page_size));
  layout.extended = ParseExtendedCapabilities(bytes);
  return layout;
}

}  // namespace mini_vmm::vfio_pci
