// One test per malformed packet shape, each asserting the exact reply:
// E16 (EINVAL) for a packet that does not parse, E03 for a thread that does
// not exist, the empty reply for what is not supported.
#include <catch2/catch.hpp>

#include "tests/unit/vmm/gdb/session_fixture.h"
#include "vmm/gdb/session.h"

namespace mini_vmm::gdb {
namespace {

using testing::SessionTest;

TEST_CASE_METHOD(SessionTest, "EmptyPacket is unsupported") { CHECK(Ask("").empty()); }

TEST_CASE_METHOD(SessionTest, "GShort: a G packet one byte short") {
  std::string hex = RegisterFile().ToHex();
  hex.resize(hex.size() - 2);
  CHECK(Ask("G" + hex) == "E16");
}

TEST_CASE_METHOD(SessionTest, "GLong: a G packet one byte long") {
  CHECK(Ask("G" + RegisterFile().ToHex() + "00") == "E16");
}

TEST_CASE_METHOD(SessionTest, "PNoEquals: P without a value") { CHECK(Ask("P10") == "E16"); }

TEST_CASE_METHOD(SessionTest, "PWrongWidth: P with 4 bytes for a 64-bit register") {
  CHECK(Ask("P10=00000000") == "E16");
  CHECK(target.registers[0].Get(Register::kRip) == 0);
}

TEST_CASE_METHOD(SessionTest, "PUnknownRegister: p beyond the last register") {
  CHECK(Ask("p43") == "E16");
  CHECK(Ask("pffffffffffffffffff") == "E16");
}

TEST_CASE_METHOD(SessionTest, "MNoLength: m without a length") {
  CHECK(Ask("mffffffff81000000") == "E16");
}

TEST_CASE_METHOD(SessionTest, "MZeroLength: m of zero bytes") {
  CHECK(Ask("mffffffff81000000,0") == "E16");
}

TEST_CASE_METHOD(SessionTest, "MHugeLength: m of 2^64-1 bytes gets at most a packet") {
  const std::string reply = Ask("mffffffff81000000,ffffffffffffffff");
  CHECK(reply.size() == kMaxPacketSize);  // 8 KiB of the two mapped pages, in hex.
}

TEST_CASE_METHOD(SessionTest, "MAddressWraps: m at the top of the address space") {
  CHECK(Ask("mffffffffffffffff,10") == "E0e");
}

TEST_CASE_METHOD(SessionTest, "MWriteLengthMismatch: M with fewer hex digits than its length") {
  CHECK(Ask("Mffffffff81000000,4:0011") == "E16");
}

TEST_CASE_METHOD(SessionTest, "MWriteNoColon: M without data") {
  CHECK(Ask("Mffffffff81000000,4") == "E16");
}

TEST_CASE_METHOD(SessionTest, "MWriteBadHex: M with a non-hex digit") {
  CHECK(Ask("Mffffffff81000000,1:0g") == "E16");
}

TEST_CASE_METHOD(SessionTest, "XLengthMismatch: X whose data is longer than its length") {
  CHECK(Ask("Xffffffff81000000,1:ab") == "E16");
}

TEST_CASE_METHOD(SessionTest, "ZNoComma: Z0 without operands") { CHECK(Ask("Z0") == "E16"); }

TEST_CASE_METHOD(SessionTest, "ZNoKind: Z0 without a kind") {
  CHECK(Ask("Z0,ffffffff81000000") == "E16");
}

TEST_CASE_METHOD(SessionTest, "ZCondition: Z0 with a condition list") {
  CHECK(Ask("Z0,ffffffff81000000,1;X2,0a01") == "E16");
}

TEST_CASE_METHOD(SessionTest, "ZHexOverflow: an address of 17 digits") {
  CHECK(Ask("Z1,10000000000000000,1") == "E16");
}

TEST_CASE_METHOD(SessionTest, "HUnknownThread: Hg of a thread that does not exist") {
  CHECK(Ask("Hg3") == "E03");
  CHECK(Ask("Hgzz") == "E03");
}

TEST_CASE_METHOD(SessionTest, "HUnknownKind: H with another letter") { CHECK(Ask("Hx1") == "E16"); }

TEST_CASE_METHOD(SessionTest, "HShort: H alone") { CHECK(Ask("H") == "E16"); }

TEST_CASE_METHOD(SessionTest, "VContUnknownAction: vCont;x") {
  CHECK(Ask("vCont;x") == "E16");
  CHECK(target.resumes.empty());
}

TEST_CASE_METHOD(SessionTest, "VContNoSemicolon: vCont;c:1c") { CHECK(Ask("vCont;c:1c") == "E16"); }

TEST_CASE_METHOD(SessionTest, "VContUnknownThread: vCont;c:9") { CHECK(Ask("vCont;c:9") == "E16"); }

TEST_CASE_METHOD(SessionTest, "VContNothingRuns: vCont;t would never stop") {
  CHECK(Ask("vCont;t") == "E16");
  CHECK(session.state() == Session::State::kStopped);
}

TEST_CASE_METHOD(SessionTest, "VContEmptyAction: vCont;;c") { CHECK(Ask("vCont;;c") == "E16"); }

TEST_CASE_METHOD(SessionTest, "ContinueBadAddress: c with a non-hex address") {
  CHECK(Ask("cxyz") == "E16");
  CHECK(target.resumes.empty());
}

TEST_CASE_METHOD(SessionTest, "ContinueBadSignal: C without a signal") { CHECK(Ask("C") == "E16"); }

TEST_CASE_METHOD(SessionTest, "QXferNoLength: qXfer without a length") {
  CHECK(Ask("qXfer:features:read:target.xml:0") == "E16");
}

TEST_CASE_METHOD(SessionTest, "TMinusOne: T-1 names no single thread") {
  CHECK(Ask("T-1") == "E03");
}

}  // namespace
}  // namespace mini_vmm::gdb
