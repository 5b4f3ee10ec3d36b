// Which vCPU exits `--trace-exits=FILTER` traces. FILTER is a comma-
// separated list of terms, each widening the set (an exit is traced if any
// term matches it):
//
//   all                  every exit (the default with a bare --trace-exits)
//   pio | mmio | hlt     port I/O, MMIO, HLT exits
//   debug | intr         debug exits; host kicks (KVM_RUN interrupted: pause,
//                        stop, the once-a-second park check)
//   other                shutdown, failed entry, internal error, system
//                        event, KVM_RUN failure, unknown reasons
//   pio=RANGE            port I/O to ports in RANGE only
//   mmio=RANGE           MMIO to addresses in RANGE only
//
// RANGE is ADDR (one port or byte), FIRST-LAST (inclusive) or BASE+LENGTH;
// numbers are hex with 0x, or decimal. An access matches if any of its
// bytes is in the range. Examples:
//
//   --trace-exits=pio=0x3f8-0x3ff            the 16550 at COM1
//   --trace-exits=mmio=0xfee00000+0x1000,hlt  the LAPIC page, and HLTs
//
// Parsing is strict (unknown kinds, empty terms, reversed or overflowing
// ranges, ports above 0xffff, more than kMaxExitFilterRanges ranges are
// errors naming the bad term): it reads user input, and a filter that
// silently matches nothing would look like a guest that never exits.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "vmm/base/result.h"
#include "vmm/kvm/vcpu_exit.h"

namespace mini_vmm::trace {

enum class ExitKind : uint8_t { kPio, kMmio, kHlt, kDebug, kInterrupted, kOther };
inline constexpr size_t kExitKindCount = 6;
inline constexpr size_t kMaxExitFilterRanges = 16;

ExitKind KindOf(const kvm::VcpuExit& exit);

struct AddressRange {
  uint64_t first = 0;
  uint64_t last = 0;  // Inclusive, so a range can end at the top of the space.
  bool operator==(const AddressRange&) const = default;
};

class ExitFilter {
 public:
  // Matches nothing; Parse() or Allow*() widen it.
  ExitFilter() = default;

  // Every exit of `kind`.
  void AllowKind(ExitKind kind) { all_of_kind_ |= Bit(kind); }
  // Port I/O (kPio) or MMIO (kMmio) exits touching `range`.
  void AllowRange(ExitKind kind, AddressRange range);

  // Cheap (a bit test, then at most kMaxExitFilterRanges comparisons); no
  // allocation.
  bool Matches(const kvm::VcpuExit& exit) const noexcept;

  bool operator==(const ExitFilter&) const = default;

 private:
  static uint8_t Bit(ExitKind kind) { return static_cast<uint8_t>(1u << static_cast<int>(kind)); }

  uint8_t all_of_kind_ = 0;
  std::vector<AddressRange> pio_ranges_;
  std::vector<AddressRange> mmio_ranges_;
};

// Parses FILTER as above. Errors are one sentence naming the bad term.
Result<ExitFilter> ParseExitFilter(std::string_view text);

}  // namespace mini_vmm::trace
