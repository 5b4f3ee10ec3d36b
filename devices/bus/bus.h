// Bus: maps address ranges (a port I/O space or the MMIO space) to devices.
//
//   Bus pio("pio");
//   TRY(pio.Insert(serial, 0x3f8, 8));                  // for the VM's life
//   BusRegistration bar = TRY(mmio.Attach(dev, base, len));  // until `bar` goes
//   if (!pio.Write(0x3f8, data, vcpu)) { /* nobody there */ }
//
// Threading: ranges may be added and removed while vCPUs dispatch (PCI BARs
// move when the guest programs them). Insert/Remove build a new immutable
// range table under `write_mutex_`, publish it, then bump `generation_`.
// Dispatch, the hot path, uses a snapshot the calling thread keeps (a
// thread-local shared_ptr to the table): one acquire load of `generation_`
// tells whether it is current, so a dispatch costs no atomic
// read-modify-write. A thread refreshes its snapshot on its next dispatch
// after a change; until then the old table, and the devices it holds, stay
// alive, so a device removed meanwhile finishes its access first. Dispatch
// that re-enters a bus from inside a device's Read/Write keeps the outer
// snapshot (never frees what the outer access is using).
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
  // This thread's snapshot of the table, refreshed if a change came since.
  // `pin` keeps a table alive for the one case with no cached slot to hold
  // it (a re-entered dispatch on a bus this thread has not cached).
  const Table& Snapshot(std::shared_ptr<const Table>* pin) const noexcept;
  // Calls `access(device, offset)` for the range covering [address,
  // address + size) in this thread's snapshot; false if there is none.
  template <typename Access>
  bool Dispatch(uint64_t address, size_t size, const Access& access) const noexcept;
  // Publishes `table` (caller holds write_mutex_).
  void Publish(std::shared_ptr<const Table> table);
  std::shared_ptr<const Table> CurrentTable() const;

  const uint64_t id_;  // Unique per Bus ever made, keys the thread caches.
  std::string name_;
  std::mutex write_mutex_;  // Serializes Insert and Remove.
  // The current table. Dispatch reads it only on its slow path (a
  // thread's first access, or the first after a change), so a plain mutex
  // costs the hot path nothing; libstdc++'s atomic<shared_ptr> is a lock
  // bit that ThreadSanitizer cannot see through.
  mutable std::mutex table_mutex_;
  std::shared_ptr<const Table> table_;  // Guarded by table_mutex_.
  // Unique across all buses and changes: bumped after each publication.
  std::atomic<uint64_t> generation_;
};

}  // namespace mini_vmm::devices
