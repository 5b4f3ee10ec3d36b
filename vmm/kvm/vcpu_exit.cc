#include "vmm/kvm/vcpu_exit.h"

#include <algorithm>

namespace mini_vmm::kvm {
namespace {

VcpuExit DecodeIo(kvm_run& run, size_t run_size) {
  const auto& io = run.io;
  const uint64_t bytes = uint64_t{io.size} * io.count;
  if (io.size == 0 || io.data_offset > run_size || bytes > run_size - io.data_offset) {
    return UnknownExit{run.exit_reason};
  }
  auto* base = reinterpret_cast<uint8_t*>(&run);
  return IoExit{io.port, io.size, io.count, io.direction == KVM_EXIT_IO_OUT,
                std::span<uint8_t>(base + io.data_offset, static_cast<size_t>(bytes))};
}

VcpuExit DecodeMmio(kvm_run& run) {
  const auto& mmio = run.mmio;
  const size_t len = std::min<size_t>(mmio.len, sizeof(mmio.data));
  return MmioExit{mmio.phys_addr, mmio.is_write != 0, std::span<uint8_t>(run.mmio.data, len)};
}

VcpuExit DecodeInternalError(const kvm_run& run) {
  const auto& internal = run.internal;
  InternalErrorExit exit{internal.suberror, {}, 0};
  exit.count = std::min<uint32_t>(internal.ndata, static_cast<uint32_t>(exit.words.size()));
  std::copy_n(internal.data, exit.count, exit.words.begin());
  return exit;
}

}  // namespace

VcpuExit DecodeExit(kvm_run& run, size_t run_size) noexcept {
  switch (run.exit_reason) {
    case KVM_EXIT_IO:
      return DecodeIo(run, run_size);
    case KVM_EXIT_MMIO:
      return DecodeMmio(run);
    case KVM_EXIT_HLT:
      return HltExit{};
    case KVM_EXIT_SHUTDOWN:
      return ShutdownExit{};
    case KVM_EXIT_FAIL_ENTRY:
      return FailEntryExit{run.fail_entry.hardware_entry_failure_reason, run.fail_entry.cpu};
    case KVM_EXIT_INTERNAL_ERROR:
      return DecodeInternalError(run);
    case KVM_EXIT_SYSTEM_EVENT:
      return SystemEventExit{run.system_event.type};
    case KVM_EXIT_DEBUG:
      return DebugExit{run.debug.arch};
    case KVM_EXIT_INTR:
      return InterruptedExit{};
    default:
      return UnknownExit{run.exit_reason};
  }
}

}  // namespace mini_vmm::kvm
