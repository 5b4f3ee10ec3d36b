// Ring checks before vhost sees a ring: sizes per virtio 1.2 §2.7 (with and
// without the event-index fields), alignments, and every way a part can
// leave guest RAM. Test names say what the driver got wrong.
#include "devices/virtio/vhost/vring.h"

#include <catch2/catch.hpp>

#include "tests/support/fake_guest_memory.h"

namespace mini_vmm::virtio::vhost {
namespace {

constexpr uint64_t kRamEnd = 0x10000;

struct VringTest {
  // Two RAM regions with a hole between them: [0, 64K) and [128K, 192K).
  GuestMemory mem =
      testing::MakeGuestMemory({{GuestAddress(0), kRamEnd}, {GuestAddress(2 * kRamEnd), kRamEnd}});
  VringGuestAddresses ring{.size = 256,
                           .desc = GuestAddress(0x1000),
                           .avail = GuestAddress(0x2000),
                           .used = GuestAddress(0x3000)};

  std::optional<VringFault> Check(bool event_idx = true) const {
    return CheckVring(mem, ring, event_idx);
  }
};

TEST_CASE("split ring part sizes follow virtio 1.2 section 2.7") {
  CHECK(DescTableBytes(256) == 4096);
  CHECK(AvailRingBytes(256, false) == 4 + 512);
  CHECK(AvailRingBytes(256, true) == 4 + 512 + 2);
  CHECK(UsedRingBytes(256, false) == 4 + 2048);
  CHECK(UsedRingBytes(256, true) == 4 + 2048 + 2);
  CHECK(DescTableBytes(32768) == 524288);
}

TEST_CASE_METHOD(VringTest, "a ring inside RAM translates to the host addresses of its parts") {
  auto host = TranslateVring(mem, ring, true);
  REQUIRE(host.ok());
  CHECK(host->desc == reinterpret_cast<uint64_t>(mem.TranslateToHost(ring.desc, 1)));
  CHECK(host->avail == reinterpret_cast<uint64_t>(mem.TranslateToHost(ring.avail, 1)));
  CHECK(host->used == reinterpret_cast<uint64_t>(mem.TranslateToHost(ring.used, 1)));
}

TEST_CASE_METHOD(VringTest, "a ring in the second RAM region translates") {
  ring.desc = GuestAddress(2 * kRamEnd);
  ring.avail = GuestAddress(2 * kRamEnd + 0x1000);
  ring.used = GuestAddress(2 * kRamEnd + 0x2000);
  auto host = TranslateVring(mem, ring, true);
  REQUIRE(host.ok());
  CHECK(host->desc == reinterpret_cast<uint64_t>(mem.regions()[1].host_address()));
}

TEST_CASE_METHOD(VringTest, "ring size zero is refused") {
  ring.size = 0;
  CHECK(Check() == VringFault::kSizeInvalid);
}

TEST_CASE_METHOD(VringTest, "ring size not a power of two is refused") {
  ring.size = 100;
  CHECK(Check() == VringFault::kSizeInvalid);
}

TEST_CASE_METHOD(VringTest, "descriptor table not 16-byte aligned is refused") {
  ring.desc = GuestAddress(0x1008);
  CHECK(Check() == VringFault::kDescMisaligned);
}

TEST_CASE_METHOD(VringTest, "available ring at an odd address is refused") {
  ring.avail = GuestAddress(0x2001);
  CHECK(Check() == VringFault::kAvailMisaligned);
}

TEST_CASE_METHOD(VringTest, "used ring not 4-byte aligned is refused") {
  ring.used = GuestAddress(0x3002);
  CHECK(Check() == VringFault::kUsedMisaligned);
}

TEST_CASE_METHOD(VringTest, "descriptor table entirely outside RAM is refused") {
  ring.desc = GuestAddress(kRamEnd + 0x1000);  // The hole.
  CHECK(Check() == VringFault::kDescOutsideRam);
}

TEST_CASE_METHOD(VringTest, "descriptor table running past the end of RAM is refused") {
  ring.desc = GuestAddress(kRamEnd - DescTableBytes(256) + 16);
  CHECK(Check() == VringFault::kDescOutsideRam);
}

TEST_CASE_METHOD(VringTest, "descriptor table spanning the hole between regions is refused") {
  // Starts in region 0 and would continue in region 1 on the host only if
  // the two mappings were adjacent; in guest terms it crosses a hole.
  ring.desc = GuestAddress(kRamEnd - 16);
  CHECK(Check() == VringFault::kDescOutsideRam);
}

TEST_CASE_METHOD(VringTest, "descriptor table whose end wraps past 2^64 is refused") {
  ring.desc = GuestAddress(~uint64_t{0xf});
  CHECK(Check() == VringFault::kDescOutsideRam);
}

TEST_CASE_METHOD(VringTest, "available ring outside RAM is refused") {
  ring.avail = GuestAddress(3 * kRamEnd);
  CHECK(Check() == VringFault::kAvailOutsideRam);
}

TEST_CASE_METHOD(VringTest,
                 "available ring whose used_event field is past the end of RAM is refused") {
  // Fits exactly without the event index field, not with it.
  ring.avail = GuestAddress(kRamEnd - AvailRingBytes(256, false));
  CHECK(Check(false) == std::nullopt);
  CHECK(Check(true) == VringFault::kAvailOutsideRam);
}

TEST_CASE_METHOD(VringTest, "used ring whose avail_event field is past the end of RAM is refused") {
  ring.used = GuestAddress(kRamEnd - UsedRingBytes(256, false));
  CHECK(Check(false) == std::nullopt);
  CHECK(Check(true) == VringFault::kUsedOutsideRam);
}

TEST_CASE_METHOD(VringTest, "a refused ring's error names the fault and the addresses") {
  ring.used = GuestAddress(3 * kRamEnd);
  auto host = TranslateVring(mem, ring, true);
  REQUIRE_FALSE(host.ok());
  CHECK(host.error().ToString() ==
        "the driver gave a ring of 256 entries (descriptors 0x1000, available 0x2000, used "
        "0x30000) with a used ring outside guest RAM");
}

}  // namespace
}  // namespace mini_vmm::virtio::vhost
