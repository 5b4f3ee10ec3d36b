#include "vmm/base/sha256.h"

#include <algorithm>
#include <cstring>

#include "vmm/base/sha256_blocks.h"

namespace mini_vmm {
namespace {

// FIPS 180-4 5.3.3: the initial hash value.
constexpr std::array<uint32_t, 8> kInitialState = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

}  // namespace

Sha256::Sha256() { Reset(); }

void Sha256::Reset() {
  state_ = kInitialState;
  buffered_ = 0;
  total_bytes_ = 0;
}

void Sha256::Update(std::span<const uint8_t> data) {
  total_bytes_ += data.size();
  if (buffered_ > 0) {
    const size_t take = std::min(kBlockSize - buffered_, data.size());
    std::memcpy(buffer_.data() + buffered_, data.data(), take);
    buffered_ += take;
    data = data.subspan(take);
    if (buffered_ < kBlockSize) return;
    sha256_internal::Compress(state_, buffer_.data(), 1);
    buffered_ = 0;
  }
  const size_t blocks = data.size() / kBlockSize;
  sha256_internal::Compress(state_, data.data(), blocks);
  data = data.subspan(blocks * kBlockSize);
  std::memcpy(buffer_.data(), data.data(), data.size());
  buffered_ = data.size();
}

// FIPS 180-4 5.1.1: a 1 bit, zeros, then the message length in bits as a
// 64-bit big-endian number, to a multiple of 512 bits.
Sha256::Digest Sha256::Finish() {
  const uint64_t bit_length = total_bytes_ * 8;
  std::array<uint8_t, kBlockSize + 8> padding{};
  padding[0] = 0x80;
  const size_t pad_len = buffered_ < 56 ? 56 - buffered_ : 120 - buffered_;
  Update(std::span(padding.data(), pad_len));
  std::array<uint8_t, 8> length;
  for (size_t i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(bit_length >> (56 - 8 * i));
  Update(length);
  Digest digest;
  for (size_t i = 0; i < 8; ++i) {
    for (size_t j = 0; j < 4; ++j) {
      digest[4 * i + j] = static_cast<uint8_t>(state_[i] >> (24 - 8 * j));
    }
  }
  Reset();
  return digest;
}

Sha256::Digest Sha256::Of(std::span<const uint8_t> data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

bool Sha256::HardwareAccelerated() { return sha256_internal::ShaNiAvailable(); }

std::string Sha256::Hex(const Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * digest.size());
  for (const uint8_t byte : digest) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

}  // namespace mini_vmm
