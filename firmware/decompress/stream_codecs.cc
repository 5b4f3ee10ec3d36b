// The formats whose libraries stream: gzip (zlib), xz and lzma (liblzma),
// bzip2 (libbz2), zstd (libzstd). Each loop hands the library everything
// left of the input and the output, and ends when the stream ends or a call
// makes no progress, so it runs at most in.size() + out.size() times.
#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
// For ZSTD_d_stableOutBuffer, a parameter of the stable
// ZSTD_DCtx_setParameter that libzstd 1.4.4+ accepts.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <limits>

#include "firmware/decompress/codecs.h"
#include "firmware/decompress/decompress.h"

namespace mini_vmm::firmware::decompress {
namespace {

// zlib and libbz2 count in 32-bit unsigned ints; larger spans go in pieces.
unsigned int Clamp32(size_t n) {
  return static_cast<unsigned int>(std::min<size_t>(n, std::numeric_limits<unsigned int>::max()));
}

// What a call that made no progress means: the output is full (the stream
// has more to give), or the input ran out before the end of the stream.
DecodeOutcome Stalled(size_t produced, size_t capacity) {
  return {
      produced == capacity ? DecodeOutcome::kOutputFull : DecodeOutcome::kTruncated, produced, {}};
}

}  // namespace

DecodeOutcome DecodeGzip(std::span<const uint8_t> in, std::span<uint8_t> out) {
  z_stream s{};
  // 16 + MAX_WBITS: a gzip wrapper (RFC 1952) only, with its CRC checked.
  if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) return {DecodeOutcome::kNoMemory, 0, "zlib"};
  size_t consumed = 0;
  size_t produced = 0;
  DecodeOutcome outcome{};
  for (;;) {
    s.next_in = const_cast<Bytef*>(in.data() + consumed);  // zlib's API is not const.
    s.avail_in = Clamp32(in.size() - consumed);
    s.next_out = out.data() + produced;
    s.avail_out = Clamp32(out.size() - produced);
    const unsigned int avail_in = s.avail_in;
    const unsigned int avail_out = s.avail_out;
    const int ret = inflate(&s, Z_NO_FLUSH);
    consumed += avail_in - s.avail_in;
    produced += avail_out - s.avail_out;
    if (ret == Z_STREAM_END) {
      outcome = {DecodeOutcome::kDone, produced, {}};
    } else if (ret == Z_MEM_ERROR) {
      outcome = {DecodeOutcome::kNoMemory, produced, "zlib"};
    } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
      outcome = {DecodeOutcome::kCorrupt, produced, s.msg != nullptr ? s.msg : "zlib error"};
    } else if (avail_in == s.avail_in && avail_out == s.avail_out) {
      outcome = Stalled(produced, out.size());
    } else {
      continue;
    }
    break;
  }
  inflateEnd(&s);
  return outcome;
}

namespace {

DecodeOutcome RunLzma(lzma_stream& s, lzma_ret init, std::span<const uint8_t> in,
                      std::span<uint8_t> out) {
  if (init != LZMA_OK) return {DecodeOutcome::kNoMemory, 0, "liblzma"};
  s.next_in = in.data();
  s.avail_in = in.size();
  s.next_out = out.data();
  s.avail_out = out.size();
  DecodeOutcome outcome{};
  for (;;) {
    const size_t avail_in = s.avail_in;
    const size_t avail_out = s.avail_out;
    const lzma_ret ret = lzma_code(&s, LZMA_RUN);
    const size_t produced = out.size() - s.avail_out;
    if (ret == LZMA_STREAM_END) {
      outcome = {DecodeOutcome::kDone, produced, {}};
    } else if (ret == LZMA_MEMLIMIT_ERROR || ret == LZMA_MEM_ERROR) {
      outcome = {DecodeOutcome::kNoMemory, produced, "its dictionary exceeds the decoder's limit"};
    } else if (ret == LZMA_FORMAT_ERROR || ret == LZMA_OPTIONS_ERROR || ret == LZMA_DATA_ERROR) {
      outcome = {DecodeOutcome::kCorrupt, produced, "liblzma rejects the data"};
    } else if (ret == LZMA_BUF_ERROR || (avail_in == s.avail_in && avail_out == s.avail_out)) {
      outcome = Stalled(produced, out.size());
    } else {
      continue;
    }
    break;
  }
  lzma_end(&s);
  return outcome;
}

}  // namespace

DecodeOutcome DecodeXz(std::span<const uint8_t> in, std::span<uint8_t> out) {
  lzma_stream s = LZMA_STREAM_INIT;
  // No LZMA_CONCATENATED: one stream, the bytes after it are not ours.
  return RunLzma(s, lzma_stream_decoder(&s, kMaxDecoderMemory, 0), in, out);
}

DecodeOutcome DecodeLzma(std::span<const uint8_t> in, std::span<uint8_t> out) {
  lzma_stream s = LZMA_STREAM_INIT;
  return RunLzma(s, lzma_alone_decoder(&s, kMaxDecoderMemory), in, out);
}

DecodeOutcome DecodeBzip2(std::span<const uint8_t> in, std::span<uint8_t> out) {
  bz_stream s{};
  // small=0: the fast decoder, at most ~3.6 MB of state for 900k blocks.
  if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK) return {DecodeOutcome::kNoMemory, 0, "libbz2"};
  size_t consumed = 0;
  size_t produced = 0;
  DecodeOutcome outcome{};
  for (;;) {
    // libbz2's API is not const.
    s.next_in = const_cast<char*>(reinterpret_cast<const char*>(in.data() + consumed));
    s.avail_in = Clamp32(in.size() - consumed);
    s.next_out = reinterpret_cast<char*>(out.data() + produced);
    s.avail_out = Clamp32(out.size() - produced);
    const unsigned int avail_in = s.avail_in;
    const unsigned int avail_out = s.avail_out;
    const int ret = BZ2_bzDecompress(&s);
    consumed += avail_in - s.avail_in;
    produced += avail_out - s.avail_out;
    if (ret == BZ_STREAM_END) {
      outcome = {DecodeOutcome::kDone, produced, {}};
    } else if (ret == BZ_MEM_ERROR) {
      outcome = {DecodeOutcome::kNoMemory, produced, "libbz2"};
    } else if (ret != BZ_OK) {
      outcome = {DecodeOutcome::kCorrupt, produced,
                 ret == BZ_DATA_ERROR_MAGIC ? "no bzip2 signature" : "bzip2 data error"};
    } else if (avail_in == s.avail_in && avail_out == s.avail_out) {
      outcome = Stalled(produced, out.size());
    } else {
      continue;
    }
    break;
  }
  BZ2_bzDecompressEnd(&s);
  return outcome;
}

DecodeOutcome DecodeZstd(std::span<const uint8_t> in, std::span<uint8_t> out) {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  if (ctx == nullptr) return {DecodeOutcome::kNoMemory, 0, "libzstd"};
  // Windows stay at libzstd's default limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT,
  // 128 MiB), which Linux's `zstd -22 --ultra` stays within. The output is
  // one buffer that never moves, so zstd may decode straight into it
  // instead of through a window buffer as large as the window.
  ZSTD_DCtx_setParameter(ctx, ZSTD_d_stableOutBuffer, 1);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  DecodeOutcome outcome{};
  for (;;) {
    const size_t in_pos = input.pos;
    const size_t out_pos = output.pos;
    const size_t ret = ZSTD_decompressStream(ctx, &output, &input);
    if (ZSTD_isError(ret)) {
      const ZSTD_ErrorCode code = ZSTD_getErrorCode(ret);
      if (code == ZSTD_error_dstSize_tooSmall) {
        // The frame's content size, or its data, exceeds the output.
        outcome = {DecodeOutcome::kOutputFull, output.pos, {}};
      } else {
        outcome = {code == ZSTD_error_frameParameter_windowTooLarge ? DecodeOutcome::kNoMemory
                                                                    : DecodeOutcome::kCorrupt,
                   output.pos, ZSTD_getErrorName(ret)};
      }
    } else if (ret == 0) {
      outcome = {DecodeOutcome::kDone, output.pos, {}};  // The frame is decoded and flushed.
    } else if (in_pos == input.pos && out_pos == output.pos) {
      outcome = Stalled(output.pos, out.size());
    } else {
      continue;
    }
    break;
  }
  ZSTD_freeDCtx(ctx);
  return outcome;
}

}  // namespace mini_vmm::firmware::decompress
