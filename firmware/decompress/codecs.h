// The per-format decoders behind Decompress(). Each fills `out` from the
// start of `in` and says how the stream ended; decompress.cc turns the
// outcome into the one error sentence.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace mini_vmm::firmware::decompress {

struct DecodeOutcome {
  enum Kind { kDone, kOutputFull, kTruncated, kCorrupt, kNoMemory };
  Kind kind;
  size_t produced;     // Bytes written to `out`.
  std::string detail;  // For kCorrupt / kNoMemory: the library's words.
};

DecodeOutcome DecodeGzip(std::span<const uint8_t> in, std::span<uint8_t> out);
DecodeOutcome DecodeXz(std::span<const uint8_t> in, std::span<uint8_t> out);
DecodeOutcome DecodeLzma(std::span<const uint8_t> in, std::span<uint8_t> out);
DecodeOutcome DecodeBzip2(std::span<const uint8_t> in, std::span<uint8_t> out);
DecodeOutcome DecodeZstd(std::span<const uint8_t> in, std::span<uint8_t> out);
DecodeOutcome DecodeLz4Legacy(std::span<const uint8_t> in, std::span<uint8_t> out);
DecodeOutcome DecodeLzop(std::span<const uint8_t> in, std::span<uint8_t> out);

}  // namespace mini_vmm::firmware::decompress
