// Hexadecimal helpers for the GDB protocol: numbers in packets are
// big-endian hex text of arbitrary length, register and memory contents are
// hex byte pairs. Every parser bounds its input: a number longer than its
// type is an error, not a silent truncation.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mini_vmm::gdb {

// '0'-'9', 'a'-'f', 'A'-'F' to 0-15.
std::optional<uint8_t> HexDigitValue(char c);
// 0-15 to a lower-case digit.
char HexDigit(uint8_t nibble);

// A whole string of 1 to 16 hex digits. Empty, non-hex or overflowing text
// is nullopt.
std::optional<uint64_t> ParseHexNumber(std::string_view text);

// Parses a hex number from the front of `*text` up to (not including)
// `delimiter` or the end, and advances `*text` past the delimiter.
std::optional<uint64_t> ConsumeHexNumber(std::string_view* text, char delimiter);

// Hex pairs to bytes into `out`; false unless `hex` is exactly 2 * out.size()
// hex digits.
[[nodiscard]] bool DecodeHexBytes(std::string_view hex, std::span<uint8_t> out);

// Bytes to lower-case hex pairs, appended to `out`.
void AppendHexBytes(std::span<const uint8_t> bytes, std::string& out);

}  // namespace mini_vmm::gdb
