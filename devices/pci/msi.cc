#include "devices/pci/msi.h"

#include <linux/pci_regs.h>

#include <algorithm>
#include <cstring>

namespace mini_vmm::pci {
namespace {

constexpr int kMmeShift = 4;  // PCI_MSI_FLAGS_QSIZE
constexpr int kMmcShift = 1;  // PCI_MSI_FLAGS_QMASK
constexpr uint8_t kMaxLog2Vectors = 5;

void Fill(std::array<uint8_t, 24>& bytes, uint32_t at, uint32_t value, uint32_t size) {
  for (uint32_t i = 0; i < size; ++i) bytes[at + i] = static_cast<uint8_t>(value >> (8 * i));
}

}  // namespace

uint8_t MsiCapability::SizeFor(uint16_t control) {
  const bool wide = (control & PCI_MSI_FLAGS_64BIT) != 0;
  const bool masks = (control & PCI_MSI_FLAGS_MASKBIT) != 0;
  if (wide) return masks ? 24 : 14;
  return masks ? 20 : 10;
}

MsiCapability::MsiCapability(uint16_t control, MsiSink& sink)
    : sink_(sink),
      size_(SizeFor(control)),
      wide_((control & PCI_MSI_FLAGS_64BIT) != 0),
      maskable_((control & PCI_MSI_FLAGS_MASKBIT) != 0) {
  const auto mmc = std::min<uint8_t>(
      static_cast<uint8_t>((control & PCI_MSI_FLAGS_QMASK) >> kMmcShift), kMaxLog2Vectors);
  capable_ = static_cast<uint8_t>(1u << mmc);
  const auto presented = static_cast<uint16_t>((mmc << kMmcShift) | (control & PCI_MSI_FLAGS_64BIT) |
                                               (control & PCI_MSI_FLAGS_MASKBIT));
  Fill(regs_, PCI_MSI_FLAGS, presented, 2);
  Fill(write_mask_, PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE, 2);
  Fill(write_mask_, PCI_MSI_ADDRESS_LO, ~uint32_t{3}, 4);  // Dword-aligned (§6.8.1.4).
  if (wide_) Fill(write_mask_, PCI_MSI_ADDRESS_HI, ~uint32_t{0}, 4);
  // 16 bits of Message Data; the Extended Message Data above it is not offered.
  Fill(write_mask_, data_offset(), 0xffff, 2);
  if (maskable_) {
    // One implemented mask bit per capable vector; the rest are reserved.
    const uint32_t bits = capable_ == kMaxVectors ? ~uint32_t{0} : (1u << capable_) - 1;
    Fill(write_mask_, mask_offset(), bits, 4);
  }
}

uint32_t MsiCapability::data_offset() const { return wide_ ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32; }

uint32_t MsiCapability::mask_offset() const {
  if (!maskable_) return 0;
  return wide_ ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32;
}

uint32_t MsiCapability::pending_offset() const {
  if (!maskable_) return 0;
  return wide_ ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32;
}

uint16_t MsiCapability::Control() const {
  return static_cast<uint16_t>(regs_[PCI_MSI_FLAGS] | (regs_[PCI_MSI_FLAGS + 1] << 8));
}

uint32_t MsiCapability::Reg32(uint32_t offset) const {
  uint32_t value = 0;
  std::memcpy(&value, &regs_[offset], sizeof(value));
  return value;
}

void MsiCapability::Read(uint32_t offset, std::span<uint8_t> data, uint32_t also_pending) const {
  std::lock_guard lock(mutex_);
  // Only enabled vectors can be pending (Publish() clears the rest of
  // pending_); a bit from outside for a vector above 2^MME is stale.
  const uint8_t enabled = enabled_vectors_locked();
  const uint32_t live = enabled == kMaxVectors ? ~uint32_t{0} : (1u << enabled) - 1;
  const uint32_t pending = (pending_ | also_pending) & live;
  const uint32_t pending_at = pending_offset();
  for (size_t i = 0; i < data.size(); ++i) {
    const uint64_t at = uint64_t{offset} + i;
    if (at < PCI_MSI_FLAGS || at >= size_) {
      data[i] = 0;
    } else if (pending_at != 0 && at >= pending_at && at < pending_at + 4) {
      data[i] = static_cast<uint8_t>(pending >> (8 * (at - pending_at)));
    } else {
      data[i] = regs_[at];
    }
  }
}

void MsiCapability::Write(uint32_t offset, std::span<const uint8_t> data) {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < data.size(); ++i) {
    const uint64_t at = uint64_t{offset} + i;
    if (at < PCI_MSI_FLAGS || at >= size_) continue;  // ID and next pointer: the owner's.
    regs_[at] = static_cast<uint8_t>((regs_[at] & ~write_mask_[at]) | (data[i] & write_mask_[at]));
  }
  // Multiple Message Enable above Multiple Message Capable is undefined
  // (§6.8.1.3); it is clamped to what the function can send.
  const uint16_t control = Control();
  const auto mmc = static_cast<uint16_t>((control & PCI_MSI_FLAGS_QMASK) >> kMmcShift);
  if (((control & PCI_MSI_FLAGS_QSIZE) >> kMmeShift) > mmc) {
    const auto clamped =
        static_cast<uint16_t>((control & ~PCI_MSI_FLAGS_QSIZE) | (mmc << kMmeShift));
    regs_[PCI_MSI_FLAGS] = static_cast<uint8_t>(clamped);
  }
  Publish();
}

std::optional<MsiMessage> MsiCapability::Route(uint8_t vector) const {
  const uint16_t control = Control();
  if ((control & PCI_MSI_FLAGS_ENABLE) == 0) return std::nullopt;
  const uint32_t count = 1u << ((control & PCI_MSI_FLAGS_QSIZE) >> kMmeShift);
  if (vector >= count) return std::nullopt;
  if (maskable_ && (Reg32(mask_offset()) & (1u << vector)) != 0) return std::nullopt;
  uint64_t address = Reg32(PCI_MSI_ADDRESS_LO);
  if (wide_) address |= uint64_t{Reg32(PCI_MSI_ADDRESS_HI)} << 32;
  if (address == 0) return std::nullopt;  // Unprogrammed.
  const uint32_t data = Reg32(data_offset()) & 0xffff;
  // §6.8.1.6: the function modifies the low MME bits of the data.
  return MsiMessage{address, (data & ~(count - 1)) | vector};
}

void MsiCapability::Publish() {
  const uint8_t enabled = enabled_vectors_locked();
  // Nothing stays pending for a vector that is not enabled.
  pending_ &= enabled == kMaxVectors ? ~uint32_t{0} : (1u << enabled) - 1;
  for (uint8_t v = 0; v < capable_; ++v) {
    const std::optional<MsiMessage> after = Route(v);
    if (after != published_[v]) {
      published_[v] = after;
      sink_.UpdateRoute(v, after);
    }
    if (after.has_value() && (pending_ & (1u << v)) != 0) {
      pending_ &= ~(1u << v);
      sink_.Fire(v);
    }
  }
}

uint8_t MsiCapability::enabled_vectors_locked() const {
  const uint16_t control = Control();
  if ((control & PCI_MSI_FLAGS_ENABLE) == 0) return 0;
  return static_cast<uint8_t>(1u << ((control & PCI_MSI_FLAGS_QSIZE) >> kMmeShift));
}

bool MsiCapability::Trigger(uint8_t vector) noexcept {
  std::lock_guard lock(mutex_);
  if (vector >= enabled_vectors_locked()) return false;
  if (!published_[vector].has_value()) {
    pending_ |= 1u << vector;
    return false;
  }
  sink_.Fire(vector);
  return true;
}

bool MsiCapability::enabled() const {
  std::lock_guard lock(mutex_);
  return (Control() & PCI_MSI_FLAGS_ENABLE) != 0;
}

uint8_t MsiCapability::enabled_vectors() const {
  std::lock_guard lock(mutex_);
  return enabled_vectors_locked();
}

bool MsiCapability::IsPending(uint8_t vector) const {
  std::lock_guard lock(mutex_);
  return vector < kMaxVectors && (pending_ & (1u << vector)) != 0;
}

void MsiCapability::Reset() {
  std::lock_guard lock(mutex_);
  const uint16_t keep = Control() & (PCI_MSI_FLAGS_QMASK | PCI_MSI_FLAGS_64BIT |
                                     PCI_MSI_FLAGS_MASKBIT);
  regs_.fill(0);
  Fill(regs_, PCI_MSI_FLAGS, keep, 2);
  pending_ = 0;
  Publish();
}

}  // namespace mini_vmm::pci
