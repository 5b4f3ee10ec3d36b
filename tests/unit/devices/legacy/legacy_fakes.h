// Test doubles and port helpers shared by the legacy-device tests.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "devices/bus/bus_device.h"
#include "devices/bus/interrupt.h"
#include "devices/legacy/byte_sink.h"
#include "tests/support/counting_interrupt.h"

namespace mini_vmm::devices::testing {

// The counting interrupt fakes live in tests/support/ (the virtio tests use
// them too); these names keep the legacy tests unchanged.
using mini_vmm::testing::AtomicCountingInterrupt;
using mini_vmm::testing::CountingInterrupt;

// Keeps every byte written. Thread-safe; read the fields once writers stop.
class RecordingSink final : public ByteSink {
 public:
  void WriteBytes(std::span<const uint8_t> bytes) noexcept override {
    std::lock_guard lock(mutex_);
    ++calls;
    written.insert(written.end(), bytes.begin(), bytes.end());
  }
  std::vector<uint8_t> written;
  int calls = 0;

 private:
  std::mutex mutex_;
};

// Byte accesses as a guest makes them, to a device registered at `base`.
class PortDriver {
 public:
  PortDriver(BusDevice& device, uint64_t base) : device_(device), base_(base) {}

  uint8_t In(uint64_t offset) {
    uint8_t value = 0;
    device_.Read(IoAccess{base_ + offset, offset, 0}, std::span<uint8_t>(&value, 1));
    return value;
  }
  void Out(uint64_t offset, uint8_t value) {
    device_.Write(IoAccess{base_ + offset, offset, 0}, std::span<const uint8_t>(&value, 1));
  }

 private:
  BusDevice& device_;
  uint64_t base_;
};

}  // namespace mini_vmm::devices::testing
