// Vm: one KVM virtual machine. Owns the VM fd (shared with the registrations
// it hands out, so the fd outlives every memslot, ioeventfd and irqfd).
//
//   Vm vm = TRY(kvm.CreateVm());
//   TRY(vm.CreateIrqchip());
//   Memslot ram = TRY(vm.AddMemslot(GuestAddress(0), region.size(), region.host_address()));
//   IoEventFd doorbell = TRY(vm.RegisterIoEvent(efd, IoEventSpace::kMmio, addr, 4, queue_index));
//   IrqFd irq = TRY(vm.RegisterIrqFd(irq_efd, /*gsi=*/5));
//   Vcpu vcpu = TRY(vm.CreateVcpu(0));
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "vmm/base/event_fd.h"
#include "vmm/base/result.h"
#include "vmm/base/unique_fd.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/memory/guest_address.h"

namespace mini_vmm::kvm {

// State shared between the Vm and the registrations it hands out.
struct VmHandle {
  explicit VmHandle(UniqueFd vm_fd) : fd(std::move(vm_fd)) {}
  UniqueFd fd;
  std::mutex slot_mutex;
  std::vector<bool> slot_used;  // Guarded by slot_mutex.
};

// A KVM memory slot; removed from KVM when destroyed, so the owner of the
// host mapping must destroy its Memslot first (declare it after the mapping).
class Memslot {
 public:
  Memslot(Memslot&& other) noexcept;
  Memslot& operator=(Memslot&&) = delete;
  Memslot(const Memslot&) = delete;
  Memslot& operator=(const Memslot&) = delete;
  ~Memslot();

  uint32_t slot() const { return slot_; }
  GuestAddress guest_address() const { return gpa_; }
  uint64_t size() const { return size_; }

 private:
  friend class Vm;
  Memslot(std::shared_ptr<VmHandle> vm, uint32_t slot, GuestAddress gpa, uint64_t size)
      : vm_(std::move(vm)), slot_(slot), gpa_(gpa), size_(size) {}

  std::shared_ptr<VmHandle> vm_;
  uint32_t slot_;
  GuestAddress gpa_;
  uint64_t size_;
};

enum class IoEventSpace { kPio, kMmio };

// A registered ioeventfd: guest writes to the address signal the eventfd
// inside KVM, without an exit to userspace. Deassigned when destroyed.
class IoEventFd {
 public:
  IoEventFd(IoEventFd&& other) noexcept;
  IoEventFd& operator=(IoEventFd&&) = delete;
  IoEventFd(const IoEventFd&) = delete;
  IoEventFd& operator=(const IoEventFd&) = delete;
  ~IoEventFd();

 private:
  friend class Vm;
  IoEventFd(std::shared_ptr<VmHandle> vm, kvm_ioeventfd spec) : vm_(std::move(vm)), spec_(spec) {}

  std::shared_ptr<VmHandle> vm_;
  kvm_ioeventfd spec_;
};

// A registered irqfd: signalling the eventfd injects the GSI inside KVM.
// Deassigned when destroyed.
class IrqFd {
 public:
  IrqFd(IrqFd&& other) noexcept;
  IrqFd& operator=(IrqFd&&) = delete;
  IrqFd(const IrqFd&) = delete;
  IrqFd& operator=(const IrqFd&) = delete;
  ~IrqFd();

 private:
  friend class Vm;
  IrqFd(std::shared_ptr<VmHandle> vm, kvm_irqfd spec) : vm_(std::move(vm)), spec_(spec) {}

  std::shared_ptr<VmHandle> vm_;
  kvm_irqfd spec_;
};

class Vm {
 public:
  Vm(UniqueFd vm_fd, size_t vcpu_mmap_size);

  Vm(Vm&&) noexcept = default;
  Vm& operator=(Vm&&) noexcept = default;
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  // x86 setup that must precede vCPU creation.
  Result<void> SetTssAddress(uint64_t address);
  Result<void> SetIdentityMapAddress(uint64_t address);
  // In-kernel 8259 PICs, IOAPIC and LAPICs, with KVM's default GSI routing
  // (GSI 0-15 to both PIC and IOAPIC, 16-23 to the IOAPIC).
  Result<void> CreateIrqchip();
  // One in-kernel 8259 (KVM_IRQCHIP_PIC_MASTER or _SLAVE) after
  // CreateIrqchip(): KVM_GET_IRQCHIP / KVM_SET_IRQCHIP.
  Result<kvm_pic_state> GetPicState(uint32_t chip) const;
  Result<void> SetPicState(uint32_t chip, const kvm_pic_state& state);
  // In-kernel PIT; port 0x61's speaker bits are emulated as a dummy.
  Result<void> CreatePit2();

  // Maps [host, host + size) at `gpa`. `host` must stay mapped for the life
  // of the returned Memslot.
  Result<Memslot> AddMemslot(GuestAddress gpa, uint64_t size, void* host, bool read_only = false);

  // Writes of `len` bytes to `address` (matching `datamatch` if given) will
  // signal `fd`. The eventfd must stay open while registered.
  Result<IoEventFd> RegisterIoEvent(const EventFd& fd, IoEventSpace space, uint64_t address,
                                    uint32_t len, std::optional<uint64_t> datamatch);
  // Signalling `fd` raises `gsi`. With `resample`, the GSI is level-triggered:
  // KVM deasserts it on guest EOI and signals `resample`.
  Result<IrqFd> RegisterIrqFd(const EventFd& fd, uint32_t gsi, const EventFd* resample = nullptr);
  // Sets a GSI's level (KVM_IRQ_LINE).
  Result<void> SetIrqLine(uint32_t gsi, bool level);
  // Replaces the whole GSI routing table (KVM_SET_GSI_ROUTING).
  Result<void> SetGsiRouting(std::span<const kvm_irq_routing_entry> routes);

  Result<Vcpu> CreateVcpu(uint32_t id);

  int fd() const { return handle_->fd.get(); }

 private:
  Result<uint32_t> AllocateSlot();

  std::shared_ptr<VmHandle> handle_;
  size_t vcpu_mmap_size_;
};

}  // namespace mini_vmm::kvm
