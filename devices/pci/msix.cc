#include "devices/pci/msix.h"

#include <linux/pci_regs.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "vmm/base/check.h"
#include "vmm/base/log.h"

namespace mini_vmm::pci {
namespace {

// PCI 3.0 §6.8.2: table and PBA accesses are naturally aligned dwords or
// qwords; the result of any other access is undefined, and here it is
// ignored.
bool ValidAccess(uint64_t offset, size_t size, uint64_t limit) {
  if (size != 4 && size != 8) return false;
  if (offset % size != 0) return false;
  return offset < limit && size <= limit - offset;
}

}  // namespace

MsixVectors::MsixVectors(uint16_t num_vectors, MsiSink& sink) : sink_(sink), entries_(num_vectors) {
  VMM_CHECK(num_vectors >= 1 && num_vectors <= kMaxVectors);
}

uint8_t MsixVectors::AddCapability(PciConfigSpace& config, uint8_t table_bar, uint32_t table_offset,
                                   uint8_t pba_bar, uint32_t pba_offset) {
  VMM_CHECK(capability_ == 0);
  VMM_CHECK(table_bar < kNumBars && pba_bar < kNumBars);
  VMM_CHECK(table_offset % 8 == 0 && pba_offset % 8 == 0);
  // The body after ID and next pointer: Message Control, Table, PBA.
  std::array<uint8_t, PCI_CAP_MSIX_SIZEOF - 2> body{};
  const auto control = static_cast<uint16_t>(num_vectors() - 1);  // PCI_MSIX_FLAGS_QSIZE
  const uint32_t table = table_offset | table_bar;
  const uint32_t pba = pba_offset | pba_bar;
  std::memcpy(&body[PCI_MSIX_FLAGS - 2], &control, sizeof(control));
  std::memcpy(&body[PCI_MSIX_TABLE - 2], &table, sizeof(table));
  std::memcpy(&body[PCI_MSIX_PBA - 2], &pba, sizeof(pba));
  capability_ = config.AddCapability(PCI_CAP_ID_MSIX, body);
  constexpr uint16_t kWritable = PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL;
  std::array<uint8_t, 2> mask{};
  std::memcpy(mask.data(), &kWritable, sizeof(kWritable));
  config.SetWriteMask(capability_ + PCI_MSIX_FLAGS, mask);
  return capability_;
}

void MsixVectors::AdoptCapability(PciConfigSpace& config, uint8_t offset) {
  VMM_CHECK(capability_ == 0 && offset >= PCI_STD_HEADER_SIZEOF);
  VMM_CHECK(offset + uint32_t{PCI_CAP_MSIX_SIZEOF} <= kHeaderSize);
  capability_ = offset;
  constexpr uint16_t kWritable = PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL;
  std::array<uint8_t, 2> mask{};
  std::memcpy(mask.data(), &kWritable, sizeof(kWritable));
  config.SetWriteMask(capability_ + PCI_MSIX_FLAGS, mask);
}

void MsixVectors::ControlWritten(const PciConfigSpace& config) {
  VMM_CHECK(capability_ != 0);
  const uint16_t control = config.Get16(capability_ + PCI_MSIX_FLAGS);
  const bool enabled = (control & PCI_MSIX_FLAGS_ENABLE) != 0;
  const bool masked = (control & PCI_MSIX_FLAGS_MASKALL) != 0;
  {
    std::lock_guard lock(mutex_);
    if (enabled == enabled_ && masked == function_masked_) return;
    const bool was_open = FunctionOpen();
    enabled_ = enabled;
    function_masked_ = masked;
    for (size_t i = 0; i < entries_.size(); ++i) {
      Publish(static_cast<uint16_t>(i), Route(entries_[i], was_open));
    }
  }
  NotifyDeliverability();
}

std::optional<MsiMessage> MsixVectors::Route(const Entry& entry, bool function_open) {
  if (!function_open || (entry.control & PCI_MSIX_ENTRY_CTRL_MASKBIT) != 0) {
    return std::nullopt;
  }
  return MsiMessage{(uint64_t{entry.address_high} << 32) | entry.address_low, entry.data};
}

void MsixVectors::Publish(uint16_t vector, const std::optional<MsiMessage>& before) {
  Entry& entry = entries_[vector];
  const std::optional<MsiMessage> after = Route(entry, FunctionOpen());
  if (after != before) sink_.UpdateRoute(vector, after);
  if (after.has_value() != before.has_value()) deliverability_changed_ = true;
  // PCI 3.0 §6.8.2.9: a pending message is sent once the vector is unmasked.
  if (after.has_value() && entry.pending) {
    entry.pending = false;
    sink_.Fire(vector);
  }
}

uint32_t MsixVectors::ReadEntryDword(uint64_t offset) const {
  const Entry& entry = entries_[offset / PCI_MSIX_ENTRY_SIZE];
  switch (offset % PCI_MSIX_ENTRY_SIZE) {
    case PCI_MSIX_ENTRY_LOWER_ADDR:
      return entry.address_low;
    case PCI_MSIX_ENTRY_UPPER_ADDR:
      return entry.address_high;
    case PCI_MSIX_ENTRY_DATA:
      return entry.data;
    default:
      return entry.control;
  }
}

void MsixVectors::WriteEntryDword(uint64_t offset, uint32_t value) {
  const auto vector = static_cast<uint16_t>(offset / PCI_MSIX_ENTRY_SIZE);
  Entry& entry = entries_[vector];
  const std::optional<MsiMessage> before = Route(entry, FunctionOpen());
  switch (offset % PCI_MSIX_ENTRY_SIZE) {
    case PCI_MSIX_ENTRY_LOWER_ADDR:
      entry.address_low = value & ~uint32_t{3};  // Dword-aligned message address.
      break;
    case PCI_MSIX_ENTRY_UPPER_ADDR:
      entry.address_high = value;
      break;
    case PCI_MSIX_ENTRY_DATA:
      entry.data = value;
      break;
    default:
      entry.control = value & PCI_MSIX_ENTRY_CTRL_MASKBIT;  // The rest is reserved.
      break;
  }
  Publish(vector, before);
}

void MsixVectors::ReadTable(uint64_t offset, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), 0);
  if (!ValidAccess(offset, data.size(), table_size())) {
    LOG_WARN_RATELIMITED("msi-x: {}-byte table read at {:#x}; reads as zero", data.size(), offset);
    return;
  }
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < data.size(); i += 4) {
    const uint32_t value = ReadEntryDword(offset + i);
    std::memcpy(&data[i], &value, sizeof(value));
  }
}

void MsixVectors::WriteTable(uint64_t offset, std::span<const uint8_t> data) {
  if (!ValidAccess(offset, data.size(), table_size())) {
    LOG_WARN_RATELIMITED("msi-x: {}-byte table write at {:#x}; ignored", data.size(), offset);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < data.size(); i += 4) {
      uint32_t value = 0;
      std::memcpy(&value, &data[i], sizeof(value));
      WriteEntryDword(offset + i, value);
    }
  }
  NotifyDeliverability();
}

void MsixVectors::NotifyDeliverability() {
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    changed = std::exchange(deliverability_changed_, false);
  }
  if (changed && deliverability_listener_) deliverability_listener_();
}

int MsixVectors::DirectEventFd(uint16_t vector) const {
  std::lock_guard lock(mutex_);
  if (vector >= entries_.size() || !Route(entries_[vector], FunctionOpen()).has_value()) return -1;
  return sink_.DirectEventFd(vector);
}

void MsixVectors::ReadPba(uint64_t offset, std::span<uint8_t> data, uint64_t also_pending) {
  std::fill(data.begin(), data.end(), 0);
  if (!ValidAccess(offset, data.size(), pba_size())) {
    LOG_WARN_RATELIMITED("msi-x: {}-byte PBA read at {:#x}; reads as zero", data.size(), offset);
    return;
  }
  std::lock_guard lock(mutex_);
  for (size_t byte = 0; byte < data.size(); ++byte) {
    for (size_t bit = 0; bit < 8; ++bit) {
      const uint64_t vector = (offset + byte) * 8 + bit;
      const bool outside = ((also_pending >> (byte * 8 + bit)) & 1) != 0;
      if (vector < entries_.size() && (entries_[vector].pending || outside)) {
        data[byte] = static_cast<uint8_t>(data[byte] | (1u << bit));
      }
    }
  }
}

void MsixVectors::WritePba(uint64_t offset, std::span<const uint8_t> data) {
  // PCI 3.0 §6.8.2.10: Pending Bits are read-only.
  LOG_DEBUG_RATELIMITED("msi-x: {}-byte write to the read-only PBA at {:#x}; ignored", data.size(),
                        offset);
}

bool MsixVectors::Trigger(uint16_t vector) noexcept {
  std::lock_guard lock(mutex_);
  if (vector >= entries_.size() || !enabled_) return false;
  Entry& entry = entries_[vector];
  if (!Route(entry, FunctionOpen()).has_value()) {
    entry.pending = true;
    return false;
  }
  sink_.Fire(vector);
  return true;
}

bool MsixVectors::enabled() const {
  std::lock_guard lock(mutex_);
  return enabled_;
}

bool MsixVectors::IsPending(uint16_t vector) const {
  std::lock_guard lock(mutex_);
  return vector < entries_.size() && entries_[vector].pending;
}

void MsixVectors::Reset() {
  {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < entries_.size(); ++i) {
      const std::optional<MsiMessage> before = Route(entries_[i], FunctionOpen());
      entries_[i] = Entry{};
      if (before.has_value()) {
        sink_.UpdateRoute(static_cast<uint16_t>(i), std::nullopt);
        deliverability_changed_ = true;
      }
    }
    enabled_ = false;
    function_masked_ = false;
  }
  NotifyDeliverability();
}

}  // namespace mini_vmm::pci
