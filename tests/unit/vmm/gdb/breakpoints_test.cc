#include "vmm/gdb/breakpoints.h"

#include <catch2/catch.hpp>

#include "tests/support/fake_gdb_target.h"

namespace mini_vmm::gdb {
namespace {

using mini_vmm::testing::FakeGdbTarget;

constexpr uint64_t kText = 0xffffffff81000000;
constexpr uint64_t kTextPhysical = 0x2000;
constexpr uint64_t kData = 0xffffffff82000000;

class BreakpointsTest {
 public:
  BreakpointsTest() : target(1), breakpoints(target) {
    target.Map(kText, kTextPhysical);
    target.memory[kTextPhysical + 0x10] = 0x55;  // push %rbp
  }
  FakeGdbTarget target;
  Breakpoints breakpoints;
};

TEST_CASE_METHOD(BreakpointsTest, "A software breakpoint plants int3 and removal restores") {
  REQUIRE(breakpoints.Insert(BreakpointType::kSoftware, kText + 0x10, 1, 0) ==
          BreakpointStatus::kOk);
  CHECK(target.memory[kTextPhysical + 0x10] == Breakpoints::kInt3);
  CHECK(breakpoints.HasSoftware(kText + 0x10));
  REQUIRE(breakpoints.Remove(BreakpointType::kSoftware, kText + 0x10, 1) == BreakpointStatus::kOk);
  CHECK(target.memory[kTextPhysical + 0x10] == 0x55);
  CHECK_FALSE(breakpoints.HasSoftware(kText + 0x10));
}

TEST_CASE_METHOD(BreakpointsTest, "Setting a software breakpoint twice keeps the guest's byte") {
  REQUIRE(breakpoints.Insert(BreakpointType::kSoftware, kText + 0x10, 1, 0) ==
          BreakpointStatus::kOk);
  REQUIRE(breakpoints.Insert(BreakpointType::kSoftware, kText + 0x10, 1, 0) ==
          BreakpointStatus::kOk);
  CHECK(breakpoints.software_count() == 1);
  REQUIRE(breakpoints.Remove(BreakpointType::kSoftware, kText + 0x10, 1) == BreakpointStatus::kOk);
  CHECK(target.memory[kTextPhysical + 0x10] == 0x55);
}

TEST_CASE_METHOD(BreakpointsTest, "Removing an unknown software breakpoint is NotFound") {
  CHECK(breakpoints.Remove(BreakpointType::kSoftware, kText, 1) == BreakpointStatus::kNotFound);
}

TEST_CASE_METHOD(BreakpointsTest, "A software breakpoint on an unmapped address is a Fault") {
  CHECK(breakpoints.Insert(BreakpointType::kSoftware, kData, 1, 0) == BreakpointStatus::kFault);
  CHECK(breakpoints.software_count() == 0);
}

TEST_CASE_METHOD(BreakpointsTest, "A software breakpoint outside guest RAM is a Fault") {
  target.Map(kData, 1ull << 40);
  CHECK(breakpoints.Insert(BreakpointType::kSoftware, kData, 1, 0) == BreakpointStatus::kFault);
}

TEST_CASE_METHOD(BreakpointsTest, "A software breakpoint of kind 2 is Invalid") {
  CHECK(breakpoints.Insert(BreakpointType::kSoftware, kText, 2, 0) == BreakpointStatus::kInvalid);
}

TEST_CASE_METHOD(BreakpointsTest, "A second virtual alias of a planted byte is Invalid") {
  target.Map(kData, kTextPhysical);
  REQUIRE(breakpoints.Insert(BreakpointType::kSoftware, kText + 0x10, 1, 0) ==
          BreakpointStatus::kOk);
  CHECK(breakpoints.Insert(BreakpointType::kSoftware, kData + 0x10, 1, 0) ==
        BreakpointStatus::kInvalid);
}

TEST_CASE_METHOD(BreakpointsTest, "Removal leaves a byte the guest overwrote since") {
  REQUIRE(breakpoints.Insert(BreakpointType::kSoftware, kText + 0x10, 1, 0) ==
          BreakpointStatus::kOk);
  target.memory[kTextPhysical + 0x10] = 0x90;  // The guest patched its text.
  REQUIRE(breakpoints.Remove(BreakpointType::kSoftware, kText + 0x10, 1) == BreakpointStatus::kOk);
  CHECK(target.memory[kTextPhysical + 0x10] == 0x90);
}

TEST_CASE_METHOD(BreakpointsTest, "Lift puts the original back and Rearm plants int3 again") {
  REQUIRE(breakpoints.Insert(BreakpointType::kSoftware, kText + 0x10, 1, 0) ==
          BreakpointStatus::kOk);
  breakpoints.Lift(kText + 0x10);
  CHECK(target.memory[kTextPhysical + 0x10] == 0x55);
  breakpoints.Rearm(kText + 0x10);
  CHECK(target.memory[kTextPhysical + 0x10] == Breakpoints::kInt3);
}

TEST_CASE_METHOD(BreakpointsTest, "Software breakpoints beyond the table's limit get NoSpace") {
  for (uint64_t i = 0; i < 16; ++i) target.Map(0x100000 + i * 0x1000, i * 0x1000);
  // 16 pages of 4 KiB hold more than kMaxSoftware distinct bytes.
  for (uint64_t i = 0; i < Breakpoints::kMaxSoftware; ++i) {
    REQUIRE(breakpoints.Insert(BreakpointType::kSoftware, 0x100000 + i, 1, 0) ==
            BreakpointStatus::kOk);
  }
  CHECK(breakpoints.Insert(BreakpointType::kSoftware, 0x100000 + Breakpoints::kMaxSoftware, 1, 0) ==
        BreakpointStatus::kNoSpace);
}

TEST_CASE_METHOD(BreakpointsTest, "HideInt3s shows the guest's bytes under planted breakpoints") {
  REQUIRE(breakpoints.Insert(BreakpointType::kSoftware, kText + 0x10, 1, 0) ==
          BreakpointStatus::kOk);
  std::array<uint8_t, 4> data{0xcc, 0xcc, 0xcc, 0xcc};
  breakpoints.HideInt3s(kTextPhysical + 0xe, data);
  CHECK(data == std::array<uint8_t, 4>{0xcc, 0xcc, 0x55, 0xcc});
}

TEST_CASE_METHOD(BreakpointsTest, "AfterWrite keeps the int3 and remembers the new byte") {
  REQUIRE(breakpoints.Insert(BreakpointType::kSoftware, kText + 0x10, 1, 0) ==
          BreakpointStatus::kOk);
  const std::array<uint8_t, 1> written{0x90};
  target.memory[kTextPhysical + 0x10] = 0x90;  // What WriteVirtual did.
  breakpoints.AfterWrite(kTextPhysical + 0x10, written);
  CHECK(target.memory[kTextPhysical + 0x10] == Breakpoints::kInt3);
  REQUIRE(breakpoints.Remove(BreakpointType::kSoftware, kText + 0x10, 1) == BreakpointStatus::kOk);
  CHECK(target.memory[kTextPhysical + 0x10] == 0x90);
}

// --- Debug registers ------------------------------------------------------

TEST_CASE_METHOD(BreakpointsTest, "A hardware breakpoint takes a debug register") {
  REQUIRE(breakpoints.Insert(BreakpointType::kHardware, kText, 1, 0) == BreakpointStatus::kOk);
  REQUIRE(target.hardware[0].has_value());
  CHECK(*target.hardware[0] == HardwareBreakpoint{HardwareBreakpoint::Kind::kExecute, kText, 1});
  CHECK(target.memory[kTextPhysical] == 0);  // Nothing written to memory.
}

TEST_CASE_METHOD(BreakpointsTest, "Watchpoints map to write and read/write debug registers") {
  REQUIRE(breakpoints.Insert(BreakpointType::kWriteWatch, kData, 8, 0) == BreakpointStatus::kOk);
  REQUIRE(breakpoints.Insert(BreakpointType::kReadWatch, kData + 8, 4, 0) == BreakpointStatus::kOk);
  REQUIRE(breakpoints.Insert(BreakpointType::kAccessWatch, kData + 12, 2, 0) ==
          BreakpointStatus::kOk);
  CHECK(target.hardware[0]->kind == HardwareBreakpoint::Kind::kWrite);
  CHECK(target.hardware[1]->kind == HardwareBreakpoint::Kind::kReadWrite);
  CHECK(target.hardware[2]->kind == HardwareBreakpoint::Kind::kReadWrite);
  CHECK(target.hardware[2]->length == 2);
  CHECK(breakpoints.slot(1)->type == BreakpointType::kReadWatch);
}

TEST_CASE_METHOD(BreakpointsTest, "A fifth debug-register breakpoint gets NoSpace") {
  for (uint64_t i = 0; i < 4; ++i) {
    REQUIRE(breakpoints.Insert(BreakpointType::kWriteWatch, kData + 8 * i, 8, 0) ==
            BreakpointStatus::kOk);
  }
  CHECK(breakpoints.Insert(BreakpointType::kHardware, kText, 1, 0) == BreakpointStatus::kNoSpace);
}

TEST_CASE_METHOD(BreakpointsTest, "The same watchpoint twice takes one debug register") {
  REQUIRE(breakpoints.Insert(BreakpointType::kWriteWatch, kData, 4, 0) == BreakpointStatus::kOk);
  REQUIRE(breakpoints.Insert(BreakpointType::kWriteWatch, kData, 4, 0) == BreakpointStatus::kOk);
  CHECK_FALSE(target.hardware[1].has_value());
}

TEST_CASE_METHOD(BreakpointsTest, "A watchpoint of length 3 is Invalid, not widened") {
  CHECK(breakpoints.Insert(BreakpointType::kWriteWatch, kData, 3, 0) == BreakpointStatus::kInvalid);
  CHECK(target.hardware_updates == 0);
}

TEST_CASE_METHOD(BreakpointsTest, "A watchpoint of length 16 is Invalid, not split") {
  CHECK(breakpoints.Insert(BreakpointType::kAccessWatch, kData, 16, 0) ==
        BreakpointStatus::kInvalid);
}

TEST_CASE_METHOD(BreakpointsTest, "A misaligned watchpoint is Invalid") {
  CHECK(breakpoints.Insert(BreakpointType::kWriteWatch, kData + 4, 8, 0) ==
        BreakpointStatus::kInvalid);
  CHECK(breakpoints.Insert(BreakpointType::kWriteWatch, kData + 1, 2, 0) ==
        BreakpointStatus::kInvalid);
}

TEST_CASE_METHOD(BreakpointsTest, "A hardware breakpoint of length 4 is Invalid") {
  CHECK(breakpoints.Insert(BreakpointType::kHardware, kText, 4, 0) == BreakpointStatus::kInvalid);
}

TEST_CASE_METHOD(BreakpointsTest, "Removing a watchpoint with another length is NotFound") {
  REQUIRE(breakpoints.Insert(BreakpointType::kWriteWatch, kData, 4, 0) == BreakpointStatus::kOk);
  CHECK(breakpoints.Remove(BreakpointType::kWriteWatch, kData, 8) == BreakpointStatus::kNotFound);
  CHECK(breakpoints.Remove(BreakpointType::kAccessWatch, kData, 4) == BreakpointStatus::kNotFound);
  CHECK(breakpoints.Remove(BreakpointType::kWriteWatch, kData, 4) == BreakpointStatus::kOk);
  CHECK_FALSE(target.hardware[0].has_value());
}

TEST_CASE_METHOD(BreakpointsTest, "A debug register the target refuses is given back") {
  target.fail_debug_registers = true;
  CHECK(breakpoints.Insert(BreakpointType::kHardware, kText, 1, 0) ==
        BreakpointStatus::kTargetError);
  CHECK_FALSE(breakpoints.slot(0).has_value());
}

TEST_CASE_METHOD(BreakpointsTest, "RemoveAll restores bytes and clears the debug registers") {
  REQUIRE(breakpoints.Insert(BreakpointType::kSoftware, kText + 0x10, 1, 0) ==
          BreakpointStatus::kOk);
  REQUIRE(breakpoints.Insert(BreakpointType::kWriteWatch, kData, 8, 0) == BreakpointStatus::kOk);
  breakpoints.RemoveAll();
  CHECK(target.memory[kTextPhysical + 0x10] == 0x55);
  CHECK_FALSE(target.hardware[0].has_value());
  CHECK(breakpoints.software_count() == 0);
}

}  // namespace
}  // namespace mini_vmm::gdb
