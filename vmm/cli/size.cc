#include "vmm/cli/size.h"

#include <cctype>

namespace mini_vmm::cli {
namespace {

std::optional<unsigned> ShiftForSuffix(std::string_view suffix) {
  if (suffix.empty()) return 20;  // MiB, as QEMU's -m.
  const char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(suffix[0])));
  std::string_view rest = suffix.substr(1);
  if (rest == "i" || rest == "iB" || rest == "B" || rest.empty()) {
    switch (unit) {
      case 'K':
        return 10;
      case 'M':
        return 20;
      case 'G':
        return 30;
      case 'T':
        return 40;
      default:
        break;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint64_t> ParseMemorySize(std::string_view text) {
  size_t digits = 0;
  uint64_t value = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
    const uint64_t d = static_cast<uint64_t>(text[digits] - '0');
    if (__builtin_mul_overflow(value, 10, &value) || __builtin_add_overflow(value, d, &value)) {
      return std::nullopt;
    }
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  const auto shift = ShiftForSuffix(text.substr(digits));
  if (!shift) return std::nullopt;
  if (value > (UINT64_MAX >> *shift)) return std::nullopt;
  return value << *shift;
}

}  // namespace mini_vmm::cli
