// A BusDevice that records every access, for tests that dispatch guest I/O
// (exit handler, buses). Reads fill each access with `next_read_byte`, then
// increment it, so consecutive reads are told apart.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "devices/bus/bus_device.h"

namespace mini_vmm::testing {

class RecordingBusDevice final : public devices::BusDevice {
 public:
  struct Access {
    bool is_write = false;
    devices::IoAccess access;
    std::vector<uint8_t> data;  // What was written, or what the read returned.
  };

  explicit RecordingBusDevice(uint8_t first_read_byte = 0xa0) : next_read_byte(first_read_byte) {}

  std::string_view name() const override { return "recorder"; }

  // Single-threaded tests only: no locking.
  void Read(const devices::IoAccess& access, std::span<uint8_t> data) noexcept override {
    std::fill(data.begin(), data.end(), next_read_byte++);
    accesses.push_back({false, access, std::vector<uint8_t>(data.begin(), data.end())});
  }
  void Write(const devices::IoAccess& access, std::span<const uint8_t> data) noexcept override {
    accesses.push_back({true, access, std::vector<uint8_t>(data.begin(), data.end())});
  }

  uint8_t next_read_byte;
  std::vector<Access> accesses;
};

}  // namespace mini_vmm::testing
