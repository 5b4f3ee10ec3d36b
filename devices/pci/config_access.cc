#include "devices/pci/config_access.h"

#include <algorithm>
#include <cstring>

#include "vmm/base/log.h"

namespace mini_vmm::pci {
namespace {

constexpr uint64_t kFunctionShift = 12;
constexpr uint64_t kDeviceShift = 15;
constexpr uint64_t kBusShift = 20;

// CONFIG_ADDRESS fields (PCI Local Bus 3.0 §3.2.2.3.2).
constexpr uint32_t kConfigEnable = 1u << 31;
// Bits 30:24 are reserved and 1:0 select type 0/1 cycles; neither is kept.
constexpr uint32_t kConfigAddressMask = kConfigEnable | 0x00ff'fffc;
constexpr uint64_t kDataOffset = 4;

bool ValidWidth(size_t size) { return size == 1 || size == 2 || size == 4; }

PciAddress EcamAddress(uint64_t offset) {
  return PciAddress{static_cast<uint8_t>(offset >> kBusShift),
                    static_cast<uint8_t>((offset >> kDeviceShift) & 0x1f),
                    static_cast<uint8_t>((offset >> kFunctionShift) & 0x7)};
}

bool ValidEcamAccess(uint64_t offset, size_t size) {
  const uint64_t reg = offset % kConfigSpaceSize;
  return offset < PciEcam::kWindowSize && ValidWidth(size) && reg + size <= kConfigSpaceSize;
}

}  // namespace

void PciEcam::Read(const devices::IoAccess& access, std::span<uint8_t> data) noexcept {
  if (!ValidEcamAccess(access.offset, data.size())) {
    std::fill(data.begin(), data.end(), 0xff);
    LOG_WARN_RATELIMITED("pci-ecam: {}-byte read at {:#x} is no config access; reads all-ones",
                         data.size(), access.offset);
    return;
  }
  root_->ReadConfig(EcamAddress(access.offset),
                    static_cast<uint32_t>(access.offset % kConfigSpaceSize), data);
}

void PciEcam::Write(const devices::IoAccess& access, std::span<const uint8_t> data) noexcept {
  if (!ValidEcamAccess(access.offset, data.size())) {
    LOG_WARN_RATELIMITED("pci-ecam: {}-byte write at {:#x} is no config access; ignored",
                         data.size(), access.offset);
    return;
  }
  root_->WriteConfig(EcamAddress(access.offset),
                     static_cast<uint32_t>(access.offset % kConfigSpaceSize), data);
}

bool PciConfigIo::Decode(uint64_t offset, size_t size, PciAddress* address, uint32_t* reg) const {
  if (offset < kDataOffset || !ValidWidth(size) || offset - kDataOffset + size > 4) return false;
  const uint32_t config = address_.load(std::memory_order_relaxed);
  if ((config & kConfigEnable) == 0) return false;
  *address =
      PciAddress{static_cast<uint8_t>(config >> 16), static_cast<uint8_t>((config >> 11) & 0x1f),
                 static_cast<uint8_t>((config >> 8) & 0x7)};
  *reg = (config & 0xfc) + static_cast<uint32_t>(offset - kDataOffset);
  return true;
}

void PciConfigIo::Read(const devices::IoAccess& access, std::span<uint8_t> data) noexcept {
  if (access.offset == 0 && data.size() == 4) {
    const uint32_t value = address_.load(std::memory_order_relaxed);
    std::memcpy(data.data(), &value, sizeof(value));
    return;
  }
  PciAddress address;
  uint32_t reg = 0;
  if (!Decode(access.offset, data.size(), &address, &reg)) {
    std::fill(data.begin(), data.end(), 0xff);
    return;
  }
  root_->ReadConfig(address, reg, data);
}

void PciConfigIo::Write(const devices::IoAccess& access, std::span<const uint8_t> data) noexcept {
  if (access.offset == 0 && data.size() == 4) {
    uint32_t value = 0;
    std::memcpy(&value, data.data(), sizeof(value));
    address_.store(value & kConfigAddressMask, std::memory_order_relaxed);
    return;
  }
  PciAddress address;
  uint32_t reg = 0;
  if (!Decode(access.offset, data.size(), &address, &reg)) {
    LOG_DEBUG_RATELIMITED("pci-config-io: {}-byte write at port {:#x} ignored", data.size(),
                          access.address);
    return;
  }
  root_->WriteConfig(address, reg, data);
}

}  // namespace mini_vmm::pci
