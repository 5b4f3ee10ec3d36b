// Helpers for devices whose registers are one byte wide (the PC legacy
// devices). Linux only ever uses byte accesses on these ports; a wider guest
// access is handled at its first byte only:
//   - a read returns the register in byte 0 and all-ones in the other bytes,
//     as if nothing decoded them (real ISA hardware would split the access
//     into byte cycles on the following ports; no guest we support does that
//     on purpose, and splitting would multiply side effects such as RBR pops);
//   - a write stores byte 0 and drops the rest.
// An empty access (which KVM never produces) reads nothing and writes nothing.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>

namespace mini_vmm::devices {

// What a read returns for bytes that no register decodes.
inline constexpr uint8_t kUndecodedByte = 0xff;

// Stores `value` as the result of a read of any size.
inline void CompleteByteRead(std::span<uint8_t> data, uint8_t value) noexcept {
  if (data.empty()) return;
  data[0] = value;
  std::fill(data.begin() + 1, data.end(), kUndecodedByte);
}

// The byte a write of any size stores in a byte register; nullopt when empty.
inline std::optional<uint8_t> WrittenByte(std::span<const uint8_t> data) noexcept {
  if (data.empty()) return std::nullopt;
  return data[0];
}

}  // namespace mini_vmm::devices
