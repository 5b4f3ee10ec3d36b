#include "firmware/linux/bzimage.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "tests/support/fake_kernel_images.h"
#include "tests/support/packed.h"

namespace mini_vmm::firmware::linux_boot {
namespace {

using testing::FakeBzImage;
using testing::kFakeProtectedModeSize;
using testing::kFakeSetupSize;
using testing::ValidBzImage;

// --- A valid image ----------------------------------------------------------

TEST_CASE("A valid bzImage parses with its setup header") {
  const std::vector<uint8_t> image = ValidBzImage().Build();

  auto bz = ParseBzImage(image);

  REQUIRE(bz.ok());
  CHECK(mini_vmm::testing::Value(bz->header.version) == 0x020f);
  CHECK(mini_vmm::testing::Value(bz->header.pref_address) == testing::kFakePrefAddress);
  CHECK(mini_vmm::testing::Value(bz->header.init_size) == testing::kFakeInitSize);
  CHECK(mini_vmm::testing::Value(bz->header.cmdline_size) == 2047);
}

TEST_CASE("The protected-mode part starts after setup_sects + 1 sectors") {
  const std::vector<uint8_t> image = ValidBzImage().Build();

  auto bz = ParseBzImage(image);

  REQUIRE(bz.ok());
  CHECK(bz->protected_mode.data() == image.data() + kFakeSetupSize);
  CHECK(bz->protected_mode.size() == kFakeProtectedModeSize);
}

TEST_CASE("setup_sects 0 means 4 setup sectors") {
  FakeBzImage fake = ValidBzImage();
  fake.header.setup_sects = 0;
  const std::vector<uint8_t> image = fake.Build();

  auto bz = ParseBzImage(image);

  REQUIRE(bz.ok());
  CHECK(bz->protected_mode.data() == image.data() + 5 * 512);
}

TEST_CASE("The payload is payload_length bytes at payload_offset in the protected-mode part") {
  const std::vector<uint8_t> image = ValidBzImage().Build();

  auto bz = ParseBzImage(image);

  REQUIRE(bz.ok());
  CHECK(bz->payload.data() == image.data() + kFakeSetupSize + testing::kFakePayloadOffset);
  CHECK(bz->payload.size() == testing::kFakePayloadLength);
}

TEST_CASE("Header bytes past the header's end (setup code) are zeroed") {
  FakeBzImage fake = ValidBzImage();
  // The jump ends the header at 0x264; these two fields lie beyond it and
  // their bytes are setup code in a real image.
  fake.header.handover_offset = 0xcccccccc;
  fake.header.kernel_info_offset = 0xcccccccc;
  const std::vector<uint8_t> image = fake.Build();

  auto bz = ParseBzImage(image);

  REQUIRE(bz.ok());
  CHECK(mini_vmm::testing::Value(bz->header.handover_offset) == 0);
  CHECK(mini_vmm::testing::Value(bz->header.kernel_info_offset) == 0);
  CHECK(mini_vmm::testing::Value(bz->header.init_size) == testing::kFakeInitSize);
}

TEST_CASE("A header that extends to kernel_info_offset keeps that field") {
  FakeBzImage fake = ValidBzImage();
  fake.jump_displacement = 0x6a;  // Header ends at 0x26c, after kernel_info_offset.
  fake.header.kernel_info_offset = 0x1234;
  const std::vector<uint8_t> image = fake.Build();

  auto bz = ParseBzImage(image);

  REQUIRE(bz.ok());
  CHECK(mini_vmm::testing::Value(bz->header.kernel_info_offset) == 0x1234);
}

TEST_CASE("CmdlineLimit is the header's cmdline_size from protocol 2.06") {
  setup_header header{};
  header.version = 0x0206;
  header.cmdline_size = 4095;

  CHECK(CmdlineLimit(header) == 4095);
}

TEST_CASE("CmdlineLimit is 255 before protocol 2.06") {
  setup_header header{};
  header.version = 0x0205;
  header.cmdline_size = 4095;

  CHECK(CmdlineLimit(header) == 255);
}

// --- Malformed images ---------------------------------------------------------

TEST_CASE("ShortHeader: xloadflags bytes past the header's end do not make a kernel 64-bit") {
  FakeBzImage fake = ValidBzImage();
  // The jump ends the header at 0x232, before xloadflags (0x236): whatever
  // is there is setup code, even if it happens to have XLF_KERNEL_64 set.
  fake.jump_displacement = 0x30;
  fake.header.xloadflags = XLF_KERNEL_64;

  auto bz = ParseBzImage(fake.Build());

  REQUIRE_FALSE(bz.ok());
  CHECK(bz.error().ToString() ==
        "this kernel cannot be entered in 64-bit mode (not an x86_64 kernel?)");
}

TEST_CASE("TooSmallFile: a file shorter than the setup header is rejected") {
  const std::vector<uint8_t> image(0x200, 0);

  auto bz = ParseBzImage(image);

  REQUIRE_FALSE(bz.ok());
  CHECK(bz.error().ToString() == "the file is too small to be a Linux kernel (512 bytes)");
}

TEST_CASE("BadMagic: an image without \"HdrS\" is not a bzImage") {
  FakeBzImage fake = ValidBzImage();
  fake.header.header = 0;

  auto bz = ParseBzImage(fake.Build());

  REQUIRE_FALSE(bz.ok());
  CHECK(bz.error().ToString() == "not a Linux bzImage (no boot signature and \"HdrS\" header)");
}

TEST_CASE("NoBootFlag: an image without 0xAA55 at 0x1FE is not a bzImage") {
  FakeBzImage fake = ValidBzImage();
  fake.header.boot_flag = 0;

  auto bz = ParseBzImage(fake.Build());

  REQUIRE_FALSE(bz.ok());
  CHECK(bz.error().ToString() == "not a Linux bzImage (no boot signature and \"HdrS\" header)");
}

TEST_CASE("OldProtocol: protocol 2.08 is rejected, saying 2.12 is needed") {
  FakeBzImage fake = ValidBzImage();
  fake.header.version = 0x0208;

  auto bz = ParseBzImage(fake.Build());

  REQUIRE_FALSE(bz.ok());
  CHECK(
      bz.error().ToString() ==
      "boot protocol 2.08 is too old: mini-vmm needs 2.12 or later (Linux 3.8+) for 64-bit entry");
}

TEST_CASE("NotX86_64: a kernel without XLF_KERNEL_64 is rejected") {
  FakeBzImage fake = ValidBzImage();
  fake.header.xloadflags = 0;

  auto bz = ParseBzImage(fake.Build());

  REQUIRE_FALSE(bz.ok());
  CHECK(bz.error().ToString() ==
        "this kernel cannot be entered in 64-bit mode (not an x86_64 kernel?)");
}

TEST_CASE("NotLoadedHigh: a zImage (no LOADED_HIGH) is rejected") {
  FakeBzImage fake = ValidBzImage();
  fake.header.loadflags = 0;

  auto bz = ParseBzImage(fake.Build());

  REQUIRE_FALSE(bz.ok());
  CHECK(bz.error().ToString() ==
        "this kernel does not load at 1 MiB (zImage); rebuild it as bzImage");
}

TEST_CASE("Truncated: a syssize beyond the end of the file is rejected with both sizes") {
  FakeBzImage fake = ValidBzImage();
  fake.header.syssize = kFakeProtectedModeSize / 16 + 1;

  auto bz = ParseBzImage(fake.Build());

  REQUIRE_FALSE(bz.ok());
  CHECK(bz.error().ToString() ==
        "the kernel image is truncated: its header describes 6672 bytes, the file has 6656");
}

TEST_CASE("SetupPastEnd: setup sectors that fill the whole file are rejected") {
  FakeBzImage fake = ValidBzImage();
  fake.protected_mode.clear();
  fake.header.syssize = 0;

  auto bz = ParseBzImage(fake.Build());

  REQUIRE_FALSE(bz.ok());
  CHECK_THAT(bz.error().ToString(), Catch::StartsWith("the kernel image is truncated"));
}

TEST_CASE("PayloadPastEnd: a payload running past the protected-mode part is rejected") {
  FakeBzImage fake = ValidBzImage();
  fake.header.payload_offset = kFakeProtectedModeSize - 0x100;
  fake.header.payload_length = 0x101;

  auto bz = ParseBzImage(fake.Build());

  REQUIRE_FALSE(bz.ok());
  CHECK(bz.error().ToString() ==
        "the kernel image is truncated: its compressed payload runs past the end");
}

TEST_CASE("PayloadOffsetPastEnd: an empty payload placed past the end is rejected") {
  FakeBzImage fake = ValidBzImage();
  fake.header.payload_offset = kFakeProtectedModeSize + 0x1000;
  fake.header.payload_length = 0;

  auto bz = ParseBzImage(fake.Build());

  REQUIRE_FALSE(bz.ok());
  CHECK(bz.error().ToString() ==
        "the kernel image is truncated: its compressed payload runs past the end");
}

}  // namespace
}  // namespace mini_vmm::firmware::linux_boot
