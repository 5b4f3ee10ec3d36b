#include "devices/vfio_pci/vfio_pci_function.h"

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "vmm/base/log.h"

namespace mini_vmm::vfio_pci {
namespace {

// Command bits the guest's writes reach the device with.
constexpr uint16_t kForwardedCommand = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                                       PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
                                       PCI_COMMAND_INTX_DISABLE;

// A BAR's handler on the MMIO or port bus.
class BarHandler final : public devices::BusDevice {
 public:
  BarHandler(std::weak_ptr<VfioPciFunction> function, int index, std::string name)
      : function_(std::move(function)), index_(index), name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  void Read(const devices::IoAccess& access, std::span<uint8_t> data) noexcept override {
    if (auto f = function_.lock()) {
      f->ReadBar(index_, access.offset, data);
    } else {
      std::fill(data.begin(), data.end(), 0xff);
    }
  }
  void Write(const devices::IoAccess& access, std::span<const uint8_t> data) noexcept override {
    if (auto f = function_.lock()) f->WriteBar(index_, access.offset, data);
  }

 private:
  std::weak_ptr<VfioPciFunction> function_;
  const int index_;
  const std::string name_;
};

}  // namespace

Result<std::shared_ptr<VfioPciFunction>> VfioPciFunction::Create(vfio::DeviceIo& io,
                                                                 VectorRoutes& routes,
                                                                 uint64_t page_size) {
  const vfio::RegionInfo* region = io.region(VFIO_PCI_CONFIG_REGION_INDEX);
  if (region == nullptr || region->size < pci::kHeaderSize) {
    return Error::Invalid("{}: no configuration space region", io.name());
  }
  // The header, and extended space when the region has it (PCI Express).
  std::vector<uint8_t> config(std::min<uint64_t>(region->size, pci::kConfigSpaceSize));
  TRY(io.ReadRegion(VFIO_PCI_CONFIG_REGION_INDEX, 0, config));
  auto layout = ParseFunctionLayout(config, io, page_size);
  if (!layout.ok()) return Error::Invalid("{}: {}", io.name(), layout.error().ToString());
  if (!layout->extended.problem.empty()) {
    LOG_WARN("{}: {}; the guest sees the extended capabilities before it", io.name(),
             layout->extended.problem);
  }
  std::shared_ptr<VfioPciFunction> function(
      new VfioPciFunction(io, routes, std::move(layout).value()));
  function->BuildShadow();
  return function;
}

VfioPciFunction::VfioPciFunction(vfio::DeviceIo& io, VectorRoutes& routes, FunctionLayout layout)
    : name_(io.name()),
      io_(io),
      layout_(std::move(layout)),
      relay_(name_, io, routes, layout_.msix ? layout_.msix->vectors : 1,
             layout_.msi ? layout_.msi->vectors : 0),
      shadow_(layout_.header) {}

void VfioPciFunction::BuildShadow() {
  const auto shadow = [this](uint32_t from, uint32_t size) {
    for (uint32_t i = from; i < from + size && i < pci::kHeaderSize; ++i) {
      source_[i] = Source::kShadow;
    }
  };
  shadow(PCI_COMMAND, 2);
  shadow(PCI_BASE_ADDRESS_0, 4 * pci::kNumBars);
  shadow(PCI_ROM_ADDRESS, 4);
  shadow(PCI_CAPABILITY_LIST, 1);
  shadow(PCI_INTERRUPT_LINE, 2);
  for (const BarLayout& bar : layout_.bars) {
    shadow_.AddBar(bar.index,
                   {.kind = bar.kind, .size = bar.size, .prefetchable = bar.prefetchable});
  }
  // The capability list as the guest sees it: hidden ones unlinked.
  uint32_t link_at = PCI_CAPABILITY_LIST;
  for (const CapabilityLayout& cap : layout_.capabilities) {
    if (cap.hidden) {
      shadow(cap.offset, cap.size);  // Reads as zero, writes ignored.
      continue;
    }
    shadow(cap.offset, 2);
    shadow_.Set8(cap.offset + PCI_CAP_LIST_ID, cap.id);
    shadow_.Set8(link_at, cap.offset);
    link_at = cap.offset + PCI_CAP_LIST_NEXT;
  }
  if (layout_.msix) {
    const MsixLayout& m = *layout_.msix;
    shadow(m.offset + PCI_MSIX_FLAGS, 2);
    shadow_.Set16(m.offset + PCI_MSIX_FLAGS, static_cast<uint16_t>(m.vectors - 1));
    msix_.emplace(m.vectors, relay_);
    msix_->AdoptCapability(shadow_, m.offset);
  }
  if (layout_.msi) {
    const MsiLayout& m = *layout_.msi;
    for (uint32_t i = m.offset + PCI_MSI_FLAGS; i < m.offset + uint32_t{m.size}; ++i) {
      source_[i] = Source::kMsi;
    }
    msi_.emplace(m.control, relay_.msi_sink());
  }
  BuildExtendedShadow();
}

void VfioPciFunction::BuildExtendedShadow() {
  const ExtendedLayout& ext = layout_.extended;
  const uint32_t end = ext.end == 0 ? pci::kHeaderSize : ext.end;
  for (uint32_t i = end; i < pci::kConfigSpaceSize; ++i) source_[i] = Source::kZero;
  for (const ExtCapabilityLayout& cap : ext.capabilities) {
    if (!cap.hidden) continue;
    // Reads as zero (ext_shadow_), writes ignored.
    for (uint32_t i = cap.offset; i < cap.end; ++i) source_[i] = Source::kShadow;
  }
  for (const ExtendedHeader& header : GuestExtendedHeaders(ext)) {
    for (uint32_t i = 0; i < 4; ++i) {
      source_[header.offset + i] = Source::kShadow;
      ext_shadow_[header.offset - pci::kHeaderSize + i] =
          static_cast<uint8_t>(header.value >> (8 * i));
    }
  }
}

void VfioPciFunction::ReadRun(Source source, uint32_t at, std::span<uint8_t> run) noexcept {
  switch (source) {
    case Source::kShadow:
      for (size_t i = 0; i < run.size(); ++i) {
        const uint32_t byte = at + static_cast<uint32_t>(i);
        if (byte < pci::kHeaderSize) {
          shadow_.Read(byte, run.subspan(i, 1));
        } else {
          run[i] = ext_shadow_[byte - pci::kHeaderSize];
        }
      }
      return;
    case Source::kMsi: {
      // Polling the parked eventfds costs a syscall each: only for a read
      // of the Pending Bits.
      const uint32_t relative = at - layout_.msi->offset;
      const uint32_t pending_at = msi_->pending_bits_offset();
      const bool pending_read =
          pending_at != 0 && relative < pending_at + 4 && relative + run.size() > pending_at;
      return msi_->Read(relative, run, pending_read ? relay_.msi_parked_pending() : 0);
    }
    case Source::kZero:
      std::fill(run.begin(), run.end(), 0);
      return;
    case Source::kDevice:
      break;
  }
  if (auto read = io_.ReadRegion(VFIO_PCI_CONFIG_REGION_INDEX, at, run); !read.ok()) {
    std::fill(run.begin(), run.end(), 0xff);
    LOG_WARN_RATELIMITED("{}: config read at {:#x}: {}", name_, at, read.error().ToString());
  }
}

void VfioPciFunction::ReadConfig(uint32_t offset, std::span<uint8_t> data) noexcept {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < data.size();) {
    const uint32_t at = offset + static_cast<uint32_t>(i);
    if (at >= pci::kConfigSpaceSize) {  // The root bus never asks; a caller might.
      std::fill(data.begin() + static_cast<ptrdiff_t>(i), data.end(), 0);
      return;
    }
    // The run of bytes from the same source.
    size_t n = 1;
    while (i + n < data.size() && at + n < pci::kConfigSpaceSize &&
           source_[at + n] == source_[at]) {
      ++n;
    }
    ReadRun(source_[at], at, data.subspan(i, n));
    i += n;
  }
}

void VfioPciFunction::WriteConfig(uint32_t offset, std::span<const uint8_t> data) noexcept {
  std::lock_guard lock(mutex_);
  bool command = false;
  bool msix_control = false;
  bool msi = false;
  for (size_t i = 0; i < data.size();) {
    const uint32_t at = offset + static_cast<uint32_t>(i);
    if (at >= pci::kConfigSpaceSize) break;
    size_t n = 1;
    while (i + n < data.size() && at + n < pci::kConfigSpaceSize &&
           source_[at + n] == source_[at]) {
      ++n;
    }
    const std::span<const uint8_t> run = data.subspan(i, n);
    switch (source_[at]) {
      case Source::kShadow:
        if (at >= pci::kHeaderSize) break;  // Extended headers and hidden bytes: read-only.
        shadow_.Write(at, run);
        command |= at < PCI_COMMAND + 2u && at + n > size_t{PCI_COMMAND};
        msix_control |= layout_.msix &&
                        at < layout_.msix->offset + uint32_t{PCI_MSIX_FLAGS} + 2u &&
                        at + n > layout_.msix->offset + size_t{PCI_MSIX_FLAGS};
        break;
      case Source::kMsi:
        WriteMsi(at, run);
        msi = true;
        break;
      case Source::kZero:
        break;
      case Source::kDevice:
        if (auto written = io_.WriteRegion(VFIO_PCI_CONFIG_REGION_INDEX, at, run); !written.ok()) {
          LOG_WARN_RATELIMITED("{}: config write at {:#x}: {}", name_, at,
                               written.error().ToString());
        }
        break;
    }
    i += n;
  }
  if (command) ForwardCommand();
  if (msix_control) MsixControlWritten();
  if (msi) MsiWritten();
}

void VfioPciFunction::WriteMsi(uint32_t at, std::span<const uint8_t> run) noexcept {
  std::array<uint8_t, 4> bytes{};  // Config accesses are at most 4 bytes.
  const size_t n = std::min(run.size(), bytes.size());
  std::copy_n(run.begin(), n, bytes.begin());
  const uint32_t control = layout_.msi->offset + uint32_t{PCI_MSI_FLAGS};
  if (msix_ && msix_->enabled() && at <= control && control < at + n &&
      (bytes[control - at] & PCI_MSI_FLAGS_ENABLE) != 0) {
    // MSI-X was enabled first and wins (see the header).
    bytes[control - at] = static_cast<uint8_t>(bytes[control - at] & ~PCI_MSI_FLAGS_ENABLE);
    LOG_WARN_RATELIMITED("{}: guest enables MSI while MSI-X is enabled; MSI stays off", name_);
  }
  msi_->Write(at - layout_.msi->offset, std::span<const uint8_t>(bytes.data(), n));
}

void VfioPciFunction::MsixControlWritten() noexcept {
  const uint32_t control = layout_.msix->offset + uint32_t{PCI_MSIX_FLAGS};
  const uint16_t value = shadow_.Get16(control);
  if (msi_ && msi_->enabled() && (value & PCI_MSIX_FLAGS_ENABLE) != 0) {
    // MSI was enabled first and wins (see the header).
    shadow_.Set16(control, static_cast<uint16_t>(value & ~PCI_MSIX_FLAGS_ENABLE));
    LOG_WARN_RATELIMITED("{}: guest enables MSI-X while MSI is enabled; MSI-X stays off", name_);
  }
  msix_->ControlWritten(shadow_);
  if (msix_->enabled()) {
    relay_.MsixEnabled();
  } else {
    relay_.MsixDisabled();
  }
}

void VfioPciFunction::MsiWritten() noexcept {
  // After the capability reported its routes: the relay enables VFIO's MSI
  // with the vectors those routes already point at.
  if (msi_->enabled()) {
    relay_.MsiEnabled(msi_->enabled_vectors());
  } else {
    relay_.MsiDisabled();
  }
}

void VfioPciFunction::ForwardCommand() noexcept {
  std::array<uint8_t, 2> bytes{};
  if (!io_.ReadRegion(VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, bytes).ok()) return;
  uint16_t device = 0;
  std::memcpy(&device, bytes.data(), sizeof(device));
  const auto value = static_cast<uint16_t>((device & ~kForwardedCommand) |
                                           (shadow_.command() & kForwardedCommand));
  std::memcpy(bytes.data(), &value, sizeof(value));
  if (auto written = io_.WriteRegion(VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, bytes);
      !written.ok()) {
    LOG_WARN_RATELIMITED("{}: command write: {}", name_, written.error().ToString());
  }
}

std::shared_ptr<devices::BusDevice> VfioPciFunction::BarDevice(int index) {
  return std::make_shared<BarHandler>(weak_from_this(), index, Format("{} BAR {}", name_, index));
}

void VfioPciFunction::set_bar_observer(pci::BarObserver* observer) {
  std::lock_guard lock(mutex_);
  shadow_.set_bar_observer(observer);
}

void VfioPciFunction::AssignBar(int index, uint64_t address) {
  const BarLayout* bar = layout_.bar(index);
  VMM_CHECK(bar != nullptr && address % bar->size == 0);
  std::lock_guard lock(mutex_);
  const auto write32 = [this](uint32_t offset, uint32_t value) {
    std::array<uint8_t, 4> bytes{};
    std::memcpy(bytes.data(), &value, sizeof(value));
    shadow_.Write(offset, bytes);
  };
  const uint32_t reg = PCI_BASE_ADDRESS_0 + 4 * static_cast<uint32_t>(index);
  write32(reg, static_cast<uint32_t>(address));
  if (bar->kind == pci::BarKind::kMemory64) write32(reg + 4, static_cast<uint32_t>(address >> 32));
  const uint16_t decode = bar->kind == pci::BarKind::kIo ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
  const auto command = static_cast<uint16_t>(shadow_.command() | decode);
  std::array<uint8_t, 2> bytes{};
  std::memcpy(bytes.data(), &command, sizeof(command));
  shadow_.Write(PCI_COMMAND, bytes);
  ForwardCommand();
}

VfioPciFunction::MsixPart VfioPciFunction::FindMsixPart(int index, uint64_t offset, uint64_t size,
                                                        uint64_t* relative) const {
  if (!layout_.msix) return MsixPart::kNone;
  const MsixLayout& m = *layout_.msix;
  const uint64_t table_size = uint64_t{m.vectors} * PCI_MSIX_ENTRY_SIZE;
  const uint64_t pba_size = (uint64_t{m.vectors} + 63) / 64 * 8;
  struct Part {
    MsixPart part;
    int bar;
    uint64_t start;
    uint64_t size;
  };
  const Part parts[] = {{MsixPart::kTable, m.table_bar, m.table_offset, table_size},
                        {MsixPart::kPba, m.pba_bar, m.pba_offset, pba_size}};
  for (const Part& p : parts) {
    if (index != p.bar || offset >= p.start + p.size || offset + size <= p.start) continue;
    if (offset < p.start) return MsixPart::kStraddle;
    *relative = offset - p.start;
    return p.part;
  }
  return MsixPart::kNone;
}

void VfioPciFunction::ReadBar(int index, uint64_t offset, std::span<uint8_t> data) noexcept {
  uint64_t relative = 0;
  switch (FindMsixPart(index, offset, data.size(), &relative)) {
    case MsixPart::kTable:
      return msix_->ReadTable(relative, data);
    case MsixPart::kPba: {
      // PCI 3.0 §6.8.2.10: a masked vector whose message waits has its
      // Pending Bit set. Here it waits in the relay's parked eventfd, not
      // in MsixVectors (whose own bits the VFIO path never sets). Polled
      // only for an access the PBA accepts (aligned 4 or 8 bytes).
      uint64_t parked = 0;
      if ((data.size() == 4 || data.size() == 8) && relative % data.size() == 0) {
        parked = relay_.msix_parked_pending(static_cast<uint32_t>(relative * 8),
                                            static_cast<uint32_t>(data.size() * 8));
      }
      return msix_->ReadPba(relative, data, parked);
    }
    case MsixPart::kStraddle:
      std::fill(data.begin(), data.end(), 0xff);
      LOG_WARN_RATELIMITED("{}: {}-byte BAR {} read at {:#x} straddles the MSI-X table or PBA",
                           name_, data.size(), index, offset);
      return;
    case MsixPart::kNone:
      break;
  }
  auto read = io_.ReadRegion(static_cast<uint32_t>(index), offset, data);
  if (!read.ok()) {
    std::fill(data.begin(), data.end(), 0xff);
    LOG_DEBUG_RATELIMITED("{}: BAR {} read at {:#x}: {}", name_, index, offset,
                          read.error().ToString());
  }
}

void VfioPciFunction::WriteBar(int index, uint64_t offset, std::span<const uint8_t> data) noexcept {
  uint64_t relative = 0;
  switch (FindMsixPart(index, offset, data.size(), &relative)) {
    case MsixPart::kTable:
      return msix_->WriteTable(relative, data);
    case MsixPart::kPba:
      return msix_->WritePba(relative, data);
    case MsixPart::kStraddle:
      LOG_WARN_RATELIMITED("{}: {}-byte BAR {} write at {:#x} straddles the MSI-X table or PBA",
                           name_, data.size(), index, offset);
      return;
    case MsixPart::kNone:
      break;
  }
  auto written = io_.WriteRegion(static_cast<uint32_t>(index), offset, data);
  if (!written.ok()) {
    LOG_DEBUG_RATELIMITED("{}: BAR {} write at {:#x}: {}", name_, index, offset,
                          written.error().ToString());
  }
}

}  // namespace mini_vmm::vfio_pci
