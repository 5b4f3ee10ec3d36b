// One line per traced vCPU exit, for a kernel developer's eyes and grep:
//
//   vcpu0 pio out port=0x3f8 size=1 data=0x41 | ffffffff8155fe21: ee  out dx, al
//   vcpu1 mmio read addr=0xfee00030 size=4 data=0x00050014 | ...: 8b 07  mov eax, dword ptr [rdi]
//   vcpu0 pio in port=0x60 size=1 count=4 data=0xff,0xff,0xff,0xff | ...
//   vcpu0 hlt
//
// `data` is the value moved, little-endian as the CPU sees it: what the
// guest wrote, or what mini-vmm answered to a read (so format after the
// exit was handled). String I/O (rep ins/outs) shows the first
// kMaxTracedItems items. Pure: no KVM, no guest memory; the caller adds
// the instruction (vmm/runtime/exit_tracer.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vmm/kvm/vcpu_exit.h"

namespace mini_vmm::trace {

inline constexpr uint32_t kMaxTracedItems = 8;

// The exit's line without a newline. `instruction` (empty: none) follows
// " | ".
std::string FormatExit(uint32_t vcpu, const kvm::VcpuExit& exit, std::string_view instruction);

}  // namespace mini_vmm::trace
