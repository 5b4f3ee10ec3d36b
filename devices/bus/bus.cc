#include "devices/bus/bus.h"

#include <algorithm>

#include "vmm/base/log.h"

namespace mini_vmm::devices {

BusRegistration::~BusRegistration() {
  if (bus_ != nullptr && !bus_->Remove(base_)) {
    LOG_ERROR("bus range at {:#x} was already removed", base_);
  }
}

Bus::Bus(std::string name) : name_(std::move(name)), table_(std::make_shared<const Table>()) {}

Result<void> Bus::Insert(std::shared_ptr<BusDevice> device, uint64_t base, uint64_t len) {
  VMM_CHECK(device != nullptr);
  uint64_t end = 0;
  if (len == 0 || __builtin_add_overflow(base, len, &end)) {
    return Error::Invalid("{} bus: invalid range {:#x}+{:#x} for {}", name_, base, len,
                          device->name());
  }
  std::lock_guard lock(write_mutex_);
  auto table = std::make_shared<Table>(*table_.load(std::memory_order_acquire));
  auto it = std::lower_bound(table->begin(), table->end(), base,
                             [](const Range& r, uint64_t b) { return r.base < b; });
  if (it != table->end() && it->base < end) {
    return Error::Invalid("{} bus: {} at {:#x}+{:#x} overlaps {}", name_, device->name(), base, len,
                          it->device->name());
  }
  if (it != table->begin()) {
    const Range& prev = *std::prev(it);
    if (prev.base + prev.len > base) {
      return Error::Invalid("{} bus: {} at {:#x}+{:#x} overlaps {}", name_, device->name(), base,
                            len, prev.device->name());
    }
  }
  table->insert(it, Range{base, len, std::move(device)});
  // Release: a vCPU that sees the new table sees its ranges fully built.
  table_.store(std::move(table), std::memory_order_release);
  return {};
}

Result<BusRegistration> Bus::Attach(std::shared_ptr<BusDevice> device, uint64_t base,
                                    uint64_t len) {
  TRY(Insert(std::move(device), base, len));
  return BusRegistration(this, base);
}

bool Bus::Remove(uint64_t base) {
  std::lock_guard lock(write_mutex_);
  auto table = std::make_shared<Table>(*table_.load(std::memory_order_acquire));
  auto it = std::find_if(table->begin(), table->end(), [base](const Range& r) {
    return r.base == base;
  });
  if (it == table->end()) return false;
  table->erase(it);
  table_.store(std::move(table), std::memory_order_release);
  return true;
}

const Bus::Range* Bus::Lookup(const Table& table, uint64_t address, uint64_t len,
                              uint64_t* offset) noexcept {
  // The last range starting at or below `address`.
  auto it = std::upper_bound(table.begin(), table.end(), address,
                             [](uint64_t a, const Range& r) { return a < r.base; });
  if (it == table.begin()) return nullptr;
  const Range& r = *std::prev(it);
  const uint64_t off = address - r.base;
  if (off >= r.len || len > r.len - off) return nullptr;
  *offset = off;
  return &r;
}

std::shared_ptr<BusDevice> Bus::Find(uint64_t address, uint64_t len,
                                     uint64_t* offset) const noexcept {
  const std::shared_ptr<const Table> table = table_.load(std::memory_order_acquire);
  const Range* range = Lookup(*table, address, len, offset);
  return range == nullptr ? nullptr : range->device;
}

bool Bus::Read(uint64_t address, std::span<uint8_t> data, uint32_t vcpu) const noexcept {
  // The snapshot keeps the device alive for the access, even if it is
  // removed meanwhile.
  const std::shared_ptr<const Table> table = table_.load(std::memory_order_acquire);
  uint64_t offset = 0;
  const Range* range = Lookup(*table, address, data.size(), &offset);
  if (range == nullptr) return false;
  range->device->Read(IoAccess{address, offset, vcpu}, data);
  return true;
}

bool Bus::Write(uint64_t address, std::span<const uint8_t> data, uint32_t vcpu) const noexcept {
  const std::shared_ptr<const Table> table = table_.load(std::memory_order_acquire);
  uint64_t offset = 0;
  const Range* range = Lookup(*table, address, data.size(), &offset);
  if (range == nullptr) return false;
  range->device->Write(IoAccess{address, offset, vcpu}, data);
  return true;
}

}  // namespace mini_vmm::devices
