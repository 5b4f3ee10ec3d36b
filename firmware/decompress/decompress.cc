#include "firmware/decompress/decompress.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "firmware/decompress/codecs.h"

namespace mini_vmm::firmware::decompress {
namespace {

bool StartsWith(std::span<const uint8_t> data, std::initializer_list<uint8_t> magic) {
  return data.size() >= magic.size() && std::equal(magic.begin(), magic.end(), data.begin());
}

// The lzma "alone" header: a properties byte (lc/lp/pb; `lzma` writes
// 0x5d), a little-endian dictionary size, an uncompressed size. Linux's own
// decompressor recognises 5d 00 00; so does this.
bool LooksLikeLzma(std::span<const uint8_t> data) { return StartsWith(data, {0x5d, 0x00, 0x00}); }

DecodeOutcome Decode(Compression c, std::span<const uint8_t> in, std::span<uint8_t> out) {
  switch (c) {
    case Compression::kGzip:
      return DecodeGzip(in, out);
    case Compression::kBzip2:
      return DecodeBzip2(in, out);
    case Compression::kLzma:
      return DecodeLzma(in, out);
    case Compression::kXz:
      return DecodeXz(in, out);
    case Compression::kLzo:
      return DecodeLzop(in, out);
    case Compression::kLz4Legacy:
      return DecodeLz4Legacy(in, out);
    case Compression::kZstd:
      return DecodeZstd(in, out);
  }
  VMM_CHECK(false);
  return {};
}

}  // namespace

std::optional<Compression> DetectCompression(std::span<const uint8_t> data) {
  if (StartsWith(data, {0x1f, 0x8b})) return Compression::kGzip;
  if (StartsWith(data, {'B', 'Z', 'h'})) return Compression::kBzip2;
  if (StartsWith(data, {0xfd, '7', 'z', 'X', 'Z', 0x00})) return Compression::kXz;
  if (StartsWith(data, {0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a})) {
    return Compression::kLzo;
  }
  if (StartsWith(data, {0x02, 0x21, 0x4c, 0x18})) return Compression::kLz4Legacy;
  if (StartsWith(data, {0x28, 0xb5, 0x2f, 0xfd})) return Compression::kZstd;
  if (LooksLikeLzma(data)) return Compression::kLzma;
  return std::nullopt;
}

const char* CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kBzip2:
      return "bzip2";
    case Compression::kLzma:
      return "lzma";
    case Compression::kXz:
      return "xz";
    case Compression::kLzo:
      return "lzo";
    case Compression::kLz4Legacy:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

Result<DecompressedData> Decompress(std::span<const uint8_t> data, uint64_t max_output) {
  const std::optional<Compression> compression = DetectCompression(data);
  if (!compression) {
    uint8_t head[4] = {};
    // Empty data may have a null data(): no memcpy from it.
    if (!data.empty()) std::memcpy(head, data.data(), std::min<size_t>(data.size(), sizeof(head)));
    return Error::Invalid(
        "the data is in no compression format mini-vmm knows (it starts with {:02x} {:02x} "
        "{:02x} {:02x})",
        head[0], head[1], head[2], head[3]);
  }
  const char* name = CompressionName(*compression);
  std::unique_ptr<uint8_t[]> buffer(new (std::nothrow) uint8_t[max_output]);
  if (buffer == nullptr) {
    return Error::Errno(ENOMEM, "cannot allocate {} bytes to decompress the {} data", max_output,
                        name);
  }
  const DecodeOutcome outcome = Decode(*compression, data, {buffer.get(), max_output});
  switch (outcome.kind) {
    case DecodeOutcome::kDone:
      return DecompressedData(std::move(buffer), outcome.produced);
    case DecodeOutcome::kOutputFull:
      return Error::Invalid("the {} data decompresses to more than {} bytes", name, max_output);
    case DecodeOutcome::kTruncated:
      return Error::Invalid("the {} data is truncated: it ends after {} decompressed bytes", name,
                            outcome.produced);
    case DecodeOutcome::kCorrupt:
      return Error::Invalid("the {} data is corrupt after {} decompressed bytes: {}", name,
                            outcome.produced, outcome.detail);
    case DecodeOutcome::kNoMemory:
      return Error::Invalid("the {} data needs more memory to decompress than mini-vmm allows: {}",
                            name, outcome.detail);
  }
  VMM_CHECK(false);
  return Error::Invalid("unreachable");
}

}  // namespace mini_vmm::firmware::decompress
