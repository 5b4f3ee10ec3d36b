// The data side of a Session: acknowledgements, queries, registers, memory
// and breakpoints, packet by packet against the fake target.
#include "vmm/gdb/session.h"

#include <catch2/catch.hpp>

#include "tests/unit/vmm/gdb/session_fixture.h"
#include "vmm/gdb/x86_64_registers.h"

namespace mini_vmm::gdb {
namespace {

using testing::kText;
using testing::kTextPhysical;
using testing::SessionTest;

// --- Acknowledgements -------------------------------------------------------

TEST_CASE_METHOD(SessionTest, "A good packet is acked before its reply") {
  SendRaw(EncodePacket("qC"));
  CHECK(sink.Take() == std::vector<std::string>{"+", "QC01"});
}

TEST_CASE_METHOD(SessionTest, "A bad checksum is naked and not executed") {
  SendRaw("$qC#00");
  CHECK(sink.Take() == std::vector<std::string>{"-"});
}

TEST_CASE_METHOD(SessionTest, "An oversized packet is naked") {
  SendRaw(EncodePacket("m" + std::string(kMaxPacketSize, '0')));
  CHECK(sink.Take() == std::vector<std::string>{"-"});
}

TEST_CASE_METHOD(SessionTest, "A nak gets the last packet again") {
  CHECK(Ask("qC") == "QC01");
  SendRaw("-");
  CHECK(sink.Take() == std::vector<std::string>{"QC01"});
}

TEST_CASE_METHOD(SessionTest, "After QStartNoAckMode nothing is acked, and a nak is ignored") {
  SendRaw(EncodePacket("QStartNoAckMode"));
  CHECK(sink.Take() == std::vector<std::string>{"+", "OK"});
  SendRaw(EncodePacket("qC"));
  CHECK(sink.Take() == std::vector<std::string>{"QC01"});
  SendRaw("-$qC#00");
  CHECK(sink.Take().empty());
}

// --- Queries ----------------------------------------------------------------

TEST_CASE_METHOD(SessionTest, "qSupported advertises PacketSize and the features") {
  const std::string reply = Ask("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386");
  CHECK(reply.find("PacketSize=4000") != std::string::npos);
  CHECK(reply.find("qXfer:features:read+") != std::string::npos);
  CHECK(reply.find("QStartNoAckMode+") != std::string::npos);
}

TEST_CASE_METHOD(SessionTest, "qXfer reads target.xml in pieces") {
  const std::string& xml = TargetDescription();
  std::string read;
  for (int guard = 0; guard < 100; ++guard) {
    const std::string reply =
        Ask("qXfer:features:read:target.xml:" + Format("{:x},{:x}", read.size(), 0x3e8));
    REQUIRE(!reply.empty());
    read += reply.substr(1);
    if (reply[0] == 'l') break;
    REQUIRE(reply[0] == 'm');
  }
  CHECK(read == xml);
}

TEST_CASE_METHOD(SessionTest, "qXfer past the end is an empty last piece") {
  CHECK(Ask("qXfer:features:read:target.xml:ffffff,10") == "l");
}

TEST_CASE_METHOD(SessionTest, "qXfer of another annex is E00") {
  CHECK(Ask("qXfer:features:read:other.xml:0,10") == "E00");
}

TEST_CASE_METHOD(SessionTest, "Threads are the vCPUs, numbered from 1") {
  CHECK(Ask("qfThreadInfo") == "m01,02");
  CHECK(Ask("qsThreadInfo") == "l");
  CHECK(Ask("qC") == "QC01");
  CHECK(Ask("T2") == "OK");
  CHECK(Ask("T3") == "E03");
  CHECK(Ask("qAttached") == "1");
}

TEST_CASE_METHOD(SessionTest, "The first stop reply is a SIGTRAP on thread 1") {
  CHECK(Ask("?") == "T05thread:01;");
}

TEST_CASE_METHOD(SessionTest, "Unknown packets get the empty reply") {
  CHECK(Ask("qTStatus").empty());
  CHECK(Ask("vMustReplyEmpty").empty());
  CHECK(Ask("!").empty());
  CHECK(Ask("Z9,0,1").empty());
}

// --- Registers --------------------------------------------------------------

TEST_CASE_METHOD(SessionTest, "g reads the Hg thread's registers") {
  target.registers[1].Set(Register::kRip, kText);
  CHECK(Ask("Hg2") == "OK");
  CHECK(Ask("g") == target.registers[1].ToHex());
  CHECK(Ask("qC") == "QC02");
}

TEST_CASE_METHOD(SessionTest, "G writes all registers") {
  RegisterFile file;
  file.Set(Register::kRsp, 0xffffc90000003f00);
  CHECK(Ask("G" + file.ToHex()) == "OK");
  CHECK(target.registers[0] == file);
}

TEST_CASE_METHOD(SessionTest, "p and P read and write one register by number") {
  target.registers[0].Set(Register::kCr3, 0x1234000);
  CHECK(Ask("p3f") == "0040230100000000");     // cr3 is number 63.
  CHECK(Ask("P10=0000008100000000") == "OK");  // rip is 16.
  CHECK(target.registers[0].Get(Register::kRip) == 0x81000000);
}

TEST_CASE_METHOD(SessionTest, "Registers the target refuses are E05") {
  target.fail_registers = true;
  CHECK(Ask("g") == "E05");
  CHECK(Ask("p0") == "E05");
}

// --- Memory -----------------------------------------------------------------

TEST_CASE_METHOD(SessionTest, "m reads guest-virtual memory through the page tables") {
  target.memory[kTextPhysical + 4] = 0xab;
  CHECK(Ask(Format("m{:x},2", kText + 3)) == "00ab");
}

TEST_CASE_METHOD(SessionTest, "m across a page boundary reads both pages") {
  target.memory[kTextPhysical + 0xfff] = 0x11;
  target.memory[kTextPhysical + 0x1000] = 0x22;
  CHECK(Ask(Format("m{:x},2", kText + 0xfff)) == "1122");
}

TEST_CASE_METHOD(SessionTest, "m that runs into an unmapped page is short") {
  target.memory[kTextPhysical + 0x1fff] = 0x33;
  CHECK(Ask(Format("m{:x},4", kText + 0x1fff)) == "33");
}

TEST_CASE_METHOD(SessionTest, "m of an unmapped address is E0e") { CHECK(Ask("m1000,4") == "E0e"); }

TEST_CASE_METHOD(SessionTest, "m shows the guest's byte under a software breakpoint") {
  target.memory[kTextPhysical] = 0x55;
  REQUIRE(Ask(Format("Z0,{:x},1", kText)) == "OK");
  CHECK(PhysicalByte(kTextPhysical) == 0xcc);
  CHECK(Ask(Format("m{:x},1", kText)) == "55");
}

TEST_CASE_METHOD(SessionTest, "M writes hex bytes") {
  CHECK(Ask(Format("M{:x},2:beef", kText)) == "OK");
  CHECK(PhysicalByte(kTextPhysical) == 0xbe);
  CHECK(PhysicalByte(kTextPhysical + 1) == 0xef);
}

TEST_CASE_METHOD(SessionTest, "X writes escaped binary bytes") {
  CHECK(Ask(EscapeBinary(Format("X{:x},2:", kText) + "#*")) == "OK");
  CHECK(PhysicalByte(kTextPhysical) == '#');
  CHECK(PhysicalByte(kTextPhysical + 1) == '*');
}

TEST_CASE_METHOD(SessionTest, "X of length 0 is gdb's probe and succeeds") {
  CHECK(Ask(Format("X{:x},0:", kText)) == "OK");
}

TEST_CASE_METHOD(SessionTest, "M to an unmapped address is E0e") {
  CHECK(Ask("M1000,1:00") == "E0e");
}

// --- Breakpoints ------------------------------------------------------------

TEST_CASE_METHOD(SessionTest, "Z and z answer with the bookkeeping's status") {
  CHECK(Ask(Format("Z0,{:x},1", kText)) == "OK");
  CHECK(Ask(Format("Z0,{:x},1", kText)) == "OK");
  CHECK(Ask(Format("z0,{:x},1", kText)) == "OK");
  CHECK(Ask(Format("z0,{:x},1", kText)) == "E02");
  CHECK(Ask("Z0,1000,1") == "E0e");
  CHECK(Ask("Z2,ffffffff82000001,8") == "E16");
  CHECK(Ask("Z1,ffffffff81000000,1") == "OK");
  CHECK(Ask("Z2,ffffffff82000000,8") == "OK");
  CHECK(Ask("Z3,ffffffff82000008,4") == "OK");
  CHECK(Ask("Z4,ffffffff82000010,2") == "OK");
  CHECK(Ask("Z4,ffffffff82000020,1") == "E1c");
}

TEST_CASE_METHOD(SessionTest, "A breakpoint is set through the Hg thread's page tables") {
  CHECK(Ask("Hg2") == "OK");
  CHECK(Ask(Format("Z0,{:x},1", kText)) == "OK");
  CHECK(target.last_translate_vcpu == 1);
}

}  // namespace
}  // namespace mini_vmm::gdb
