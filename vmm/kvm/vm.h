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
#include "vmm/kvm/vm_interfaces.h"
#include "vmm/memory/guest_address.h"

namespace mini_vmm::kvm {

// State shared between the Vm and the registrations it hands out (their
// undo functions hold it, so the VM fd outlives them).
struct VmHandle {
  explicit VmHandle(UniqueFd vm_fd) : fd(std::move(vm_fd)) {}
  UniqueFd fd;
  std::mutex slot_mutex;
  std::vector<bool> slot_used;  // Guarded by slot_mutex.
};

class Vm final : public MemslotTable, public IoEvents, public IrqLines {
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

  // MemslotTable, IoEvents, IrqLines (vm_interfaces.h).
  Result<Memslot> AddMemslot(GuestAddress gpa, uint64_t size, void* host,
                             bool read_only = false) override;
  Result<IoEventFd> RegisterIoEvent(const EventFd& fd, IoEventSpace space, uint64_t address,
                                    uint32_t len, std::optional<uint64_t> datamatch) override;
  Result<IrqFd> RegisterIrqFd(const EventFd& fd, uint32_t gsi,
                              const EventFd* resample = nullptr) override;
  Result<void> SetIrqLine(uint32_t gsi, bool level) override;
  Result<void> SetGsiRouting(std::span<const kvm_irq_routing_entry> routes) override;

  Result<Vcpu> CreateVcpu(uint32_t id);

  int fd() const { return handle_->fd.get(); }

 private:
  Result<uint32_t> AllocateSlot();

  std::shared_ptr<VmHandle> handle_;
  size_t vcpu_mmap_size_;
};

}  // namespace mini_vmm::kvm
