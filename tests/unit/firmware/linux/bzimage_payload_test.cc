// A bzImage's payload decompressed on the host and loaded as the ELF
// vmlinux it is: payloads are real streams (the tools Linux's build uses)
// of a fake vmlinux, with Linux's size trailer, inside a fake bzImage.
#include "firmware/linux/bzimage_payload.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "firmware/linux/kernel_loader.h"
#include "tests/support/compress_tool.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/fake_kernel_images.h"
#include "tests/support/packed.h"

namespace mini_vmm::firmware::linux_boot {
namespace {

using testing::CompressWith;
using testing::FakeBzImage;

constexpr uint64_t kMiB = 1 << 20;

using testing::AppendLe32;
using testing::LinuxPayload;

std::vector<uint8_t> FakeVmlinux() { return testing::ValidElfKernel().Build(); }

FakeBzImage WithPayload(const std::vector<uint8_t>& payload) {
  return testing::BzImageWithPayload(payload);
}

Result<decompress::DecompressedData> DecompressImage(const FakeBzImage& fake) {
  const std::vector<uint8_t> image = fake.Build();
  auto bz = ParseBzImage(image);
  VMM_CHECK(bz.ok());
  return DecompressBzImagePayload(*bz);
}

TEST_CASE("Every payload format decompresses to the vmlinux") {
  const char* command =
      GENERATE("gzip -n -9 -c", "bzip2 -9 -c", "xz --format=lzma -9 -c", "xz --check=crc32 -c",
               "lzop -9 -c", "lz4 -l -9 -c", "zstd -q -19 -c");
  CAPTURE(command);
  const std::vector<uint8_t> vmlinux = FakeVmlinux();
  auto out = DecompressImage(
      WithPayload(LinuxPayload(command, vmlinux, static_cast<uint32_t>(vmlinux.size()))));
  REQUIRE(out.ok());
  CHECK(std::vector<uint8_t>(out->bytes().begin(), out->bytes().end()) == vmlinux);
}

TEST_CASE("PayloadSizeAboveInitSize: a declared size beyond init_size is refused") {
  const std::vector<uint8_t> vmlinux = FakeVmlinux();
  FakeBzImage bz = WithPayload(LinuxPayload("zstd -q -c", vmlinux, 2 * testing::kFakeInitSize));
  auto out = DecompressImage(bz);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().ToString() ==
        "the bzImage's zstd payload says it decompresses to 2097152 bytes, more than the 1048576 "
        "its init_size allows");
}

TEST_CASE("PayloadBomb: a stream longer than its size trailer stops at the trailer") {
  std::vector<uint8_t> big = FakeVmlinux();
  big.resize(3 * kMiB);
  auto out = DecompressImage(WithPayload(LinuxPayload("lz4 -l -c", big, 4096)));
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().ToString() ==
        "cannot decompress the bzImage's payload: the lz4 data decompresses to more than 4096 "
        "bytes");
}

TEST_CASE("PayloadShorterThanTrailer: output shorter than the size trailer is refused") {
  const std::vector<uint8_t> vmlinux = FakeVmlinux();
  const uint32_t declared = static_cast<uint32_t>(vmlinux.size() + 1);
  auto out = DecompressImage(WithPayload(LinuxPayload("xz -c", vmlinux, declared)));
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error().ToString(), Catch::Contains("but its size trailer says"));
}

TEST_CASE("PayloadTruncated: a cut-off stream names the fault") {
  const std::vector<uint8_t> vmlinux = FakeVmlinux();
  std::vector<uint8_t> z = CompressWith("bzip2 -c", vmlinux);
  z.resize(z.size() / 2);
  AppendLe32(z, static_cast<uint32_t>(vmlinux.size()));
  auto out = DecompressImage(WithPayload(z));
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error().ToString(), Catch::Contains("the bzip2 data is truncated"));
}

TEST_CASE("PayloadBadMagic: an unknown format points at in-guest decompression") {
  std::vector<uint8_t> payload(64, 0xab);
  auto out = DecompressImage(WithPayload(payload));
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error().ToString(), Catch::Contains("--kernel-decompress=guest"));
}

TEST_CASE("PayloadNotElf: a payload that is not a vmlinux is refused") {
  const std::vector<uint8_t> text(4096, 'x');
  auto out = DecompressImage(WithPayload(LinuxPayload("gzip -c", text, 4096)));
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().ToString() ==
        "the bzImage's gzip payload does not decompress to an ELF vmlinux");
}

TEST_CASE("The decompressed kernel is entered at the ELF entry with the bzImage's header") {
  const GuestMemory mem = testing::MakeGuestMemory(0, 64 * kMiB);
  FakeBzImage bz = testing::ValidBzImage();
  bz.header.cmdline_size = 4095;
  const std::vector<uint8_t> vmlinux = FakeVmlinux();
  auto kernel = LoadDecompressedKernel(mem, bz.header, vmlinux);
  REQUIRE(kernel.ok());
  CHECK(kernel->format == KernelFormat::kDecompressedBzImage);
  CHECK(kernel->entry == testing::kFakeElfEntry);
  CHECK(mini_vmm::testing::Value(kernel->header.cmdline_size) == 4095);
  CHECK(kernel->end == testing::kFakeElfLoadAddress + testing::kFakeElfMemorySize);
  uint8_t first = 0;
  REQUIRE(mem.Read(GuestAddress(testing::kFakeElfLoadAddress), {&first, 1}));
  CHECK(first == testing::kFakeElfSegmentByte);
}

TEST_CASE("HeaderClaimsKaslr: the decompressed kernel is not told it was randomised") {
  const GuestMemory mem = testing::MakeGuestMemory(0, 64 * kMiB);
  FakeBzImage bz = testing::ValidBzImage();
  bz.header.loadflags = LOADED_HIGH | KASLR_FLAG;
  auto kernel = LoadDecompressedKernel(mem, bz.header, FakeVmlinux());
  REQUIRE(kernel.ok());
  CHECK(mini_vmm::testing::Value(kernel->header.loadflags) == LOADED_HIGH);
}

TEST_CASE("DecompressedKernelTooBigForRam: a vmlinux beyond guest RAM fails") {
  const GuestMemory mem = testing::MakeGuestMemory(0, 8 * kMiB);
  auto kernel = LoadDecompressedKernel(mem, testing::ValidBzImage().header, FakeVmlinux());
  REQUIRE_FALSE(kernel.ok());
  CHECK_THAT(kernel.error().ToString(), Catch::Contains("guest memory is too small"));
}

}  // namespace
}  // namespace mini_vmm::firmware::linux_boot
