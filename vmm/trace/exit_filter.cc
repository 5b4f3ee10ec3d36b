#include "vmm/trace/exit_filter.h"

#include <array>
#include <charconv>
#include <limits>
#include <optional>
#include <string>
#include <variant>

#include "vmm/base/format.h"

namespace mini_vmm::trace {
namespace {

constexpr uint64_t kLastPort = 0xffff;
constexpr char kExpected[] =
    "expected all, pio, mmio, hlt, debug, intr, other, pio=RANGE or mmio=RANGE";

struct KindName {
  std::string_view name;
  ExitKind kind;
};
constexpr std::array<KindName, kExitKindCount> kKindNames = {{{"pio", ExitKind::kPio},
                                                              {"mmio", ExitKind::kMmio},
                                                              {"hlt", ExitKind::kHlt},
                                                              {"debug", ExitKind::kDebug},
                                                              {"intr", ExitKind::kInterrupted},
                                                              {"other", ExitKind::kOther}}};

struct KindOfVisitor {
  ExitKind operator()(const kvm::IoExit&) const { return ExitKind::kPio; }
  ExitKind operator()(const kvm::MmioExit&) const { return ExitKind::kMmio; }
  ExitKind operator()(const kvm::HltExit&) const { return ExitKind::kHlt; }
  ExitKind operator()(const kvm::DebugExit&) const { return ExitKind::kDebug; }
  ExitKind operator()(const kvm::InterruptedExit&) const { return ExitKind::kInterrupted; }
  template <typename T>
  ExitKind operator()(const T&) const {
    return ExitKind::kOther;
  }
};

// `text` in double quotes for an error message, with bytes that are not
// printable ASCII as \xNN: a filter can hold anything (a newline would
// split the one-line message).
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      out += Format("\\x{:02x}", byte);
    }
  }
  return out + "\"";
}

// A whole-string unsigned number: 0x-prefixed hex or decimal.
std::optional<uint64_t> ParseNumber(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value, base);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

Result<AddressRange> ParseRange(std::string_view term, std::string_view text, uint64_t limit) {
  const size_t dash = text.find('-');
  const size_t plus = text.find('+');
  std::optional<uint64_t> first;
  std::optional<uint64_t> last;
  if (dash != std::string_view::npos) {
    first = ParseNumber(text.substr(0, dash));
    last = ParseNumber(text.substr(dash + 1));
  } else if (plus != std::string_view::npos) {
    first = ParseNumber(text.substr(0, plus));
    const std::optional<uint64_t> length = ParseNumber(text.substr(plus + 1));
    if (first && length) {
      if (*length == 0 || *length - 1 > std::numeric_limits<uint64_t>::max() - *first) {
        return Error::Invalid("--trace-exits range {} is empty or wraps around", Quoted(term));
      }
      last = *first + (*length - 1);
    }
  } else {
    first = ParseNumber(text);
    last = first;
  }
  if (!first || !last) {
    return Error::Invalid("--trace-exits range {} is not ADDR, FIRST-LAST or BASE+LENGTH",
                          Quoted(term));
  }
  if (*first > *last) {
    return Error::Invalid("--trace-exits range {} ends before it starts", Quoted(term));
  }
  if (*last > limit) {
    return Error::Invalid("--trace-exits range {} goes past the last address {:#x}", Quoted(term),
                          limit);
  }
  return AddressRange{*first, *last};
}

bool Touches(const std::vector<AddressRange>& ranges, uint64_t address, uint64_t length) {
  // `length` >= 1 for every exit KVM reports; guard anyway.
  const uint64_t last = length == 0 ? address
                        : address > std::numeric_limits<uint64_t>::max() - (length - 1)
                            ? std::numeric_limits<uint64_t>::max()
                            : address + (length - 1);
  for (const AddressRange& r : ranges) {
    if (address <= r.last && r.first <= last) return true;
  }
  return false;
}

Result<void> ParseTerm(std::string_view term, ExitFilter& filter, size_t& ranges) {
  if (term.empty()) return Error::Invalid("--trace-exits has an empty term: {}", kExpected);
  if (term == "all") {
    for (const KindName& k : kKindNames) filter.AllowKind(k.kind);
    return {};
  }
  const size_t equals = term.find('=');
  const std::string_view name = term.substr(0, equals);
  for (const KindName& k : kKindNames) {
    if (k.name != name) continue;
    if (equals == std::string_view::npos) {
      filter.AllowKind(k.kind);
      return {};
    }
    if (k.kind != ExitKind::kPio && k.kind != ExitKind::kMmio) {
      return Error::Invalid("--trace-exits term {}: only pio and mmio take a range", Quoted(term));
    }
    if (++ranges > kMaxExitFilterRanges) {
      return Error::Invalid("--trace-exits has more than {} ranges", kMaxExitFilterRanges);
    }
    const uint64_t limit =
        k.kind == ExitKind::kPio ? kLastPort : std::numeric_limits<uint64_t>::max();
    filter.AllowRange(k.kind, TRY(ParseRange(term, term.substr(equals + 1), limit)));
    return {};
  }
  return Error::Invalid("unknown --trace-exits term {}: {}", Quoted(term), kExpected);
}

}  // namespace

ExitKind KindOf(const kvm::VcpuExit& exit) { return std::visit(KindOfVisitor{}, exit); }

void ExitFilter::AllowRange(ExitKind kind, AddressRange range) {
  (kind == ExitKind::kPio ? pio_ranges_ : mmio_ranges_).push_back(range);
}

bool ExitFilter::Matches(const kvm::VcpuExit& exit) const noexcept {
  const ExitKind kind = KindOf(exit);
  if ((all_of_kind_ & Bit(kind)) != 0) return true;
  if (const auto* io = std::get_if<kvm::IoExit>(&exit)) {
    return Touches(pio_ranges_, io->port, io->size);
  }
  if (const auto* mmio = std::get_if<kvm::MmioExit>(&exit)) {
    return Touches(mmio_ranges_, mmio->address, mmio->data.size());
  }
  return false;
}

Result<ExitFilter> ParseExitFilter(std::string_view text) {
  ExitFilter filter;
  size_t ranges = 0;
  // Bounded: each pass consumes at least the comma.
  for (;;) {
    const size_t comma = text.find(',');
    TRY(ParseTerm(text.substr(0, comma), filter, ranges));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return filter;
}

}  // namespace mini_vmm::trace
