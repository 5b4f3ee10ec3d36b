#include "devices/bus/bus.h"

#include <algorithm>

namespace mini_vmm::devices {

Result<void> Bus::Insert(std::shared_ptr<BusDevice> device, uint64_t base, uint64_t len) {
  VMM_CHECK(device != nullptr);
  uint64_t end = 0;
  if (len == 0 || __builtin_add_overflow(base, len, &end)) {
    return Error::Invalid("{} bus: invalid range {:#x}+{:#x} for {}", name_, base, len,
                          device->name());
  }
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), base,
                             [](const Range& r, uint64_t b) { return r.base < b; });
  if (it != ranges_.end() && it->base < end) {
    return Error::Invalid("{} bus: {} at {:#x}+{:#x} overlaps {}", name_, device->name(), base, len,
                          it->device->name());
  }
  if (it != ranges_.begin()) {
    const Range& prev = *std::prev(it);
    if (prev.base + prev.len > base) {
      return Error::Invalid("{} bus: {} at {:#x}+{:#x} overlaps {}", name_, device->name(), base,
                            len, prev.device->name());
    }
  }
  ranges_.insert(it, Range{base, len, std::move(device)});
  return {};
}

BusDevice* Bus::Find(uint64_t address, uint64_t len, uint64_t* offset) const noexcept {
  // The last range starting at or below `address`.
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), address,
                             [](uint64_t a, const Range& r) { return a < r.base; });
  if (it == ranges_.begin()) return nullptr;
  const Range& r = *std::prev(it);
  const uint64_t off = address - r.base;
  if (off >= r.len || len > r.len - off) return nullptr;
  *offset = off;
  return r.device.get();
}

bool Bus::Read(uint64_t address, std::span<uint8_t> data, uint32_t vcpu) const noexcept {
  uint64_t offset = 0;
  BusDevice* device = Find(address, data.size(), &offset);
  if (device == nullptr) return false;
  device->Read(IoAccess{address, offset, vcpu}, data);
  return true;
}

bool Bus::Write(uint64_t address, std::span<const uint8_t> data, uint32_t vcpu) const noexcept {
  uint64_t offset = 0;
  BusDevice* device = Find(address, data.size(), &offset);
  if (device == nullptr) return false;
  device->Write(IoAccess{address, offset, vcpu}, data);
  return true;
}

}  // namespace mini_vmm::devices
