// Target: what the GDB stub needs of a virtual machine, and nothing else,
// so the command layer (session.h) is tested against a fake and the KVM
// side stays a thin adapter.
//
// gdb threads are vCPUs: thread id n on the wire is vCPU n - 1 (gdb
// reserves 0 for "any" and -1 for "all").
//
// Threading contract: every method is called from the stub's one thread
// while all vCPUs are paused (all-stop), except that Resume() lets them
// run. A running target reports its next stop asynchronously; the stub's
// owner delivers it to Session::OnStop() on the stub thread. PauseAll() is
// synchronous. After a stop is reported, every vCPU is paused again before
// the report reaches the session.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "vmm/base/result.h"
#include "vmm/gdb/x86_64_registers.h"

namespace mini_vmm::gdb {

using VcpuIndex = uint32_t;

// x86 has four debug address registers (DR0-DR3).
inline constexpr size_t kDebugRegisterCount = 4;

// A debug-register breakpoint or watchpoint, in DR7 terms (Intel SDM vol.
// 3, 18.2.4): execute (R/W 00, length 1), write (01) or read/write (11).
// There is no read-only kind on x86.
struct HardwareBreakpoint {
  enum class Kind : uint8_t { kExecute, kWrite, kReadWrite };
  Kind kind;
  uint64_t address;  // A guest-virtual (linear) address.
  uint8_t length;    // 1, 2, 4 or 8, and `address` is aligned to it.
  bool operator==(const HardwareBreakpoint&) const = default;
};
using HardwareBreakpoints = std::array<std::optional<HardwareBreakpoint>, kDebugRegisterCount>;

// What one vCPU does on Resume().
enum class ResumeMode : uint8_t {
  kStay,      // Stays paused.
  kContinue,  // Runs.
  kStep,      // Executes one instruction, with interrupts masked, and stops.
};

struct ResumeAction {
  ResumeMode mode = ResumeMode::kStay;
  // Deliver #BP to the guest before it runs: the guest executed an int3
  // that gdb did not plant, and it must see its own breakpoint exception.
  bool inject_breakpoint = false;
};

// Why the target stopped; reported once per Resume().
struct StopEvent {
  enum class Reason : uint8_t {
    kSoftwareBreakpoint,  // #BP; `pc` is the address of the int3.
    kHardwareBreakpoint,  // A debug register matched; `slot` says which.
    kStep,                // A single step finished.
    kPaused,              // Stopped for another reason (the host paused it).
  };
  VcpuIndex vcpu = 0;
  Reason reason = Reason::kPaused;
  uint64_t pc = 0;
  uint32_t slot = 0;  // DR6 B0-B3, for kHardwareBreakpoint.
};

// A guest-virtual address translated by the guest's own page tables.
struct Translation {
  uint64_t physical;           // The guest-physical address of the byte.
  uint64_t bytes_to_page_end;  // Bytes from `physical` to the end of its page (>= 1).
};

class Target {
 public:
  virtual ~Target() = default;

  // Number of vCPUs, at least 1; fixed for the target's lifetime.
  virtual uint32_t VcpuCount() const = 0;

  virtual Result<void> ReadRegisters(VcpuIndex vcpu, RegisterFile& out) = 0;
  // May refuse values the vCPU cannot take (e.g. a reserved CR4 bit).
  virtual Result<void> WriteRegisters(VcpuIndex vcpu, const RegisterFile& in) = 0;

  // Walks `vcpu`'s page tables; nullopt if `address` is not mapped.
  virtual std::optional<Translation> Translate(VcpuIndex vcpu, uint64_t address) = 0;
  // Guest-physical accesses; false if any byte is not guest RAM.
  virtual bool ReadPhysical(uint64_t address, std::span<uint8_t> out) = 0;
  virtual bool WritePhysical(uint64_t address, std::span<const uint8_t> in) = 0;

  // Programs the debug registers of every vCPU.
  virtual Result<void> SetHardwareBreakpoints(const HardwareBreakpoints& breakpoints) = 0;

  // Lets the vCPUs run as `actions` (one per vCPU) say. Software
  // breakpoints (int3 exits) are reported while a session is attached.
  virtual void Resume(std::span<const ResumeAction> actions) = 0;
  // Pauses every vCPU and returns when all are outside the guest.
  virtual void PauseAll() = 0;
  // gdb detached: debugging off on every vCPU (no more stop reports, int3
  // goes to the guest again), and every vCPU runs.
  virtual void Detach() = 0;
  // gdb's `kill`: end the virtual machine.
  virtual void Kill() = 0;
};

}  // namespace mini_vmm::gdb
