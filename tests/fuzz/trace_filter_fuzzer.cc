// trace_filter_fuzzer: `--trace-exits=FILTER` (vmm/trace/exit_filter.h),
// user input parsed before any KVM call, and the line format of what it
// lets through (vmm/trace/exit_format.h).
//
// Input: one byte n, then n bytes of FILTER text, then exits, each a kind
// byte (pio, mmio, hlt, intr, other), a little-endian u64 address, a size
// byte and 8 data bytes.
// Checked (VMM_CHECK aborts):
//   - a rejected filter says so in one line that names --trace-exits;
//   - a filter is the union of its terms: an exit matches the whole
//     filter exactly when it matches one of its terms parsed alone;
//   - FormatExit never reads outside the exit's data and its line starts
//     with the vCPU and holds no newline.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/fuzz_input.h"
#include "vmm/base/check.h"
#include "vmm/trace/exit_filter.h"
#include "vmm/trace/exit_format.h"

namespace mini_vmm::trace {
namespace {

constexpr size_t kMaxExits = 64;

kvm::VcpuExit NextExit(fuzz::FuzzInput& in, std::array<uint8_t, 8>& data) {
  const uint8_t kind = in.U8();
  const uint64_t address = in.U64();
  const uint8_t size = static_cast<uint8_t>(in.U8() % 9);
  for (uint8_t& b : data) b = in.U8();
  const std::span<uint8_t> bytes = std::span<uint8_t>(data).first(size);
  switch (kind % 5) {
    case 0:
      return kvm::IoExit{static_cast<uint16_t>(address), size, 1u + (kind >> 4) % 3,
                         (kind & 8) != 0, bytes};
    case 1:
      return kvm::MmioExit{address, (kind & 8) != 0, bytes};
    case 2:
      return kvm::HltExit{};
    case 3:
      return kvm::InterruptedExit{};
    default:
      return kvm::SystemEventExit{static_cast<uint32_t>(address)};
  }
}

std::vector<ExitFilter> TermsOf(std::string_view text) {
  std::vector<ExitFilter> terms;
  for (;;) {
    const size_t comma = text.find(',');
    auto term = ParseExitFilter(text.substr(0, comma));
    VMM_CHECK(term.ok());  // The whole parsed, so each term does.
    terms.push_back(*term);
    if (comma == std::string_view::npos) return terms;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace
}  // namespace mini_vmm::trace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mini_vmm::trace;
  mini_vmm::fuzz::FuzzInput in({data, size});
  std::string text;
  for (uint8_t n = in.U8(); n > 0 && !in.done(); --n) text += static_cast<char>(in.U8());
  auto filter = ParseExitFilter(text);
  if (!filter.ok()) {
    const std::string message = filter.error().ToString();
    VMM_CHECK(message.find("--trace-exits") != std::string::npos);
    VMM_CHECK(message.find('\n') == std::string::npos);
    return 0;
  }
  const std::vector<ExitFilter> terms = TermsOf(text);
  std::array<uint8_t, 8> bytes{};
  for (size_t i = 0; i < kMaxExits && !in.done(); ++i) {
    const mini_vmm::kvm::VcpuExit exit = NextExit(in, bytes);
    bool any = false;
    for (const ExitFilter& term : terms) any = any || term.Matches(exit);
    VMM_CHECK(filter->Matches(exit) == any);
    const std::string line = FormatExit(static_cast<uint32_t>(i), exit, "");
    VMM_CHECK(line.starts_with("vcpu" + std::to_string(i) + " "));
    VMM_CHECK(line.find('\n') == std::string::npos);
  }
  return 0;
}
