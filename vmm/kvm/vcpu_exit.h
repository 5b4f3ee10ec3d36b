// Typed vCPU exits: KVM_RUN's result decoded once, so the dispatcher is one
// std::visit and can be unit-tested with fabricated exits, without /dev/kvm.
#pragma once

#include <linux/kvm.h>

#include <array>
#include <cstdint>
#include <span>
#include <variant>

namespace mini_vmm::kvm {

// Port I/O. `data` points into kvm_run: for reads the handler fills it and
// KVM completes the instruction on the next KVM_RUN. A string instruction
// (rep ins/outs) transfers `count` items of `size` bytes back to back.
struct IoExit {
  uint16_t port;
  uint8_t size;
  uint32_t count;
  bool is_write;
  std::span<uint8_t> data;  // count * size bytes
};

// MMIO to an address with no memslot. Same completion rule as IoExit.
struct MmioExit {
  uint64_t address;
  bool is_write;
  std::span<uint8_t> data;  // 1 to 8 bytes
};

struct HltExit {};
// Triple fault (or INIT on the BSP): the VM cannot continue.
struct ShutdownExit {};
struct FailEntryExit {
  uint64_t hardware_reason;
  uint32_t cpu;
};
struct InternalErrorExit {
  uint32_t suberror;
  std::array<uint64_t, 16> words;  // kvm_run::internal.data
  uint32_t count;                  // Valid words (ndata, at most 16).
  std::span<const uint64_t> data() const { return {words.data(), count}; }
};
// KVM_SYSTEM_EVENT_{SHUTDOWN,RESET,CRASH}, e.g. a PSCI call or a Hyper-V
// crash MSR write.
struct SystemEventExit {
  uint32_t type;
};
struct DebugExit {
  kvm_debug_exit_arch arch;
};
// KVM_RUN returned EINTR/EAGAIN, or immediate_exit was set: check for a
// stop request and run again.
struct InterruptedExit {};
// KVM_RUN failed with another errno.
struct RunFailedExit {
  int error;
};
struct UnknownExit {
  uint32_t reason;
};

using VcpuExit =
    std::variant<IoExit, MmioExit, HltExit, ShutdownExit, FailEntryExit, InternalErrorExit,
                 SystemEventExit, DebugExit, InterruptedExit, RunFailedExit, UnknownExit>;

// Decodes the exit KVM left in `run` (of `run_size` bytes, the vCPU mmap
// size). Never reads outside the mapping: an I/O data window that does not
// fit becomes an UnknownExit.
VcpuExit DecodeExit(kvm_run& run, size_t run_size) noexcept;

}  // namespace mini_vmm::kvm
