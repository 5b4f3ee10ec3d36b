#include "devices/pci/config_space.h"

#include <linux/pci_regs.h>

#include <bit>
#include <cstring>

#include "devices/pci/pci_device.h"
#include "vmm/base/check.h"

namespace mini_vmm::pci {
namespace {

constexpr uint16_t kCommandWritable = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                                      PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
                                      PCI_COMMAND_INTX_DISABLE;
// Status error bits the device may set; software clears them by writing 1.
constexpr uint16_t kStatusWriteOneToClear =
    PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_REC_TARGET_ABORT |
    PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY;
// x86 port I/O space is 64 KiB; I/O BARs hard-wire the upper 16 bits to 0.
constexpr uint64_t kIoSpaceSize = 0x10000;

constexpr uint32_t BarOffset(int index) {
  return PCI_BASE_ADDRESS_0 + 4 * static_cast<uint32_t>(index);
}

}  // namespace

PciConfigSpace::PciConfigSpace(const PciHeader& header) {
  Set16(PCI_VENDOR_ID, header.vendor_id);
  Set16(PCI_DEVICE_ID, header.device_id);
  Set32(PCI_CLASS_REVISION, (header.class_code << 8) | header.revision);
  Set8(PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL);
  Set16(PCI_SUBSYSTEM_VENDOR_ID, header.subsystem_vendor_id);
  Set16(PCI_SUBSYSTEM_ID, header.subsystem_id);
  VMM_CHECK(header.interrupt_pin <= 4);
  Set8(PCI_INTERRUPT_PIN, header.interrupt_pin);

  const uint16_t command_mask = kCommandWritable;
  std::memcpy(&wmask_[PCI_COMMAND], &command_mask, sizeof(command_mask));
  std::memcpy(&w1c_mask_[PCI_STATUS], &kStatusWriteOneToClear, sizeof(kStatusWriteOneToClear));
  // Scratch registers Linux writes and reads back; no effect here.
  wmask_[PCI_CACHE_LINE_SIZE] = 0xff;
  wmask_[PCI_LATENCY_TIMER] = 0xff;
  wmask_[PCI_INTERRUPT_LINE] = 0xff;
  // PCI_ROM_ADDRESS stays read-only zero: no expansion ROM.
}

void PciConfigSpace::AddBar(int index, const BarSpec& spec) {
  VMM_CHECK(index >= 0 && index < kNumBars);
  VMM_CHECK(std::has_single_bit(spec.size));
  const auto i = static_cast<size_t>(index);
  VMM_CHECK(bars_[i].kind == BarKind::kNone);
  const uint32_t prefetch = spec.prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0u;
  uint32_t flags = 0;
  uint64_t mask = ~(spec.size - 1);
  switch (spec.kind) {
    case BarKind::kMemory32:
      VMM_CHECK(spec.size >= 16 && spec.size <= (1ull << 31));
      flags = PCI_BASE_ADDRESS_MEM_TYPE_32 | prefetch;
      mask &= 0xffff'ffffull & ~uint64_t{0xf};
      break;
    case BarKind::kMemory64:
      VMM_CHECK(spec.size >= 16 && index + 1 < kNumBars && bars_[i + 1].kind == BarKind::kNone);
      flags = PCI_BASE_ADDRESS_MEM_TYPE_64 | prefetch;
      mask &= ~uint64_t{0xf};
      break;
    case BarKind::kIo:
      VMM_CHECK(spec.size >= 4 && spec.size <= 256 && !spec.prefetchable);
      flags = PCI_BASE_ADDRESS_SPACE_IO;
      mask &= (kIoSpaceSize - 1) & ~uint64_t{0x3};
      break;
    case BarKind::kNone:
      VMM_CHECK(false);
  }
  bars_[i] = spec;
  Set32(BarOffset(index), flags);
  const auto low_mask = static_cast<uint32_t>(mask);
  std::memcpy(&wmask_[BarOffset(index)], &low_mask, sizeof(low_mask));
  if (spec.kind == BarKind::kMemory64) {
    const auto high_mask = static_cast<uint32_t>(mask >> 32);
    std::memcpy(&wmask_[BarOffset(index + 1)], &high_mask, sizeof(high_mask));
  }
}

uint8_t PciConfigSpace::AddCapability(uint8_t id, std::span<const uint8_t> body) {
  const size_t size = PCI_CAP_LIST_NEXT + 1 + body.size();
  VMM_CHECK(next_capability_ + size <= kHeaderSize);
  const uint8_t at = next_capability_;
  data_[at + PCI_CAP_LIST_ID] = id;
  data_[at + PCI_CAP_LIST_NEXT] = 0;
  if (!body.empty()) std::memcpy(&data_[at + PCI_CAP_LIST_NEXT + 1], body.data(), body.size());
  if (last_capability_ == 0) {
    data_[PCI_CAPABILITY_LIST] = at;
  } else {
    data_[last_capability_ + PCI_CAP_LIST_NEXT] = at;
  }
  Set16(PCI_STATUS, static_cast<uint16_t>(Get16(PCI_STATUS) | PCI_STATUS_CAP_LIST));
  last_capability_ = at;
  // The next one dword-aligned (the low two bits of a pointer are reserved).
  next_capability_ = static_cast<uint8_t>((at + size + 3) & ~size_t{3});
  return at;
}

void PciConfigSpace::SetWriteMask(uint32_t offset, std::span<const uint8_t> mask) {
  VMM_CHECK(offset <= kHeaderSize && mask.size() <= kHeaderSize - offset);
  for (size_t i = 0; i < mask.size(); ++i) wmask_[offset + i] = mask[i];
}

void PciConfigSpace::Read(uint32_t offset, std::span<uint8_t> data) const {
  for (size_t i = 0; i < data.size(); ++i) {
    const uint64_t at = uint64_t{offset} + i;
    data[i] = at < kHeaderSize ? data_[at] : 0;
  }
}

void PciConfigSpace::Write(uint32_t offset, std::span<const uint8_t> data) {
  bool touched_mapping = false;
  for (size_t i = 0; i < data.size(); ++i) {
    const uint64_t at = uint64_t{offset} + i;
    if (at >= kHeaderSize) break;
    const uint8_t value = data[i];
    data_[at] = static_cast<uint8_t>((data_[at] & ~wmask_[at]) | (value & wmask_[at]));
    data_[at] = static_cast<uint8_t>(data_[at] & ~(value & w1c_mask_[at]));
    touched_mapping |= (at >= PCI_COMMAND && at < PCI_COMMAND + 2) ||
                       (at >= PCI_BASE_ADDRESS_0 && at < PCI_BASE_ADDRESS_5 + 4);
  }
  if (touched_mapping) UpdateMappings();
}

void PciConfigSpace::SetInterruptStatus(bool asserted) {
  const uint16_t status = Get16(PCI_STATUS);
  Set16(PCI_STATUS, asserted ? static_cast<uint16_t>(status | PCI_STATUS_INTERRUPT)
                             : static_cast<uint16_t>(status & ~PCI_STATUS_INTERRUPT));
}

uint64_t PciConfigSpace::BarAddress(int index) const {
  VMM_CHECK(index >= 0 && index < kNumBars);
  const BarSpec& spec = bars_[static_cast<size_t>(index)];
  const uint32_t low = Get32(BarOffset(index));
  switch (spec.kind) {
    case BarKind::kMemory32:
      return low & PCI_BASE_ADDRESS_MEM_MASK;
    case BarKind::kMemory64:
      return (uint64_t{Get32(BarOffset(index + 1))} << 32) | (low & PCI_BASE_ADDRESS_MEM_MASK);
    case BarKind::kIo:
      return low & PCI_BASE_ADDRESS_IO_MASK;
    case BarKind::kNone:
      return 0;
  }
  return 0;
}

std::optional<uint64_t> PciConfigSpace::ComputeMapping(int index) const {
  const BarSpec& spec = bars_[static_cast<size_t>(index)];
  const uint16_t decode = spec.kind == BarKind::kIo     ? PCI_COMMAND_IO
                          : spec.kind == BarKind::kNone ? 0
                                                        : PCI_COMMAND_MEMORY;
  if (decode == 0 || (command() & decode) == 0) return std::nullopt;
  const uint64_t address = BarAddress(index);
  const uint64_t limit = spec.kind == BarKind::kMemory64   ? 0
                         : spec.kind == BarKind::kMemory32 ? (1ull << 32)
                                                           : kIoSpaceSize;
  // What reads back after the guest wrote all-ones: the sizing pattern.
  const uint64_t sizing = limit == 0 ? ~(spec.size - 1) : (limit - spec.size);
  if (address == 0 || address == sizing) return std::nullopt;
  if (limit != 0 && address + spec.size > limit) return std::nullopt;
  if (limit == 0 && address + spec.size < address) return std::nullopt;  // Wraps.
  return address;
}

void PciConfigSpace::UpdateMappings() {
  for (int i = 0; i < kNumBars; ++i) {
    const std::optional<uint64_t> now = ComputeMapping(i);
    auto& was = mapped_[static_cast<size_t>(i)];
    if (now == was) continue;
    const std::optional<uint64_t> old = was;
    was = now;
    if (observer_ != nullptr) observer_->BarMoved(i, old, now);
  }
}

uint8_t PciConfigSpace::Get8(uint32_t offset) const {
  VMM_CHECK(offset < kHeaderSize);
  return data_[offset];
}

void PciConfigSpace::Set8(uint32_t offset, uint8_t value) {
  VMM_CHECK(offset < kHeaderSize);
  data_[offset] = value;
}

uint16_t PciConfigSpace::Get16(uint32_t offset) const {
  VMM_CHECK(offset + sizeof(uint16_t) <= kHeaderSize);
  uint16_t value = 0;
  std::memcpy(&value, &data_[offset], sizeof(value));
  return value;
}

uint32_t PciConfigSpace::Get32(uint32_t offset) const {
  VMM_CHECK(offset + sizeof(uint32_t) <= kHeaderSize);
  uint32_t value = 0;
  std::memcpy(&value, &data_[offset], sizeof(value));
  return value;
}

void PciConfigSpace::Set16(uint32_t offset, uint16_t value) {
  VMM_CHECK(offset + sizeof(value) <= kHeaderSize);
  std::memcpy(&data_[offset], &value, sizeof(value));
}

void PciConfigSpace::Set32(uint32_t offset, uint32_t value) {
  VMM_CHECK(offset + sizeof(value) <= kHeaderSize);
  std::memcpy(&data_[offset], &value, sizeof(value));
}

}  // namespace mini_vmm::pci
