#include "vmm/gdb/protocol/hex.h"

namespace mini_vmm::gdb {

std::optional<uint8_t> HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<uint8_t>(c - 'A' + 10);
  return std::nullopt;
}

char HexDigit(uint8_t nibble) { return "0123456789abcdef"[nibble & 0xf]; }

std::optional<uint64_t> ParseHexNumber(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    std::optional<uint8_t> digit = HexDigitValue(c);
    if (!digit) return std::nullopt;
    value = (value << 4) | *digit;
  }
  return value;
}

std::optional<uint64_t> ConsumeHexNumber(std::string_view* text, char delimiter) {
  const size_t end = text->find(delimiter);
  std::optional<uint64_t> value = ParseHexNumber(text->substr(0, end));
  if (!value) return std::nullopt;
  text->remove_prefix(end == std::string_view::npos ? text->size() : end + 1);
  return value;
}

bool DecodeHexBytes(std::string_view hex, std::span<uint8_t> out) {
  if (hex.size() != 2 * out.size()) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    std::optional<uint8_t> high = HexDigitValue(hex[2 * i]);
    std::optional<uint8_t> low = HexDigitValue(hex[2 * i + 1]);
    if (!high || !low) return false;
    out[i] = static_cast<uint8_t>((*high << 4) | *low);
  }
  return true;
}

void AppendHexBytes(std::span<const uint8_t> bytes, std::string& out) {
  for (uint8_t b : bytes) {
    out.push_back(HexDigit(b >> 4));
    out.push_back(HexDigit(b & 0xf));
  }
}

}  // namespace mini_vmm::gdb
