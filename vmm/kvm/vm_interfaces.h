// The narrow views of a KVM VM that the rest of mini-vmm wires devices and
// memory through. kvm::Vm implements them all; tests use the recording fake
// in tests/support/fake_vm.h, so device wiring, the memory map's memslots
// and the interrupt router are tested without /dev/kvm.
//
//   Result<void> Wire(kvm::IoEvents& io, kvm::IrqLines& irq) { ... }
//
// Threading: implementations are thread-safe (KVM's ioctls are; the fake
// takes a lock).
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <optional>
#include <span>

#include "vmm/base/event_fd.h"
#include "vmm/base/result.h"
#include "vmm/kvm/registration.h"
#include "vmm/memory/guest_address.h"

namespace mini_vmm::kvm {

enum class IoEventSpace { kPio, kMmio };

// A KVM memory slot; removed from KVM when destroyed, so the owner of the
// host mapping must destroy its Memslot first (declare it after the mapping).
class Memslot {
 public:
  Memslot(uint32_t slot, GuestAddress gpa, uint64_t size, Registration registration)
      : slot_(slot), gpa_(gpa), size_(size), registration_(std::move(registration)) {}

  uint32_t slot() const { return slot_; }
  GuestAddress guest_address() const { return gpa_; }
  uint64_t size() const { return size_; }

 private:
  uint32_t slot_;
  GuestAddress gpa_;
  uint64_t size_;
  Registration registration_;
};

// Guest-physical memory slots.
class MemslotTable {
 public:
  virtual ~MemslotTable() = default;
  // Maps [host, host + size) at `gpa`. `host` must stay mapped for the life
  // of the returned Memslot.
  virtual Result<Memslot> AddMemslot(GuestAddress gpa, uint64_t size, void* host,
                                     bool read_only = false) = 0;
};

// Doorbells: guest writes that signal an eventfd inside KVM.
class IoEvents {
 public:
  virtual ~IoEvents() = default;
  // Writes of `len` bytes to `address` (matching `datamatch` if given) will
  // signal `fd`. The eventfd must stay open while registered.
  virtual Result<IoEventFd> RegisterIoEvent(const EventFd& fd, IoEventSpace space,
                                            uint64_t address, uint32_t len,
                                            std::optional<uint64_t> datamatch) = 0;
};

// Interrupt lines and the GSI routing table.
class IrqLines {
 public:
  virtual ~IrqLines() = default;
  // Signalling `fd` raises `gsi`. With `resample`, the GSI is level-triggered:
  // KVM deasserts it on guest EOI and signals `resample`.
  virtual Result<IrqFd> RegisterIrqFd(const EventFd& fd, uint32_t gsi,
                                      const EventFd* resample = nullptr) = 0;
  // Sets a GSI's level (KVM_IRQ_LINE).
  virtual Result<void> SetIrqLine(uint32_t gsi, bool level) = 0;
  // Replaces the whole GSI routing table (KVM_SET_GSI_ROUTING).
  virtual Result<void> SetGsiRouting(std::span<const kvm_irq_routing_entry> routes) = 0;
};

}  // namespace mini_vmm::kvm
