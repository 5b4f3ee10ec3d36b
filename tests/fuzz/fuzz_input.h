// FuzzInput: the fuzzers' operands, read front to back from libFuzzer's
// bytes as little-endian integers; zeros once the input is used up, so
// every input is a complete program.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace mini_vmm::fuzz {

class FuzzInput {
 public:
  explicit FuzzInput(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  bool done() const { return pos_ >= bytes_.size(); }
  uint8_t U8() { return done() ? 0 : bytes_[pos_++]; }
  // Each half is read in its own statement: operands of | are unsequenced.
  uint16_t U16() {
    const uint16_t low = U8();
    return static_cast<uint16_t>(low | (U8() << 8));
  }
  uint32_t U32() {
    const uint32_t low = U16();
    return low | (uint32_t{U16()} << 16);
  }
  uint64_t U64() {
    const uint64_t low = U32();
    return low | (uint64_t{U32()} << 32);
  }
  // Fills `out` from the input, zeros once it runs out.
  void Copy(std::span<uint8_t> out) {
    if (out.empty()) return;  // data() may be null: no mem* calls on it.
    const size_t n = std::min(out.size(), bytes_.size() - std::min(pos_, bytes_.size()));
    if (n > 0) std::memcpy(out.data(), bytes_.data() + pos_, n);
    std::memset(out.data() + n, 0, out.size() - n);
    pos_ += n;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

}  // namespace mini_vmm::fuzz
