#include "devices/legacy/rtc.h"

#include <catch2/catch.hpp>

#include "arch/x86_64/platform/layout.h"
#include "tests/unit/devices/legacy/legacy_fakes.h"

namespace mini_vmm::devices {
namespace {

using testing::PortDriver;

constexpr uint64_t kIndex = 0;
constexpr uint64_t kData = 1;
constexpr std::time_t k2026Nov23At180907 = 1795457347;  // A Monday, UTC.
constexpr std::time_t k2026Nov23At003000 = 1795393800;

struct RtcTest {
  std::time_t now = k2026Nov23At180907;
  Rtc rtc{[this] { return now; }};
  PortDriver port{rtc, arch::x86_64::kRtcPort};

  uint8_t ReadCmos(uint8_t index) {
    port.Out(kIndex, index);
    return port.In(kData);
  }
  void WriteCmos(uint8_t index, uint8_t value) {
    port.Out(kIndex, index);
    port.Out(kData, value);
  }
};

TEST_CASE_METHOD(RtcTest, "Time registers read the clock in BCD") {
  CHECK(ReadCmos(0x00) == 0x07);  // seconds
  CHECK(ReadCmos(0x02) == 0x09);  // minutes
  CHECK(ReadCmos(0x04) == 0x18);  // hours, 24-hour mode
  CHECK(ReadCmos(0x06) == 0x02);  // weekday: Monday, Sunday being 1
  CHECK(ReadCmos(0x07) == 0x23);  // day of month
  CHECK(ReadCmos(0x08) == 0x11);  // month
  CHECK(ReadCmos(0x09) == 0x26);  // year
  CHECK(ReadCmos(0x32) == 0x20);  // century
}

TEST_CASE_METHOD(RtcTest, "Register B's DM bit selects binary time") {
  WriteCmos(0x0b, 0x02 | 0x04);

  CHECK(ReadCmos(0x04) == 18);
  CHECK(ReadCmos(0x07) == 23);
  CHECK(ReadCmos(0x09) == 26);
  CHECK(ReadCmos(0x32) == 20);
}

TEST_CASE_METHOD(RtcTest, "12-hour mode marks afternoon hours with bit 7") {
  WriteCmos(0x0b, 0x00);

  CHECK(ReadCmos(0x04) == (0x80 | 0x06));
}

TEST_CASE_METHOD(RtcTest, "12-hour mode shows half past midnight as 12 AM") {
  now = k2026Nov23At003000;
  WriteCmos(0x0b, 0x00);

  CHECK(ReadCmos(0x04) == 0x12);
}

TEST_CASE_METHOD(RtcTest, "Status registers read their PC defaults") {
  CHECK(ReadCmos(0x0a) == 0x26);
  CHECK(ReadCmos(0x0b) == 0x02);
  CHECK(ReadCmos(0x0c) == 0x00);
  CHECK(ReadCmos(0x0d) == 0x80);
}

TEST_CASE_METHOD(RtcTest, "Register A never shows an update in progress") {
  WriteCmos(0x0a, 0xa6);

  CHECK(ReadCmos(0x0a) == 0x26);
}

TEST_CASE_METHOD(RtcTest, "Register D keeps its valid bit against writes") {
  WriteCmos(0x0d, 0x00);

  CHECK(ReadCmos(0x0d) == 0x80);
}

TEST_CASE_METHOD(RtcTest, "The NMI-mask bit of the index is stripped") {
  port.Out(kIndex, 0x80 | 0x00);

  CHECK(port.In(kData) == 0x07);
}

TEST_CASE_METHOD(RtcTest, "An index beyond the RAM wraps into it") {
  WriteCmos(0xff, 0x42);

  CHECK(ReadCmos(0x7f) == 0x42);
}

TEST_CASE_METHOD(RtcTest, "Other CMOS bytes are plain RAM") {
  WriteCmos(0x40, 0x5a);

  CHECK(ReadCmos(0x40) == 0x5a);
}

TEST_CASE_METHOD(RtcTest, "Guest writes to the time registers are ignored") {
  WriteCmos(0x00, 0x59);
  WriteCmos(0x09, 0x99);

  CHECK(ReadCmos(0x00) == 0x07);
  CHECK(ReadCmos(0x09) == 0x26);
}

TEST_CASE_METHOD(RtcTest, "The index port is write-only") {
  port.Out(kIndex, 0x0a);

  CHECK(port.In(kIndex) == 0xff);
}

TEST_CASE_METHOD(RtcTest, "Time follows the clock") {
  now += 1;

  CHECK(ReadCmos(0x00) == 0x08);
}

}  // namespace
}  // namespace mini_vmm::devices
