// Decompress() on streams made by the real tools with the options Linux's
// build uses, then on every malformed shape: bad magic, truncated, corrupt,
// and bigger than the bound (a decompression bomb).
#include "firmware/decompress/decompress.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/support/compress_tool.h"

namespace mini_vmm::firmware::decompress {
namespace {

using testing::CompressWith;
using testing::KernelLikeData;

struct Format {
  Compression compression;
  const char* command;
};

// As scripts/Makefile.lib compresses (levels lowered where only speed differs).
const Format kFormats[] = {
    {Compression::kGzip, "gzip -n -9 -c"},
    {Compression::kBzip2, "bzip2 -9 -c"},
    {Compression::kLzma, "xz --format=lzma -6 -c"},
    {Compression::kXz, "xz --check=crc32 -6 -c"},
    {Compression::kLzo, "lzop -9 -c"},
    {Compression::kLz4Legacy, "lz4 -l -9 -c"},
    {Compression::kZstd, "zstd -q -19 -c"},
};

// The formats whose streams carry a checksum of the data (LZ4's legacy
// frame and lzma's alone format do not).
const Format kChecksummed[] = {kFormats[0], kFormats[1], kFormats[3], kFormats[4], kFormats[6]};

constexpr uint64_t kMiB = 1 << 20;

TEST_CASE("Each format round-trips and is detected by its magic") {
  const Format format = GENERATE(from_range(std::begin(kFormats), std::end(kFormats)));
  CAPTURE(format.command);
  const std::vector<uint8_t> data = KernelLikeData(kMiB + 123);
  const std::vector<uint8_t> z = CompressWith(format.command, data);
  CHECK(DetectCompression(z) == format.compression);
  auto out = Decompress(z, 2 * kMiB);
  REQUIRE(out.ok());
  CHECK(std::vector<uint8_t>(out->bytes().begin(), out->bytes().end()) == data);
}

TEST_CASE("An LZ4 legacy stream of several 8 MiB blocks round-trips") {
  const std::vector<uint8_t> data = KernelLikeData(17 * kMiB + 5);
  auto out = Decompress(CompressWith("lz4 -l -9 -c", data), 18 * kMiB);
  REQUIRE(out.ok());
  CHECK(std::vector<uint8_t>(out->bytes().begin(), out->bytes().end()) == data);
}

TEST_CASE("Output exactly as big as the bound fits") {
  const Format format = GENERATE(from_range(std::begin(kFormats), std::end(kFormats)));
  CAPTURE(format.command);
  const std::vector<uint8_t> data = KernelLikeData(kMiB);
  auto out = Decompress(CompressWith(format.command, data), kMiB);
  REQUIRE(out.ok());
  CHECK(out->size() == kMiB);
}

TEST_CASE("Bytes after the end of the stream (Linux's size trailer) are ignored") {
  // Not LZ4's legacy frame: it has no end mark (bzimage_payload strips it).
  const Format format = GENERATE(from_range(std::begin(kChecksummed), std::end(kChecksummed)));
  CAPTURE(format.command);
  const std::vector<uint8_t> data = KernelLikeData(4096);
  std::vector<uint8_t> z = CompressWith(format.command, data);
  z.insert(z.end(), {0x00, 0x10, 0x00, 0x00});
  auto out = Decompress(z, kMiB);
  REQUIRE(out.ok());
  CHECK(out->size() == data.size());
}

TEST_CASE("A decompression bomb stops at the bound") {
  const Format format = GENERATE(from_range(std::begin(kFormats), std::end(kFormats)));
  CAPTURE(format.command);
  const std::vector<uint8_t> zeros(4 * kMiB, 0);
  auto out = Decompress(CompressWith(format.command, zeros), kMiB);
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error().ToString(), Catch::Contains("decompresses to more than 1048576 bytes"));
}

TEST_CASE("A zstd frame whose content size exceeds the bound is a bomb, not corrupt") {
  // --stream-size writes the frame's content size into its header.
  const std::vector<uint8_t> zeros(4 * kMiB, 0);
  auto out = Decompress(CompressWith("zstd -q -c --stream-size=4194304", zeros), kMiB);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().ToString() == "the zstd data decompresses to more than 1048576 bytes");
}

TEST_CASE("A zstd frame with its content size decodes into an exact bound") {
  const std::vector<uint8_t> data = KernelLikeData(kMiB);
  auto out = Decompress(CompressWith("zstd -q -c --stream-size=1048576", data), kMiB);
  REQUIRE(out.ok());
  CHECK(std::vector<uint8_t>(out->bytes().begin(), out->bytes().end()) == data);
}

TEST_CASE("A truncated stream is an error, not short output") {
  const Format format = GENERATE(from_range(std::begin(kFormats), std::end(kFormats)));
  CAPTURE(format.command);
  std::vector<uint8_t> z = CompressWith(format.command, KernelLikeData(kMiB));
  z.resize(z.size() / 2);
  auto out = Decompress(z, 2 * kMiB);
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error().ToString(), Catch::Contains("is truncated"));
}

TEST_CASE("A corrupt stream fails its checks") {
  const Format format = GENERATE(from_range(std::begin(kChecksummed), std::end(kChecksummed)));
  CAPTURE(format.command);
  std::vector<uint8_t> z = CompressWith(format.command, KernelLikeData(kMiB));
  for (size_t i = z.size() / 2; i < z.size() / 2 + 16; ++i) z[i] ^= 0x55;
  auto out = Decompress(z, 2 * kMiB);
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error().ToString(), Catch::Contains("is corrupt"));
}

TEST_CASE("Bad magic names the first bytes") {
  const std::vector<uint8_t> elf = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
  CHECK_FALSE(DetectCompression(elf).has_value());
  auto out = Decompress(elf, kMiB);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().ToString() ==
        "the data is in no compression format mini-vmm knows (it starts with 7f 45 4c 46)");
}

TEST_CASE("Empty input is bad magic") {
  auto out = Decompress({}, kMiB);
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error().ToString(), Catch::Contains("no compression format"));
}

TEST_CASE("An LZ4 block size larger than any 8 MiB block can compress to is corrupt") {
  const std::vector<uint8_t> z = {0x02, 0x21, 0x4c, 0x18, 0xff, 0xff, 0xff, 0x7f, 0x00};
  auto out = Decompress(z, kMiB);
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error().ToString(), Catch::Contains("impossible size"));
}

TEST_CASE("An LZ4 stream cut inside a block header is truncated") {
  std::vector<uint8_t> z = CompressWith("lz4 -l -c", KernelLikeData(4096));
  z.insert(z.end(), {0x10, 0x00});
  auto out = Decompress(z, kMiB);
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error().ToString(), Catch::Contains("is truncated"));
}

TEST_CASE("An lzop header cut short is truncated") {
  const std::vector<uint8_t> z = {0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a, 0x10};
  auto out = Decompress(z, kMiB);
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error().ToString(), Catch::Contains("lzo data is truncated"));
}

TEST_CASE("An lzop block claiming more than lzop's 64 MiB block limit is corrupt") {
  std::vector<uint8_t> z = CompressWith("lzop -c", KernelLikeData(4096));
  // The last block header sits before the 4-byte end mark; rewrite the
  // first block's dst_len instead: find it as the first occurrence of 4096.
  const std::vector<uint8_t> len4096 = {0x00, 0x00, 0x10, 0x00};
  auto it = std::search(z.begin(), z.end(), len4096.begin(), len4096.end());
  REQUIRE(it != z.end());
  it[0] = 0x7f;
  auto out = Decompress(z, kMiB);
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error().ToString(), Catch::Contains("impossible size"));
}

}  // namespace
}  // namespace mini_vmm::firmware::decompress
