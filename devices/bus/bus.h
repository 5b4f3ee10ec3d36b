// Bus: maps address ranges (a port I/O space or the MMIO space) to devices.
//
//   Bus pio("pio");
//   TRY(pio.Insert(serial, 0x3f8, 8));                  // for the VM's life
//   BusRegistration bar = TRY(mmio.Attach(dev, base, len));  // until `bar` goes
//   if (!pio.Write(0x3f8, data, vcpu)) { /* nobody there */ }
//
// Threading: ranges may be added and removed while vCPUs dispatch (PCI BARs
// move when the guest programs them). Dispatch reads an immutable snapshot
// of the range table through one atomic shared_ptr load, and holds it for
// the access, so a device removed meanwhile finishes that access and is
// freed afterwards. Insert/Remove copy the table under `write_mutex_`; they
// are rare, dispatch is the hot path.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "devices/bus/bus_device.h"
#include "vmm/base/result.h"

namespace mini_vmm::devices {

class Bus;

// A range registered with Attach(); removed from its bus when destroyed. The
// bus must outlive it.
class BusRegistration {
 public:
  BusRegistration(BusRegistration&& other) noexcept
      : bus_(std::exchange(other.bus_, nullptr)), base_(other.base_) {}
  BusRegistration& operator=(BusRegistration&&) = delete;
  BusRegistration(const BusRegistration&) = delete;
  BusRegistration& operator=(const BusRegistration&) = delete;
  ~BusRegistration();

  uint64_t base() const { return base_; }

 private:
  friend class Bus;
  BusRegistration(Bus* bus, uint64_t base) : bus_(bus), base_(base) {}

  Bus* bus_;
  uint64_t base_;
};

class Bus {
 public:
  explicit Bus(std::string name);

  // Fails if the range is empty, wraps, or overlaps a registered range.
  Result<void> Insert(std::shared_ptr<BusDevice> device, uint64_t base, uint64_t len);
  // Insert, with a handle that removes the range again.
  Result<BusRegistration> Attach(std::shared_ptr<BusDevice> device, uint64_t base, uint64_t len);
  // Removes the range starting at `base`; false if there is none.
  bool Remove(uint64_t base);

  // Dispatch an access; false if no device covers the whole access.
  bool Read(uint64_t address, std::span<uint8_t> data, uint32_t vcpu) const noexcept;
  bool Write(uint64_t address, std::span<const uint8_t> data, uint32_t vcpu) const noexcept;

  // The device covering [address, address + len), or nullptr.
  std::shared_ptr<BusDevice> Find(uint64_t address, uint64_t len, uint64_t* offset) const noexcept;

 private:
  struct Range {
    uint64_t base;
    uint64_t len;
    std::shared_ptr<BusDevice> device;
  };
  using Table = std::vector<Range>;  // Sorted by base, non-overlapping.

  static const Range* Lookup(const Table& table, uint64_t address, uint64_t len,
                             uint64_t* offset) noexcept;

  std::string name_;
  std::mutex write_mutex_;  // Serializes Insert and Remove.
  std::atomic<std::shared_ptr<const Table>> table_;
};

}  // namespace mini_vmm::devices
