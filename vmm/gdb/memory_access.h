// Guest-virtual memory as gdb sees it: translated page by page through a
// vCPU's page tables (Target::Translate), accessed as guest-physical memory
// (so read-only mappings do not stop a write to kernel text), and with
// gdb's own int3s hidden (reads show the guest's bytes; writes over a
// breakpoint update its saved byte and keep the int3).
//
// Accesses stop at the first byte that is not mapped or not guest RAM and
// report how many bytes were done; they never wrap past 2^64.
//
// Threading: the stub thread, with the target paused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "vmm/gdb/breakpoints.h"
#include "vmm/gdb/target.h"

namespace mini_vmm::gdb {

size_t ReadVirtual(Target& target, const Breakpoints& breakpoints, VcpuIndex vcpu, uint64_t address,
                   std::span<uint8_t> out);

size_t WriteVirtual(Target& target, Breakpoints& breakpoints, VcpuIndex vcpu, uint64_t address,
                    std::span<const uint8_t> in);

}  // namespace mini_vmm::gdb
