// Breakpoints: gdb's software breakpoints (int3 bytes planted in guest
// memory) and the four debug registers shared by hardware breakpoints and
// watchpoints. Owns the bookkeeping and applies it through the Target.
//
// Software breakpoints are planted by guest-physical address: the address
// is translated once, when gdb sets it, and the int3 is written through
// guest RAM. So a breakpoint in kernel text works although the guest maps
// its text read-only, and removing it restores the byte at the same
// physical place even if the guest's mappings changed meanwhile. A byte the
// guest overwrote since (its own code patching) is left alone on removal.
//
// Hardware breakpoints and watchpoints are limited to what DR7 can
// express: lengths 1, 2, 4 and 8 at an address aligned to the length,
// execute breakpoints of length 1, and four in all. Anything else is an
// error for gdb, never silently widened into a larger range.
//
// Threading: the stub thread only (like the Target's calls).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "vmm/gdb/target.h"

namespace mini_vmm::gdb {

// gdb's breakpoint types, the digit after Z and z.
enum class BreakpointType : uint8_t {
  kSoftware = 0,
  kHardware = 1,
  kWriteWatch = 2,
  kReadWatch = 3,
  kAccessWatch = 4,
};

enum class BreakpointStatus {
  kOk,
  kInvalid,   // Length, alignment or kind x86 cannot do.
  kNoSpace,   // Every debug register, or the software table, is in use.
  kFault,     // The address is not mapped, or not guest RAM.
  kNotFound,  // Removing a breakpoint that is not set.
  kTargetError,
};

class Breakpoints {
 public:
  // Software breakpoints gdb may set at once; the table never grows beyond.
  static constexpr size_t kMaxSoftware = 1024;
  static constexpr uint8_t kInt3 = 0xcc;

  // A debug register in use: what gdb asked for, which the stop reply needs.
  struct Slot {
    BreakpointType type;
    uint64_t address;
    uint8_t length;
  };

  explicit Breakpoints(Target& target) : target_(target) {}

  // Z: sets a breakpoint; setting one that is already set is a no-op (gdb
  // re-inserts after reconnecting). Software breakpoints translate
  // `address` through `vcpu`'s page tables.
  BreakpointStatus Insert(BreakpointType type, uint64_t address, uint64_t length, VcpuIndex vcpu);
  // z: removes it.
  BreakpointStatus Remove(BreakpointType type, uint64_t address, uint64_t length);
  // Removes everything (detach): original bytes back, debug registers clear.
  void RemoveAll();

  // Whether gdb has a software breakpoint at guest-virtual `address`.
  bool HasSoftware(uint64_t address) const;
  size_t software_count() const { return software_.size(); }

  // Stepping off a software breakpoint: puts the original byte back at
  // `address` (Lift) for one step, then plants the int3 again (Rearm).
  // Both are no-ops where gdb has no breakpoint.
  void Lift(uint64_t address);
  void Rearm(uint64_t address);

  // The debug register `index` (0-3), if in use.
  const std::optional<Slot>& slot(size_t index) const { return slots_.at(index); }

  // Replaces bytes in `data`, read from guest-physical `physical`, that are
  // planted int3s with the guest's original bytes, so gdb sees guest code.
  void HideInt3s(uint64_t physical, std::span<uint8_t> data) const;
  // After gdb wrote `data` at `physical`: the written bytes become the new
  // originals of any breakpoint there, and the int3s are planted again.
  void AfterWrite(uint64_t physical, std::span<const uint8_t> data);

 private:
  struct Software {
    uint64_t address;   // Guest-virtual, as gdb gave it.
    uint64_t physical;  // Where the int3 is.
    uint8_t original;   // The guest's byte.
    bool planted;       // False while lifted for a step.
  };

  BreakpointStatus InsertSoftware(uint64_t address, VcpuIndex vcpu);
  BreakpointStatus RemoveSoftware(uint64_t address);
  BreakpointStatus InsertHardware(BreakpointType type, uint64_t address, uint64_t length);
  BreakpointStatus RemoveHardware(BreakpointType type, uint64_t address, uint64_t length);
  BreakpointStatus ApplySlots();
  // Writes the original byte back if the int3 is still there.
  void Restore(const Software& breakpoint);
  Software* FindSoftware(uint64_t address);

  Target& target_;
  std::vector<Software> software_;  // At most kMaxSoftware.
  std::array<std::optional<Slot>, kDebugRegisterCount> slots_;
};

}  // namespace mini_vmm::gdb
