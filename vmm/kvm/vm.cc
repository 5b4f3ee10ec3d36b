#include "vmm/kvm/vm.h"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>

#include "vmm/base/log.h"
#include "vmm/kvm/kvm_abi.h"

namespace mini_vmm::kvm {
namespace {

// KVM_CAP_NR_MEMSLOTS is at least 32 everywhere; 509 on x86 today. Slots are
// few (guest RAM regions, later VFIO BARs), so a fixed table is enough.
constexpr uint32_t kMaxSlots = 32;

}  // namespace

Vm::Vm(UniqueFd vm_fd, size_t vcpu_mmap_size)
    : handle_(std::make_shared<VmHandle>(std::move(vm_fd))), vcpu_mmap_size_(vcpu_mmap_size) {
  handle_->slot_used.assign(kMaxSlots, false);
}

Result<void> Vm::SetTssAddress(uint64_t address) {
  if (::ioctl(fd(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(address)) != 0) {
    return Error::Errno(errno, "KVM_SET_TSS_ADDR {:#x} failed", address);
  }
  return {};
}

Result<void> Vm::SetIdentityMapAddress(uint64_t address) {
  uint64_t addr = address;
  if (::ioctl(fd(), KVM_SET_IDENTITY_MAP_ADDR, &addr) != 0) {
    return Error::Errno(errno, "KVM_SET_IDENTITY_MAP_ADDR {:#x} failed", address);
  }
  return {};
}

Result<void> Vm::CreateIrqchip() {
  if (::ioctl(fd(), KVM_CREATE_IRQCHIP, 0) != 0) {
    return Error::Errno(errno, "cannot create the in-kernel interrupt controllers");
  }
  return {};
}

Result<kvm_pic_state> Vm::GetPicState(uint32_t chip) const {
  kvm_irqchip irqchip{};
  irqchip.chip_id = chip;
  if (::ioctl(fd(), KVM_GET_IRQCHIP, &irqchip) != 0) {
    return Error::Errno(errno, "cannot read the state of in-kernel PIC {}", chip);
  }
  return irqchip.chip.pic;
}

Result<void> Vm::SetPicState(uint32_t chip, const kvm_pic_state& state) {
  kvm_irqchip irqchip{};
  irqchip.chip_id = chip;
  irqchip.chip.pic = state;
  if (::ioctl(fd(), KVM_SET_IRQCHIP, &irqchip) != 0) {
    return Error::Errno(errno, "cannot set the state of in-kernel PIC {}", chip);
  }
  return {};
}

Result<void> Vm::CreatePit2() {
  kvm_pit_config config{};
  config.flags = KVM_PIT_SPEAKER_DUMMY;
  if (::ioctl(fd(), KVM_CREATE_PIT2, &config) != 0) {
    return Error::Errno(errno, "cannot create the in-kernel PIT");
  }
  return {};
}

Result<uint32_t> Vm::AllocateSlot() {
  std::lock_guard lock(handle_->slot_mutex);
  for (uint32_t i = 0; i < handle_->slot_used.size(); ++i) {
    if (!handle_->slot_used[i]) {
      handle_->slot_used[i] = true;
      return i;
    }
  }
  return Error::Invalid("all {} KVM memory slots are in use", kMaxSlots);
}

Result<Memslot> Vm::AddMemslot(GuestAddress gpa, uint64_t size, void* host, bool read_only) {
  const uint32_t slot = TRY(AllocateSlot());
  kvm_userspace_memory_region region{};
  region.slot = slot;
  region.flags = read_only ? KVM_MEM_READONLY : 0;
  region.guest_phys_addr = gpa.value();
  region.memory_size = size;
  region.userspace_addr = reinterpret_cast<uint64_t>(host);
  if (::ioctl(fd(), KVM_SET_USER_MEMORY_REGION, &region) != 0) {
    const int err = errno;
    std::lock_guard lock(handle_->slot_mutex);
    handle_->slot_used[slot] = false;
    return Error::Errno(err, "cannot map {} MiB of guest memory at {:#x}", size >> 20, gpa.value());
  }
  return Memslot(slot, gpa, size, Registration([vm = handle_, slot] {
                   // A slot with size 0 is deleted (KVM_SET_USER_MEMORY_REGION).
                   kvm_userspace_memory_region gone{};
                   gone.slot = slot;
                   if (::ioctl(vm->fd.get(), KVM_SET_USER_MEMORY_REGION, &gone) != 0) {
                     LOG_ERROR("cannot delete KVM memory slot {}: errno {}", slot, errno);
                     return;  // Keep the slot marked used: it still exists in KVM.
                   }
                   std::lock_guard lock(vm->slot_mutex);
                   vm->slot_used[slot] = false;
                 }));
}

Result<IoEventFd> Vm::RegisterIoEvent(const EventFd& efd, IoEventSpace space, uint64_t address,
                                      uint32_t len, std::optional<uint64_t> datamatch) {
  kvm_ioeventfd spec{};
  spec.addr = address;
  spec.len = len;
  spec.fd = efd.fd();
  if (space == IoEventSpace::kPio) spec.flags |= KVM_IOEVENTFD_FLAG_PIO;
  if (datamatch) {
    spec.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
    spec.datamatch = *datamatch;
  }
  if (::ioctl(fd(), KVM_IOEVENTFD, &spec) != 0) {
    return Error::Errno(errno, "cannot register an ioeventfd at {:#x}", address);
  }
  return IoEventFd([vm = handle_, spec] {
    kvm_ioeventfd gone = spec;
    gone.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
    if (::ioctl(vm->fd.get(), KVM_IOEVENTFD, &gone) != 0) {
      LOG_ERROR("cannot deassign ioeventfd at {:#x}: errno {}", spec.addr, errno);
    }
  });
}

Result<IrqFd> Vm::RegisterIrqFd(const EventFd& efd, uint32_t gsi, const EventFd* resample) {
  kvm_irqfd spec{};
  spec.fd = static_cast<uint32_t>(efd.fd());
  spec.gsi = gsi;
  if (resample != nullptr) {
    spec.flags = KVM_IRQFD_FLAG_RESAMPLE;
    spec.resamplefd = static_cast<uint32_t>(resample->fd());
  }
  if (::ioctl(fd(), KVM_IRQFD, &spec) != 0) {
    return Error::Errno(errno, "cannot register an irqfd for GSI {}", gsi);
  }
  return IrqFd([vm = handle_, spec] {
    kvm_irqfd gone = spec;
    gone.flags = KVM_IRQFD_FLAG_DEASSIGN;
    if (::ioctl(vm->fd.get(), KVM_IRQFD, &gone) != 0) {
      LOG_ERROR("cannot deassign irqfd for GSI {}: errno {}", spec.gsi, errno);
    }
  });
}

Result<void> Vm::SetIrqLine(uint32_t gsi, bool level) {
  kvm_irq_level irq{};
  irq.irq = gsi;
  irq.level = level ? 1 : 0;
  if (::ioctl(fd(), KVM_IRQ_LINE, &irq) != 0) {
    return Error::Errno(errno, "KVM_IRQ_LINE for GSI {} failed", gsi);
  }
  return {};
}

Result<void> Vm::SetGsiRouting(std::span<const kvm_irq_routing_entry> routes) {
  abi::FlexBuffer<abi::IrqRoutingHeader, kvm_irq_routing_entry> buffer(routes.size());
  buffer.header()->nr = static_cast<uint32_t>(routes.size());
  std::copy(routes.begin(), routes.end(), buffer.entries());
  if (::ioctl(fd(), abi::kSetGsiRouting, buffer.data()) != 0) {
    return Error::Errno(errno, "cannot set the GSI routing table ({} routes)", routes.size());
  }
  return {};
}

Result<Vcpu> Vm::CreateVcpu(uint32_t id) {
  UniqueFd vcpu_fd(::ioctl(fd(), KVM_CREATE_VCPU, static_cast<unsigned long>(id)));
  if (!vcpu_fd.valid()) return Error::Errno(errno, "cannot create vCPU {}", id);
  void* run =
      ::mmap(nullptr, vcpu_mmap_size_, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd.get(), 0);
  if (run == MAP_FAILED) return Error::Errno(errno, "cannot map kvm_run of vCPU {}", id);
  return Vcpu(id, std::move(vcpu_fd), MmapRegion::Adopt(run, vcpu_mmap_size_));
}

}  // namespace mini_vmm::kvm
