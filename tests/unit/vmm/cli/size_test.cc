#include "vmm/cli/size.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>

namespace mini_vmm::cli {
namespace {

constexpr uint64_t kKiB = uint64_t{1} << 10;
constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kTiB = uint64_t{1} << 40;

TEST_CASE("A size with an M suffix is MiB") { CHECK(ParseMemorySize("512M") == 512 * kMiB); }

TEST_CASE("A size with a G suffix is GiB") { CHECK(ParseMemorySize("2G") == 2 * kGiB); }

TEST_CASE("A bare number is MiB, as in QEMU's -m") {
  CHECK(ParseMemorySize("1024") == 1024 * kMiB);
}

TEST_CASE("A KiB suffix is KiB") { CHECK(ParseMemorySize("4KiB") == 4 * kKiB); }

TEST_CASE("A T suffix is TiB") { CHECK(ParseMemorySize("1T") == kTiB); }

TEST_CASE("Suffixes are case-insensitive in the unit letter") {
  CHECK(ParseMemorySize("2g") == 2 * kGiB);
}

TEST_CASE("The unit may be followed by i, B or iB") {
  CHECK(ParseMemorySize("3Mi") == 3 * kMiB);
  CHECK(ParseMemorySize("3MB") == 3 * kMiB);
  CHECK(ParseMemorySize("3MiB") == 3 * kMiB);
}

TEST_CASE("The largest size that fits in 64 bits is accepted") {
  CHECK(ParseMemorySize("16777215T") == 16777215 * kTiB);
}

TEST_CASE("BadEmpty: an empty size is rejected") { CHECK(ParseMemorySize("") == std::nullopt); }

TEST_CASE("BadNoDigits: a unit without a number is rejected") {
  CHECK(ParseMemorySize("M") == std::nullopt);
}

TEST_CASE("BadUnit: an unknown unit is rejected") { CHECK(ParseMemorySize("12X") == std::nullopt); }

TEST_CASE("BadNegative: a negative size is rejected") {
  CHECK(ParseMemorySize("-5") == std::nullopt);
}

TEST_CASE("BadDigitsOverflow: a number too large for 64 bits is rejected") {
  CHECK(ParseMemorySize("99999999999999999999G") == std::nullopt);
}

TEST_CASE("BadShiftOverflow: a number that overflows once scaled by its unit is rejected") {
  CHECK(ParseMemorySize("16777216T") == std::nullopt);
}

TEST_CASE("BadTrailing: text after the unit is rejected") {
  CHECK(ParseMemorySize("12MiBs") == std::nullopt);
}

TEST_CASE("BadSpace: a space between number and unit is rejected") {
  CHECK(ParseMemorySize("12 M") == std::nullopt);
}

}  // namespace
}  // namespace mini_vmm::cli
