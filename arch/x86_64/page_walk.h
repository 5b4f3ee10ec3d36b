// Translates a guest-virtual (linear) address the way the guest's MMU
// would, by walking its page tables in guest RAM. For the GDB stub (which
// gets addresses from gdb in the kernel's virtual address space) and any
// other host-side reader of guest virtual memory.
//
// Supported: paging off (linear = physical, below 4 GiB), and long mode
// with 4-level (48-bit) or 5-level (57-bit, CR4.LA57) paging, with 4 KiB,
// 2 MiB and 1 GiB pages. 32-bit and PAE paging outside long mode report
// kUnsupportedMode: the 64-bit boot protocol enters the kernel in long
// mode, so a stub only meets them in firmware or a 32-bit guest.
//
// The tables are guest-controlled: every entry is read through
// GuestMemory, a table outside guest RAM ends the walk (kTableNotInRam),
// and the walk is at most five reads. Permission bits (U/S, R/W, NX) are
// not checked: the debugger may look at anything mapped. Physical address
// bits come from entry bits 51:12 (the architectural maximum), so a
// guest-set bit above the CPU's MAXPHYADDR yields an address that is then
// simply not guest RAM.
//
//   PagingState paging{.cr0 = sregs.cr0, .cr3 = sregs.cr3, .cr4 = sregs.cr4, .efer = sregs.efer};
//   PageWalk walk = TranslateVirtual(memory, paging, 0xffffffff81000000);
//   if (walk.ok()) memory.Read(walk.physical, ...);  // up to walk.BytesToPageEnd(...)
//
// Threading: pure function of its arguments and guest memory; the caller
// pauses the vCPU whose CR3 it uses if the tables must not change under it.
#pragma once

#include <cstdint>

#include "vmm/memory/guest_address.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::arch::x86_64 {

// The control registers that select the paging mode and the table root.
struct PagingState {
  uint64_t cr0 = 0;
  uint64_t cr3 = 0;
  uint64_t cr4 = 0;
  uint64_t efer = 0;
};

enum class WalkFault {
  kNone,
  kNonCanonical,     // Bits above the linear-address width are not a sign extension.
  kNotPresent,       // An entry on the way has P = 0.
  kTableNotInRam,    // A table (or CR3) points outside guest RAM.
  kUnsupportedMode,  // 32-bit or PAE paging outside long mode.
};

struct PageWalk {
  WalkFault fault = WalkFault::kNone;
  GuestAddress physical;   // The byte's guest-physical address, when ok().
  uint64_t page_size = 0;  // 4 KiB, 2 MiB or 1 GiB (4 KiB for paging off).

  bool ok() const { return fault == WalkFault::kNone; }
  // Bytes from the translated byte to the end of its page.
  uint64_t BytesToPageEnd() const { return page_size - (physical.value() & (page_size - 1)); }
};

PageWalk TranslateVirtual(const GuestMemory& memory, const PagingState& paging,
                          uint64_t linear_address);

}  // namespace mini_vmm::arch::x86_64
