#include "arch/x86_64/reset_vector.h"

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>

#include "arch/x86_64/platform/layout.h"
#include "arch/x86_64/memory_map.h"
#include "tests/support/fake_guest_memory.h"

namespace mini_vmm::arch::x86_64 {
namespace {

using testing::MakeGuestMemory;

constexpr uint64_t kOneMiB = 0x100000;

// Real mode's linear address of a segment:offset pair.
constexpr uint64_t RealModeAddress(uint16_t segment, uint16_t offset) {
  return (uint64_t{segment} << 4) + offset;
}

TEST_CASE("The stub writes a hard reset to port 0xCF9, then parks the CPU") {
  const std::array<uint8_t, 16> expected = {
      0xb0, 0x06,        // mov al, 0x06 (RST_CPU | SYS_RST)
      0xba, 0xf9, 0x0c,  // mov dx, 0xcf9
      0xee,              // out dx, al
      0xfa,              // cli
      0xf4,              // 1: hlt
      0xeb, 0xfd,        // jmp 1b
      0xf4, 0xf4, 0xf4, 0xf4, 0xf4, 0xf4,
  };

  CHECK(ResetVectorStub() == expected);
}

TEST_CASE("Linux's BIOS restart jump to F000:FFF0 lands on the stub") {
  CHECK(RealModeAddress(0xf000, 0xfff0) == kResetVectorAddress);
  CHECK(kResetVectorAddress + kResetVectorSize == kHighMemoryStart);
}

TEST_CASE("The reset vector is e820-reserved and clear of the MP table") {
  bool reserved = false;
  for (const ReservedRange& r : ReservedRanges()) {
    reserved |= r.address <= kResetVectorAddress &&
                kResetVectorAddress + kResetVectorSize <= r.address + r.size;
  }

  CHECK(reserved);
  CHECK(kMpTableAddress + kMpTableSize <= kResetVectorAddress);
}

TEST_CASE("WriteResetFirmware puts the stub at the reset vector") {
  GuestMemory mem = MakeGuestMemory(0, kOneMiB);

  REQUIRE(WriteResetFirmware(mem).ok());

  std::array<uint8_t, kResetVectorStubSize> stub{};
  REQUIRE(mem.Read(GuestAddress(kResetVectorAddress), stub));
  CHECK(stub == ResetVectorStub());
}

TEST_CASE("A guest that never touched the reset flag did not announce a reset") {
  GuestMemory mem = MakeGuestMemory(0, kOneMiB);
  REQUIRE(WriteResetFirmware(mem).ok());

  CHECK_FALSE(GuestAnnouncedReset(mem));
}

TEST_CASE("A cold reset flag (Linux's default) announces a reset") {
  GuestMemory mem = MakeGuestMemory(0, kOneMiB);
  REQUIRE(WriteResetFirmware(mem).ok());

  REQUIRE(mem.WriteObj(GuestAddress(kBiosResetFlagAddress), uint16_t{0x0000}));

  CHECK(GuestAnnouncedReset(mem));
}

TEST_CASE("A warm reset flag (reboot=warm) announces a reset") {
  GuestMemory mem = MakeGuestMemory(0, kOneMiB);
  REQUIRE(WriteResetFirmware(mem).ok());

  REQUIRE(mem.WriteObj(GuestAddress(kBiosResetFlagAddress), uint16_t{0x1234}));

  CHECK(GuestAnnouncedReset(mem));
}

TEST_CASE("A reset flag holding another value announces nothing") {
  GuestMemory mem = MakeGuestMemory(0, kOneMiB);
  REQUIRE(WriteResetFirmware(mem).ok());

  REQUIRE(mem.WriteObj(GuestAddress(kBiosResetFlagAddress), uint16_t{0x4321}));

  CHECK_FALSE(GuestAnnouncedReset(mem));
}

TEST_CASE("Guest RAM without the first MiB cannot hold the reset firmware") {
  GuestMemory mem = MakeGuestMemory(kOneMiB, kOneMiB);

  CHECK_FALSE(WriteResetFirmware(mem).ok());
  CHECK_FALSE(GuestAnnouncedReset(mem));
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
