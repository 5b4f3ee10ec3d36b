// Decompression of the formats Linux compresses its bzImage payload with
// (arch/x86/boot/compressed: gzip, bzip2, lzma, xz, lzo, lz4, zstd), using
// the host's libraries. The input is untrusted: output never exceeds the
// caller's bound, memory the decoders may use is bounded, and truncated or
// corrupt input is one sentence of error.
//
//   const std::optional<Compression> c = DetectCompression(payload);
//   DecompressedData out = TRY(Decompress(payload, expected_size));
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "vmm/base/result.h"

namespace mini_vmm::firmware::decompress {

enum class Compression { kGzip, kBzip2, kLzma, kXz, kLzo, kLz4Legacy, kZstd };

// By magic number. LZMA ("alone" format) has no magic; it is recognised by
// the header `lzma -9` writes (properties 0x5d, a power-of-two dictionary).
std::optional<Compression> DetectCompression(std::span<const uint8_t> data);
const char* CompressionName(Compression compression);

// An owned output buffer, allocated once at the caller's bound and not
// zero-filled, so that pages past the data are never touched.
class DecompressedData {
 public:
  DecompressedData() = default;
  DecompressedData(std::unique_ptr<uint8_t[]> data, size_t size)
      : data_(std::move(data)), size_(size) {}
  std::span<const uint8_t> bytes() const { return {data_.get(), size_}; }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
};

// Decompresses the one stream at the start of `data` (bytes after its end
// are ignored; Linux appends the decompressed size). Fails if it produces
// more than `max_output` bytes (a decompression bomb), if `data` ends
// before the stream does, or if the stream is corrupt. max_output is the
// allocation: callers bound it (the kernel's init_size).
Result<DecompressedData> Decompress(std::span<const uint8_t> data, uint64_t max_output);

// The decoders' memory limit (xz/lzma dictionaries; zstd windows stay at
// libzstd's 128 MiB default): Linux builds use 32-64 MiB dictionaries.
inline constexpr uint64_t kMaxDecoderMemory = 256ull << 20;

}  // namespace mini_vmm::firmware::decompress
