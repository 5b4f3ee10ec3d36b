// The formats made of independent blocks, parsed here: LZ4's legacy frame
// (`lz4 -l`, what Linux uses) and lzop's file format. The libraries only
// decode one block at a time; every header field is checked against the
// input and the output left before a block is handed to them.
#include <lz4.h>
#include <lzo/lzo1x.h>

#include <memory>

#include "firmware/decompress/codecs.h"

namespace mini_vmm::firmware::decompress {
namespace {

uint32_t Le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

// --- LZ4 legacy frame: magic, then (le32 compressed size, block)* ---------

constexpr uint32_t kLz4LegacyMagic = 0x184c2102;
// Every block of the legacy format decompresses to at most 8 MiB.
constexpr int kLz4LegacyBlockSize = 8 << 20;

// A block that does not fit the output left: if it decodes into a full
// block's worth of room, the stream is longer than the bound; else corrupt.
DecodeOutcome Lz4BlockFailed(std::span<const uint8_t> block, size_t produced, size_t room) {
  if (room < static_cast<size_t>(kLz4LegacyBlockSize)) {
    auto scratch = std::make_unique<char[]>(kLz4LegacyBlockSize);
    const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(block.data()), scratch.get(),
                                      static_cast<int>(block.size()), kLz4LegacyBlockSize);
    if (n > 0 && static_cast<size_t>(n) > room) return {DecodeOutcome::kOutputFull, produced, {}};
  }
  return {DecodeOutcome::kCorrupt, produced, "an LZ4 block does not decode"};
}

}  // namespace

DecodeOutcome DecodeLz4Legacy(std::span<const uint8_t> in, std::span<uint8_t> out) {
  const int max_block = LZ4_compressBound(kLz4LegacyBlockSize);
  size_t pos = 0;
  size_t produced = 0;
  // Bounded: every pass consumes at least 4 bytes.
  while (in.size() - pos >= 4) {
    const uint32_t size = Le32(in.data() + pos);
    pos += 4;
    // The magic again starts a concatenated frame (lz4 -l of several files).
    if (size == kLz4LegacyMagic) continue;
    if (size == 0 || size > static_cast<uint32_t>(max_block)) {
      return {DecodeOutcome::kCorrupt, produced, "an LZ4 block has an impossible size"};
    }
    if (size > in.size() - pos) return {DecodeOutcome::kTruncated, produced, {}};
    const std::span<const uint8_t> block = in.subspan(pos, size);
    pos += size;
    const size_t room = out.size() - produced;
    const int capacity =
        static_cast<int>(std::min<size_t>(room, static_cast<size_t>(kLz4LegacyBlockSize)));
    const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(block.data()),
                                      reinterpret_cast<char*>(out.data() + produced),
                                      static_cast<int>(size), capacity);
    if (n < 0) return Lz4BlockFailed(block, produced, room);
    produced += static_cast<size_t>(n);
  }
  // The legacy format has no end mark: the input's end is the stream's end.
  // Leftover bytes that cannot hold a block header are a cut-off header.
  if (pos != in.size()) return {DecodeOutcome::kTruncated, produced, {}};
  return {DecodeOutcome::kDone, produced, {}};
}

// --- lzop: header, then (be32 dst_len, be32 src_len, checksums, data)* -----
// Field layout as lzop 1.04 writes it and Linux's lib/decompress_unlzo.c
// reads it.

namespace {

constexpr size_t kLzopMagicSize = 9;
constexpr uint32_t kLzopAdler32D = 0x0001;
constexpr uint32_t kLzopAdler32C = 0x0002;
constexpr uint32_t kLzopExtraField = 0x0040;
constexpr uint32_t kLzopCrc32D = 0x0100;
constexpr uint32_t kLzopCrc32C = 0x0200;
constexpr uint32_t kLzopFilter = 0x0800;
constexpr uint16_t kLzopNewHeaderVersion = 0x0940;
// lzop's own MAX_BLOCK_SIZE; Linux's kernels use 256 KiB blocks.
constexpr uint32_t kLzopMaxBlock = 64u << 20;

// A cursor over the input that fails instead of reading past the end.
struct Reader {
  std::span<const uint8_t> in;
  size_t pos = 0;
  bool ok = true;
  const uint8_t* Take(size_t n) {
    if (!ok || n > in.size() - pos) {
      ok = false;
      return nullptr;
    }
    const uint8_t* p = in.data() + pos;
    pos += n;
    return p;
  }
  uint32_t U32() {
    const uint8_t* p = Take(4);
    return p ? Be32(p) : 0;
  }
  uint16_t U16() {
    const uint8_t* p = Take(2);
    return p ? Be16(p) : 0;
  }
  uint8_t U8() {
    const uint8_t* p = Take(1);
    return p ? *p : 0;
  }
};

// Skips the header and returns its flags (ok=false if it is cut short).
uint32_t SkipLzopHeader(Reader& r) {
  r.Take(kLzopMagicSize);
  const uint16_t version = r.U16();
  r.U16();                                        // library version
  if (version >= kLzopNewHeaderVersion) r.U16();  // version needed to extract
  r.U8();                                         // method
  if (version >= kLzopNewHeaderVersion) r.U8();   // level
  const uint32_t flags = r.U32();
  if (flags & kLzopFilter) r.U32();
  r.U32();                                        // mode
  r.U32();                                        // mtime low
  if (version >= kLzopNewHeaderVersion) r.U32();  // mtime high
  r.Take(r.U8());                                 // file name
  r.U32();                                        // header checksum
  if (flags & kLzopExtraField) {
    r.Take(r.U32());
    r.U32();
  }
  return flags;
}

}  // namespace

DecodeOutcome DecodeLzop(std::span<const uint8_t> in, std::span<uint8_t> out) {
  if (lzo_init() != LZO_E_OK) return {DecodeOutcome::kNoMemory, 0, "liblzo2 does not start"};
  Reader r{in};
  const uint32_t flags = SkipLzopHeader(r);
  size_t produced = 0;
  // Bounded: every pass consumes at least 8 bytes or returns.
  while (r.ok) {
    const uint32_t dst_len = r.U32();
    if (r.ok && dst_len == 0) return {DecodeOutcome::kDone, produced, {}};  // The end mark.
    const uint32_t src_len = r.U32();
    const uint8_t* d_adler = (flags & kLzopAdler32D) ? r.Take(4) : nullptr;
    if (flags & kLzopCrc32D) r.Take(4);
    if (src_len < dst_len && (flags & kLzopAdler32C)) r.Take(4);
    if (src_len < dst_len && (flags & kLzopCrc32C)) r.Take(4);
    const uint8_t* src = r.Take(src_len);
    if (!r.ok) break;
    if (dst_len > kLzopMaxBlock || src_len > dst_len) {
      return {DecodeOutcome::kCorrupt, produced, "an lzop block has an impossible size"};
    }
    if (dst_len > out.size() - produced) return {DecodeOutcome::kOutputFull, produced, {}};
    uint8_t* dst = out.data() + produced;
    if (src_len == dst_len) {
      std::copy(src, src + src_len, dst);  // Stored: lzop keeps incompressible blocks as is.
    } else {
      lzo_uint n = dst_len;
      if (lzo1x_decompress_safe(src, src_len, dst, &n, nullptr) != LZO_E_OK || n != dst_len) {
        return {DecodeOutcome::kCorrupt, produced, "an lzop block does not decode"};
      }
    }
    if (d_adler != nullptr && lzo_adler32(1, dst, dst_len) != Be32(d_adler)) {
      return {DecodeOutcome::kCorrupt, produced, "an lzop block fails its Adler-32 check"};
    }
    produced += dst_len;
  }
  return {DecodeOutcome::kTruncated, produced, {}};
}

}  // namespace mini_vmm::firmware::decompress
