// MsixVectors: an MSI-X capability with its vector table and Pending Bit
// Array (PCI Local Bus 3.0 §6.8.2), emulated: the table and PBA live in a
// BAR of the owning function but are never mapped into the guest, so every
// table access traps here and the machine learns each vector's message.
//
//   MsixVectors msix(num_vectors, sink);
//   uint8_t cap = msix.AddCapability(config, /*bar=*/0, kTableOffset, 0, kPbaOffset);
//   // in the function's WriteConfig, after config.Write(...):
//   msix.ControlWritten(config);
//   // in the BAR's Read/Write, for accesses inside the table or PBA:
//   msix.WriteTable(offset - kTableOffset, data);
//   // from a device thread:
//   msix.Trigger(vector);
//
// A vector is deliverable while MSI-X is enabled, the function is not
// masked and the vector is not masked. Trigger() on a deliverable vector
// fires it through the sink; on a masked one it sets the vector's pending
// bit instead, and the vector fires (and its bit clears) as soon as it
// becomes deliverable again. Trigger() while MSI-X is disabled does nothing
// (the function uses INTx then; see the owner).
//
// Threading: Trigger() is called from device threads concurrently with
// table accesses and ControlWritten() on vCPU threads; one mutex guards the
// table, the PBA and the control bits. The sink is called with that mutex
// held, so route updates and fires of one function are ordered (a route is
// updated before the first fire that depends on it), and the sink must not
// call back into this object. The deliverability listener is called with
// the mutex released, on the thread whose table or control write changed a
// vector's deliverability (a vCPU, under the owner's lock), so it may call
// DirectEventFd().
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "devices/pci/config_space.h"

namespace mini_vmm::pci {

// An MSI message: what the function writes, and where, to interrupt.
struct MsiMessage {
  uint64_t address = 0;
  uint32_t data = 0;
  bool operator==(const MsiMessage&) const = default;
};

// Implemented by the machine: a KVM MSI route and an irqfd per vector.
class MsiSink {
 public:
  virtual ~MsiSink() = default;
  // `vector` now delivers `message`, or nothing (nullopt: the vector, the
  // function or MSI-X is masked or disabled). Called only on a change.
  virtual void UpdateRoute(uint16_t vector, std::optional<MsiMessage> message) noexcept = 0;
  // Deliver `vector` (with the message of the last UpdateRoute).
  virtual void Fire(uint16_t vector) noexcept = 0;
  // An eventfd whose signal delivers `vector`'s last routed message with no
  // call into this object (a KVM irqfd), or -1. It stays open as long as
  // the sink. Code outside mini-vmm (vhost) may signal it directly while
  // the vector is deliverable; see MsixVectors::DirectEventFd.
  virtual int DirectEventFd(uint16_t /*vector*/) const noexcept { return -1; }
};

class MsixVectors {
 public:
  // PCI allows 1 to 2048 vectors.
  static constexpr uint16_t kMaxVectors = 2048;

  // `sink` must outlive this object. All vectors start masked.
  MsixVectors(uint16_t num_vectors, MsiSink& sink);
  MsixVectors(const MsixVectors&) = delete;
  MsixVectors& operator=(const MsixVectors&) = delete;

  uint16_t num_vectors() const { return static_cast<uint16_t>(entries_.size()); }
  // Bytes the table and the PBA take in their BAR.
  uint64_t table_size() const { return uint64_t{num_vectors()} * 16; }
  uint64_t pba_size() const { return (uint64_t{num_vectors()} + 63) / 64 * 8; }

  // Adds the capability to `config` (table and PBA at the given BAR
  // offsets, 8-byte aligned) and makes its control bits writable.
  uint8_t AddCapability(PciConfigSpace& config, uint8_t table_bar, uint32_t table_offset,
                        uint8_t pba_bar, uint32_t pba_offset);
  // For a function whose capability list the owner lays out itself (a
  // passed-through device's, at the device's own offset): uses the MSI-X
  // capability already at `offset` in `config`, whose Message Control the
  // owner set, and makes its control bits writable.
  void AdoptCapability(PciConfigSpace& config, uint8_t offset);
  // Applies the enable and function-mask bits the guest wrote to the
  // capability's Message Control register. Cheap; call after every
  // configuration write.
  void ControlWritten(const PciConfigSpace& config);

  // Guest accesses relative to the table's or PBA's start. Only aligned
  // 4- and 8-byte accesses are valid (PCI 3.0 §6.8.2); anything else reads
  // as zero and is ignored when written. The PBA is read-only.
  void ReadTable(uint64_t offset, std::span<uint8_t> data);
  void WriteTable(uint64_t offset, std::span<const uint8_t> data);
  // A set bit i of `also_pending` reads as vector offset * 8 + i's
  // pending bit too (a passed-through device's interrupts that wait
  // outside this object).
  void ReadPba(uint64_t offset, std::span<uint8_t> data, uint64_t also_pending = 0);
  void WritePba(uint64_t offset, std::span<const uint8_t> data);

  // Device side: interrupt through `vector`. False if it was not delivered
  // now (pending, MSI-X disabled, or no such vector).
  bool Trigger(uint16_t vector) noexcept;

  bool enabled() const;
  bool IsPending(uint16_t vector) const;

  // For interrupts raised outside mini-vmm: the sink's eventfd for
  // `vector` while the vector is deliverable, else -1 (masked, MSI-X
  // disabled or the function masked: the caller must then raise it
  // through Trigger(), which keeps it pending). The KVM irqfd behind the
  // eventfd knows nothing of masks, hence the switch.
  int DirectEventFd(uint16_t vector) const;
  // Called after any vector's deliverability changed (mask, unmask,
  // enable, disable, function mask, reset), to re-ask DirectEventFd().
  // Set once, before the guest runs.
  void set_deliverability_listener(std::function<void()> listener) {
    deliverability_listener_ = std::move(listener);
  }
  // Back to power-on state (disabled, all masked, nothing pending).
  void Reset();

 private:
  struct Entry {
    uint32_t address_low = 0;   // guest-controlled
    uint32_t address_high = 0;  // guest-controlled
    uint32_t data = 0;          // guest-controlled
    uint32_t control = 1;       // guest-controlled; bit 0: masked.
    bool pending = false;
  };

  // The entry's message if it is deliverable (`function_open`: MSI-X
  // enabled and the function not masked).
  static std::optional<MsiMessage> Route(const Entry& entry, bool function_open);
  bool FunctionOpen() const { return enabled_ && !function_masked_; }  // Caller holds mutex_.
  // Tells the sink what changed and fires what became deliverable while
  // pending; notes a deliverability change. Caller holds mutex_.
  void Publish(uint16_t vector, const std::optional<MsiMessage>& before);
  // Calls the listener if Publish noted a change. Caller does not hold mutex_.
  void NotifyDeliverability();
  void WriteEntryDword(uint64_t offset, uint32_t value);  // Caller holds mutex_.
  uint32_t ReadEntryDword(uint64_t offset) const;         // Caller holds mutex_.

  MsiSink& sink_;
  uint8_t capability_ = 0;  // Offset in config space; 0 until added.
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;           // Guarded by mutex_.
  bool enabled_ = false;                 // Guarded by mutex_.
  bool function_masked_ = false;         // Guarded by mutex_.
  bool deliverability_changed_ = false;  // Guarded by mutex_.
  std::function<void()> deliverability_listener_;
};

}  // namespace mini_vmm::pci
