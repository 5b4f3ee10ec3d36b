// MsiCapability: an MSI capability (PCI Local Bus 3.0 §6.8.1), emulated:
// Message Control, Message Address (and Upper Address on a 64-bit
// capability), Message Data, and the Mask and Pending Bits of a capability
// with per-vector masking. It reports each vector's message to an MsiSink,
// as MsixVectors does, so the machine learns it without a table in a BAR.
//
//   MsiCapability msi(device_control, sink);   // MMC, 64-bit, masking as the device has them
//   // in the owner's config accesses inside [cap, cap + msi.size()):
//   msi.Write(offset - cap, data);
//   msi.Read(offset - cap, data);
//   // from a device thread:
//   msi.Trigger(vector);
//
// Offsets are relative to the capability's start; bytes 0-1 (ID and next
// pointer) belong to the owner's capability list and read as zero here.
// Accesses of any width and alignment work byte by byte; read-only fields
// (Multiple Message Capable, the 64-bit and masking flags, reserved bits,
// Pending Bits) keep their value when written.
//
// The guest enables 2^MME vectors (Multiple Message Enable, clamped to
// Multiple Message Capable). Vector i sends Message Data with its low MME
// bits replaced by i (§6.8.1.6). A vector is deliverable while MSI is
// enabled, i < 2^MME, its mask bit is clear and the message address is
// nonzero (an address of 0 is unprogrammed, not an interrupt). Trigger()
// on an enabled but undeliverable vector sets its pending bit instead; the
// vector fires once, and the bit clears, when it becomes deliverable.
// Disabling MSI drops what was pending: the function interrupts on INTx
// from then on, and a stale message after a later enable would be noise.
//
// Threading: Trigger() comes from device threads concurrently with Read()
// and Write() on vCPU threads (serialized by the owner); one mutex guards
// the registers. The sink is called with that mutex held, so one
// capability's route updates and fires are ordered, and the sink must not
// call back into this object.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>

#include "devices/pci/msix.h"

namespace mini_vmm::pci {

class MsiCapability {
 public:
  // MMC can say up to 32 vectors (values 6 and 7 are reserved).
  static constexpr uint8_t kMaxVectors = 32;

  // Bytes a capability with Message Control `control` spans, ID and next
  // pointer included: 10, 14, 20 or 24.
  static uint8_t SizeFor(uint16_t control);

  // `control` is the device's Message Control: its Multiple Message
  // Capable (clamped to 32 vectors), 64-bit and per-vector masking flags
  // are kept, the rest is ignored. `sink` must outlive this object.
  MsiCapability(uint16_t control, MsiSink& sink);
  MsiCapability(const MsiCapability&) = delete;
  MsiCapability& operator=(const MsiCapability&) = delete;

  uint8_t size() const { return size_; }
  uint8_t capable_vectors() const { return capable_; }
  // Offset of the Pending Bits dword from the capability's start; 0 without
  // per-vector masking (no Pending Bits). Fixed at construction.
  uint32_t pending_bits_offset() const { return pending_offset(); }

  // Guest accesses at `offset` from the capability's start. A set bit of
  // `also_pending` reads as a pending vector too (a passed-through device's
  // interrupts that wait outside this object), if that vector is enabled.
  void Read(uint32_t offset, std::span<uint8_t> data, uint32_t also_pending = 0) const;
  void Write(uint32_t offset, std::span<const uint8_t> data);

  // Device side: interrupt through `vector`. False if it was not delivered
  // now (pending, MSI disabled, or not an enabled vector).
  bool Trigger(uint8_t vector) noexcept;

  bool enabled() const;
  // 2^MME while MSI is enabled, else 0.
  uint8_t enabled_vectors() const;
  bool IsPending(uint8_t vector) const;
  // Back to power-on state (disabled, nothing masked or pending).
  void Reset();

 private:
  // Register offsets of this layout (which depend on the 64-bit flag).
  uint32_t data_offset() const;
  uint32_t mask_offset() const;     // 0 without per-vector masking.
  uint32_t pending_offset() const;  // 0 without per-vector masking.

  // Caller holds mutex_.
  uint16_t Control() const;
  uint32_t Reg32(uint32_t offset) const;
  std::optional<MsiMessage> Route(uint8_t vector) const;
  uint8_t enabled_vectors_locked() const;
  void Publish();  // Tells the sink what changed; fires what is deliverable and pending.

  MsiSink& sink_;
  uint8_t size_ = 0;
  uint8_t capable_ = 1;  // 2^MMC.
  bool wide_ = false;    // 64-bit Message Address.
  bool maskable_ = false;
  std::array<uint8_t, 24> write_mask_{};
  mutable std::mutex mutex_;
  std::array<uint8_t, 24> regs_{};  // Guarded by mutex_; guest-controlled where write_mask_ allows.
  uint32_t pending_ = 0;            // Guarded by mutex_.
  std::array<std::optional<MsiMessage>, kMaxVectors> published_{};  // Guarded by mutex_.
};

}  // namespace mini_vmm::pci
