#include "devices/legacy/i8042.h"

#include <catch2/catch.hpp>

#include "tests/unit/devices/legacy/legacy_fakes.h"

namespace mini_vmm::devices {
namespace {

using testing::CountingInterrupt;

// Status bits as Linux's i8042.h names them.
constexpr uint8_t kObf = 0x01;
constexpr uint8_t kIbf = 0x02;
constexpr uint8_t kSys = 0x04;
constexpr uint8_t kCmdDat = 0x08;
constexpr uint8_t kKeylock = 0x10;
constexpr uint8_t kAuxData = 0x20;
constexpr uint8_t kCtrKbdInt = 0x01;
constexpr uint8_t kCtrKbdDis = 0x10;

struct I8042Test {
  int resets = 0;
  CountingInterrupt irq1;
  I8042 i8042{[this] { ++resets; }, &irq1};

  uint8_t Status() { return In(I8042::kCommandPort); }
  uint8_t ReadData() { return In(I8042::kDataPort); }
  void Command(uint8_t command) { Out(I8042::kCommandPort, command); }
  void WriteData(uint8_t value) { Out(I8042::kDataPort, value); }

 private:
  // Both ports are 1-byte ranges: offset 0, told apart by address.
  uint8_t In(uint16_t port) {
    uint8_t value = 0;
    i8042.Read(IoAccess{port, 0, 0}, std::span<uint8_t>(&value, 1));
    return value;
  }
  void Out(uint16_t port, uint8_t value) {
    i8042.Write(IoAccess{port, 0, 0}, std::span<const uint8_t>(&value, 1));
  }
};

TEST_CASE_METHOD(I8042Test, "Status after power-on has SYS and keylock-off only") {
  CHECK(Status() == (kSys | kKeylock));
}

TEST_CASE_METHOD(I8042Test, "Status is never 0xff and never reports a busy input buffer") {
  Command(0x20);

  CHECK(Status() != 0xff);
  CHECK((Status() & kIbf) == 0);
}

TEST_CASE_METHOD(I8042Test, "Self-test answers 0x55") {
  Command(0xaa);

  CHECK((Status() & kObf) != 0);
  CHECK(ReadData() == 0x55);
  CHECK((Status() & kObf) == 0);
}

TEST_CASE_METHOD(I8042Test, "Keyboard interface test answers 0x00") {
  Command(0xab);

  CHECK(ReadData() == 0x00);
}

TEST_CASE_METHOD(I8042Test, "Command byte written with 0x60 reads back with 0x20") {
  Command(0x60);
  WriteData(0x47);
  Command(0x20);

  CHECK(ReadData() == 0x47);
}

TEST_CASE_METHOD(I8042Test, "Status tells whether the last write was a command") {
  Command(0x60);
  CHECK((Status() & kCmdDat) != 0);
  WriteData(0x45);
  CHECK((Status() & kCmdDat) == 0);
}

TEST_CASE_METHOD(I8042Test, "Disabling the keyboard sets the CTR disable bit") {
  Command(0xad);
  Command(0x20);
  CHECK((ReadData() & kCtrKbdDis) != 0);

  Command(0xae);
  Command(0x20);
  CHECK((ReadData() & kCtrKbdDis) == 0);
}

TEST_CASE_METHOD(I8042Test, "Pulsing the reset line calls reset exactly once") {
  Command(0xfe);

  CHECK(resets == 1);
}

TEST_CASE_METHOD(I8042Test, "Pulsing other output lines does not reset") {
  Command(0xff);

  CHECK(resets == 0);
}

TEST_CASE_METHOD(I8042Test, "Writing the output port with the reset bit clear resets") {
  Command(0xd1);
  WriteData(0xfe);

  CHECK(resets == 1);
}

TEST_CASE_METHOD(I8042Test, "Writing the output port with the reset bit set only stores it") {
  Command(0xd1);
  WriteData(0xdf);
  Command(0xd0);

  CHECK(resets == 0);
  CHECK(ReadData() == 0xdf);
}

TEST_CASE_METHOD(I8042Test, "AUX loop fails at once: an answer without the AUX-data bit") {
  Command(0xd3);
  WriteData(0x5a);

  CHECK((Status() & (kObf | kAuxData)) == kObf);
  CHECK(ReadData() == 0xfe);
}

TEST_CASE_METHOD(I8042Test, "AUX interface test reports a stuck clock line") {
  Command(0xa9);

  CHECK(ReadData() == 0x01);
}

TEST_CASE_METHOD(I8042Test, "Keyboard GET ID answers ACK and ID with one IRQ 1 edge per byte") {
  WriteData(0xf2);
  CHECK(irq1.count == 1);

  CHECK(ReadData() == 0xfa);
  CHECK(irq1.count == 2);
  CHECK(ReadData() == 0xab);
  CHECK(irq1.count == 3);
  CHECK(ReadData() == 0x41);  // Translated, as the default CTR asks.
  CHECK(irq1.count == 3);
  CHECK((Status() & kObf) == 0);
}

TEST_CASE_METHOD(I8042Test, "Keyboard answers raise no IRQ 1 while the CTR disables it") {
  Command(0x60);
  WriteData(0x00);

  WriteData(0xf4);

  CHECK(irq1.count == 0);
  CHECK(ReadData() == 0xfa);
}

TEST_CASE_METHOD(I8042Test,
                 "Enabling the keyboard interrupt with a keyboard byte waiting raises IRQ 1") {
  Command(0x60);
  WriteData(0x00);
  WriteData(0xf4);
  Command(0x60);

  WriteData(kCtrKbdInt);

  CHECK(irq1.count == 1);
}

TEST_CASE_METHOD(I8042Test, "Controller answers raise no IRQ 1") {
  Command(0xaa);

  CHECK(irq1.count == 0);
}

TEST_CASE_METHOD(I8042Test, "A new command discards unread output") {
  WriteData(0xf2);

  Command(0xaa);

  CHECK(ReadData() == 0x55);
  CHECK((Status() & kObf) == 0);
}

TEST_CASE("I8042 without a keyboard interrupt still answers the keyboard") {
  I8042 i8042([] {});
  uint8_t value = 0xff;
  i8042.Write(IoAccess{I8042::kDataPort, 0, 0}, std::span<const uint8_t>(&value, 1));

  i8042.Read(IoAccess{I8042::kDataPort, 0, 0}, std::span<uint8_t>(&value, 1));

  CHECK(value == 0xfa);
}

}  // namespace
}  // namespace mini_vmm::devices
