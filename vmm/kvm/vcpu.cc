#include "vmm/kvm/vcpu.h"

#include <sys/ioctl.h>

#include <atomic>
#include <cerrno>
#include <memory>

#include "vmm/kvm/kvm_abi.h"

namespace mini_vmm::kvm {
namespace {

template <typename T>
Result<T> GetState(int fd, unsigned long request, const char* what, uint32_t id) {
  T state{};
  if (::ioctl(fd, request, &state) != 0) {
    return Error::Errno(errno, "cannot read {} of vCPU {}", what, id);
  }
  return state;
}

template <typename T>
Result<void> SetState(int fd, unsigned long request, const T& state, const char* what,
                      uint32_t id) {
  if (::ioctl(fd, request, &state) != 0) {
    return Error::Errno(errno, "cannot set {} of vCPU {}", what, id);
  }
  return {};
}

}  // namespace

Vcpu::Vcpu(uint32_t id, UniqueFd fd, MmapRegion run)
    : id_(id), fd_(std::move(fd)), run_(std::move(run)) {}

VcpuExit Vcpu::Run() noexcept {
  if (::ioctl(fd_.get(), KVM_RUN, 0) != 0) {
    if (errno == EINTR || errno == EAGAIN) return InterruptedExit{};
    return RunFailedExit{errno};
  }
  return DecodeExit(*run(), run_.size());
}

void Vcpu::RequestExit() noexcept {
  // Read by KVM on entry to KVM_RUN in this vCPU's thread; the thread signal
  // that follows provides the ordering for a vCPU already in the guest.
  std::atomic_ref<uint8_t>(run()->immediate_exit).store(1, std::memory_order_release);
}

void Vcpu::ClearExitRequest() noexcept {
  std::atomic_ref<uint8_t>(run()->immediate_exit).store(0, std::memory_order_relaxed);
}

Result<kvm_regs> Vcpu::GetRegs() const {
  return GetState<kvm_regs>(fd_.get(), KVM_GET_REGS, "registers", id_);
}
Result<void> Vcpu::SetRegs(const kvm_regs& regs) {
  return SetState(fd_.get(), KVM_SET_REGS, regs, "registers", id_);
}
Result<kvm_sregs> Vcpu::GetSregs() const {
  return GetState<kvm_sregs>(fd_.get(), KVM_GET_SREGS, "special registers", id_);
}
Result<void> Vcpu::SetSregs(const kvm_sregs& sregs) {
  return SetState(fd_.get(), KVM_SET_SREGS, sregs, "special registers", id_);
}
Result<kvm_fpu> Vcpu::GetFpu() const {
  return GetState<kvm_fpu>(fd_.get(), KVM_GET_FPU, "FPU state", id_);
}
Result<void> Vcpu::SetFpu(const kvm_fpu& fpu) {
  return SetState(fd_.get(), KVM_SET_FPU, fpu, "FPU state", id_);
}
Result<kvm_lapic_state> Vcpu::GetLapic() const {
  return GetState<kvm_lapic_state>(fd_.get(), KVM_GET_LAPIC, "local APIC", id_);
}
Result<void> Vcpu::SetLapic(const kvm_lapic_state& lapic) {
  return SetState(fd_.get(), KVM_SET_LAPIC, lapic, "local APIC", id_);
}
Result<kvm_mp_state> Vcpu::GetMpState() const {
  return GetState<kvm_mp_state>(fd_.get(), KVM_GET_MP_STATE, "MP state", id_);
}
Result<void> Vcpu::SetGuestDebug(const kvm_guest_debug& debug) {
  return SetState(fd_.get(), KVM_SET_GUEST_DEBUG, debug, "guest debug state", id_);
}

Result<void> Vcpu::SetCpuid(std::span<const kvm_cpuid_entry2> entries) {
  abi::FlexBuffer<abi::Cpuid2Header, kvm_cpuid_entry2> buffer(entries.size());
  buffer.header()->nent = static_cast<uint32_t>(entries.size());
  std::copy(entries.begin(), entries.end(), buffer.entries());
  if (::ioctl(fd_.get(), abi::kSetCpuid2, buffer.data()) != 0) {
    return Error::Errno(errno, "cannot set CPUID of vCPU {}", id_);
  }
  return {};
}

Result<void> Vcpu::SetMsrs(std::span<const kvm_msr_entry> entries) {
  abi::FlexBuffer<abi::MsrsHeader, kvm_msr_entry> buffer(entries.size());
  buffer.header()->nmsrs = static_cast<uint32_t>(entries.size());
  std::copy(entries.begin(), entries.end(), buffer.entries());
  // KVM_SET_MSRS returns how many entries it set, stopping at the first
  // failure.
  const int set = ::ioctl(fd_.get(), abi::kSetMsrs, buffer.data());
  if (set < 0) return Error::Errno(errno, "cannot set MSRs of vCPU {}", id_);
  if (static_cast<size_t>(set) != entries.size()) {
    return Error::Invalid("KVM refused MSR {:#x} on vCPU {}",
                          entries[static_cast<size_t>(set)].index, id_);
  }
  return {};
}

Result<std::vector<kvm_msr_entry>> Vcpu::GetMsrs(std::span<const uint32_t> indices) const {
  abi::FlexBuffer<abi::MsrsHeader, kvm_msr_entry> buffer(indices.size());
  buffer.header()->nmsrs = static_cast<uint32_t>(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) buffer.entries()[i] = kvm_msr_entry{indices[i], 0, 0};
  const int got = ::ioctl(fd_.get(), abi::kGetMsrs, buffer.data());
  if (got < 0) return Error::Errno(errno, "cannot read MSRs of vCPU {}", id_);
  return std::vector<kvm_msr_entry>(buffer.entries(), buffer.entries() + got);
}

Result<kvm_translation> Vcpu::Translate(uint64_t guest_virtual) const {
  kvm_translation tr{};
  tr.linear_address = guest_virtual;
  if (::ioctl(fd_.get(), KVM_TRANSLATE, &tr) != 0) {
    return Error::Errno(errno, "cannot translate {:#x} on vCPU {}", guest_virtual, id_);
  }
  return tr;
}

}  // namespace mini_vmm::kvm
