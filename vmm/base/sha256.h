// SHA-256 (FIPS 180-4), for content-addressing files the VMM caches (the
// decompressed-kernel cache keys on the bzImage's digest and verifies each
// entry with its content's digest). Not for anything secret: no constant-
// time guarantees are needed or given.
//
//   Sha256 h;
//   h.Update(bytes);
//   Sha256::Digest d = h.Finish();
//   std::string name = Sha256::Hex(d);
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace mini_vmm {

class Sha256 {
 public:
  static constexpr size_t kDigestSize = 32;
  using Digest = std::array<uint8_t, kDigestSize>;

  Sha256();
  void Update(std::span<const uint8_t> data);
  // Pads and returns the digest; the object is then reset for reuse.
  Digest Finish();

  static Digest Of(std::span<const uint8_t> data);
  // Whether this CPU hashes with the SHA extensions (~1 GB/s; the portable
  // code manages ~250 MB/s), for callers weighing hashing against work.
  static bool HardwareAccelerated();
  static std::string Hex(const Digest& digest);

 private:
  static constexpr size_t kBlockSize = 64;
  void Reset();

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, kBlockSize> buffer_;
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

}  // namespace mini_vmm
