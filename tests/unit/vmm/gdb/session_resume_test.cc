// Execution control: all-stop resume and stop for several vCPUs, stop
// replies, stepping off software breakpoints, the guest's own int3s,
// Ctrl-C, detach, kill and a client that goes away.
#include <catch2/catch.hpp>

#include "tests/unit/vmm/gdb/session_fixture.h"
#include "vmm/gdb/session.h"

namespace mini_vmm::gdb {
namespace {

using testing::kText;
using testing::kTextPhysical;
using testing::SessionTest;
using Reason = StopEvent::Reason;

std::vector<ResumeMode> Modes(const std::vector<ResumeAction>& actions) {
  std::vector<ResumeMode> modes;
  for (const ResumeAction& action : actions) modes.push_back(action.mode);
  return modes;
}

constexpr ResumeMode kC = ResumeMode::kContinue;
constexpr ResumeMode kS = ResumeMode::kStep;
constexpr ResumeMode kStay = ResumeMode::kStay;

class ThreeVcpus : public SessionTest {
 public:
  ThreeVcpus() : SessionTest(3) {}
  std::vector<std::string> Stop(StopEvent event) {
    session.OnStop(event);
    return sink.Take();
  }
};

TEST_CASE_METHOD(ThreeVcpus, "vCont? lists the actions") {
  CHECK(Ask("vCont?") == "vCont;c;C;s;S;t");
}

TEST_CASE_METHOD(ThreeVcpus, "vCont;c resumes every vCPU and sends no reply yet") {
  Tell("vCont;c");
  REQUIRE(target.resumes.size() == 1);
  CHECK(Modes(target.resumes[0]) == std::vector{kC, kC, kC});
  CHECK(session.state() == Session::State::kRunning);
}

TEST_CASE_METHOD(ThreeVcpus, "vCont steps one thread and continues the rest") {
  Tell("vCont;s:2;c");
  REQUIRE(target.resumes.size() == 1);
  CHECK(Modes(target.resumes[0]) == std::vector{kC, kS, kC});
}

TEST_CASE_METHOD(ThreeVcpus, "vCont leaves threads no action names stopped") {
  Tell("vCont;s:3");
  CHECK(Modes(target.resumes.at(0)) == std::vector{kStay, kStay, kS});
}

TEST_CASE_METHOD(ThreeVcpus, "vCont with signals treats C and S as c and s") {
  Tell("vCont;S05:1;C02");
  CHECK(Modes(target.resumes.at(0)) == std::vector{kS, kC, kC});
}

TEST_CASE_METHOD(ThreeVcpus, "The first action naming a thread wins") {
  Tell("vCont;c:1;s:1;s");
  CHECK(Modes(target.resumes.at(0)) == std::vector{kC, kS, kS});
}

TEST_CASE_METHOD(ThreeVcpus, "A stop reply names the thread, which becomes current") {
  Tell("vCont;c");
  CHECK(Stop({2, Reason::kStep}) == std::vector<std::string>{"T05thread:03;"});
  CHECK(session.state() == Session::State::kStopped);
  CHECK(Ask("qC") == "QC03");
  CHECK(Ask("?") == "T05thread:03;");
}

TEST_CASE_METHOD(ThreeVcpus, "A software breakpoint stop says swbreak") {
  REQUIRE(Ask(Format("Z0,{:x},1", kText)) == "OK");
  Tell("c");
  CHECK(Stop({1, Reason::kSoftwareBreakpoint, kText}) ==
        std::vector<std::string>{"T05swbreak:;thread:02;"});
}

TEST_CASE_METHOD(ThreeVcpus, "Watchpoint stops give the kind and the address gdb set") {
  REQUIRE(Ask("Z1,ffffffff81000000,1") == "OK");
  REQUIRE(Ask("Z2,ffffffff82000000,8") == "OK");
  REQUIRE(Ask("Z3,ffffffff82000008,4") == "OK");
  REQUIRE(Ask("Z4,ffffffff82000010,2") == "OK");
  Tell("c");
  CHECK(Stop({0, Reason::kHardwareBreakpoint, 0, 0}) ==
        std::vector<std::string>{"T05hwbreak:;thread:01;"});
  Tell("c");
  CHECK(Stop({0, Reason::kHardwareBreakpoint, 0, 1}) ==
        std::vector<std::string>{"T05watch:ffffffff82000000;thread:01;"});
  Tell("c");
  CHECK(Stop({1, Reason::kHardwareBreakpoint, 0, 2}) ==
        std::vector<std::string>{"T05rwatch:ffffffff82000008;thread:02;"});
  Tell("c");
  CHECK(Stop({2, Reason::kHardwareBreakpoint, 0, 3}) ==
        std::vector<std::string>{"T05awatch:ffffffff82000010;thread:03;"});
}

TEST_CASE_METHOD(ThreeVcpus, "A hit in an empty or impossible debug register is a plain trap") {
  Tell("c");
  CHECK(Stop({0, Reason::kHardwareBreakpoint, 0, 7}) == std::vector<std::string>{"T05thread:01;"});
}

TEST_CASE_METHOD(ThreeVcpus, "A stop while already stopped is kept for the next continue") {
  CHECK(Stop({1, Reason::kStep}).empty());
  CHECK(Ask("qC") == "QC01");
  CHECK(Ask("c") == "T05thread:02;");
  CHECK(target.resumes.empty());  // Reported without running anything.
}

TEST_CASE_METHOD(ThreeVcpus, "A stop from a vCPU that does not exist is ignored") {
  Tell("c");
  CHECK(Stop({9, Reason::kStep}).empty());
  CHECK(session.state() == Session::State::kRunning);
}

TEST_CASE_METHOD(ThreeVcpus, "Packets while running are acked but not executed") {
  Tell("c");
  SendRaw(EncodePacket("g"));
  CHECK(sink.Take() == std::vector<std::string>{"+"});
}

TEST_CASE_METHOD(ThreeVcpus, "Ctrl-C pauses every vCPU and reports SIGINT") {
  Tell("c");
  SendRaw("\x03");
  CHECK(target.pauses == 1);
  CHECK(sink.Take() == std::vector<std::string>{"T02thread:01;"});
  CHECK(session.state() == Session::State::kStopped);
}

TEST_CASE_METHOD(ThreeVcpus, "Ctrl-C while stopped does nothing") {
  SendRaw("\x03");
  CHECK(target.pauses == 0);
  CHECK(sink.Take().empty());
}

TEST_CASE_METHOD(ThreeVcpus, "s steps the Hc thread alone") {
  REQUIRE(Ask("Hc3") == "OK");
  Tell("s");
  CHECK(Modes(target.resumes.at(0)) == std::vector{kStay, kStay, kS});
}

TEST_CASE_METHOD(ThreeVcpus, "c with an address moves the PC first") {
  Tell("cffffffff81000010");
  CHECK(target.registers[0].Get(Register::kRip) == kText + 0x10);
}

// --- Stepping off a software breakpoint -------------------------------------

TEST_CASE_METHOD(ThreeVcpus, "A vCPU on a breakpoint steps off it alone, then all continue") {
  target.memory[kTextPhysical] = 0x55;
  REQUIRE(Ask(Format("Z0,{:x},1", kText)) == "OK");
  target.registers[1].Set(Register::kRip, kText);
  Tell("vCont;c");
  // First only vCPU 1 steps, with the original byte back in place.
  REQUIRE(target.resumes.size() == 1);
  CHECK(Modes(target.resumes[0]) == std::vector{kStay, kS, kStay});
  CHECK(PhysicalByte(kTextPhysical) == 0x55);
  // The step done, the int3 is back and everyone runs.
  CHECK(Stop({1, Reason::kStep}).empty());
  CHECK(PhysicalByte(kTextPhysical) == 0xcc);
  REQUIRE(target.resumes.size() == 2);
  CHECK(Modes(target.resumes[1]) == std::vector{kC, kC, kC});
  CHECK(session.state() == Session::State::kRunning);
}

TEST_CASE_METHOD(ThreeVcpus, "A step from a breakpoint is the step-over itself") {
  REQUIRE(Ask(Format("Z0,{:x},1", kText)) == "OK");
  target.registers[0].Set(Register::kRip, kText);
  Tell("vCont;s:1");
  CHECK(Stop({0, Reason::kStep}) == std::vector<std::string>{"T05thread:01;"});
  CHECK(target.resumes.size() == 1);
  CHECK(PhysicalByte(kTextPhysical) == 0xcc);
}

TEST_CASE_METHOD(ThreeVcpus, "Ctrl-C during a step-over re-arms the breakpoint") {
  REQUIRE(Ask(Format("Z0,{:x},1", kText)) == "OK");
  target.registers[0].Set(Register::kRip, kText);
  Tell("c");
  CHECK(PhysicalByte(kTextPhysical) == 0);
  SendRaw("\x03");
  CHECK(PhysicalByte(kTextPhysical) == 0xcc);
  CHECK(sink.Take() == std::vector<std::string>{"T02thread:01;"});
}

// --- The guest's own int3 ---------------------------------------------------

TEST_CASE_METHOD(ThreeVcpus, "An int3 gdb did not set is re-injected and the run goes on") {
  Tell("vCont;c");
  CHECK(Stop({2, Reason::kSoftwareBreakpoint, kText + 0x40}).empty());
  REQUIRE(target.resumes.size() == 2);
  CHECK(Modes(target.resumes[1]) == std::vector{kC, kC, kC});
  CHECK(target.resumes[1][2].inject_breakpoint);
  CHECK_FALSE(target.resumes[1][0].inject_breakpoint);
  CHECK(session.state() == Session::State::kRunning);
}

// --- Detach, kill, disconnect -----------------------------------------------

TEST_CASE_METHOD(ThreeVcpus, "D removes every breakpoint and lets the guest run") {
  target.memory[kTextPhysical] = 0x55;
  REQUIRE(Ask(Format("Z0,{:x},1", kText)) == "OK");
  REQUIRE(Ask("Z2,ffffffff82000000,8") == "OK");
  CHECK(Ask("D") == "OK");
  CHECK(PhysicalByte(kTextPhysical) == 0x55);
  CHECK_FALSE(target.hardware[0].has_value());
  CHECK(target.detached);
  CHECK(session.state() == Session::State::kDetached);
  SendRaw(EncodePacket("g"));  // Nothing more is answered.
  CHECK(sink.Take().empty());
}

TEST_CASE_METHOD(ThreeVcpus, "k kills without a reply") {
  Tell("k");
  CHECK(target.killed);
  CHECK(session.state() == Session::State::kKilled);
}

TEST_CASE_METHOD(ThreeVcpus, "A client that goes away while running leaves the guest running") {
  target.memory[kTextPhysical] = 0x55;
  REQUIRE(Ask(Format("Z0,{:x},1", kText)) == "OK");
  Tell("c");
  session.Disconnect();
  CHECK(target.pauses == 1);  // Paused to take the breakpoints out.
  CHECK(PhysicalByte(kTextPhysical) == 0x55);
  CHECK(target.detached);
  CHECK(session.state() == Session::State::kDetached);
}

TEST_CASE_METHOD(ThreeVcpus, "A client that goes away mid-packet leaves the guest running") {
  SendRaw("$m ffffffff810");
  session.Disconnect();
  CHECK(target.detached);
  CHECK(target.pauses == 0);
}

// --- Racing stops: all-stop reports one, keeps the others -------------------

class RacingStops : public ThreeVcpus {
 public:
  std::vector<std::string> Stops(std::vector<StopEvent> events) {
    session.OnStops(events);
    return sink.Take();
  }
};

TEST_CASE_METHOD(RacingStops, "Two racing stops are reported one per continue") {
  REQUIRE(Ask("Z2,ffffffff81000800,4") == "OK");
  Tell("vCont;s:1;c");
  CHECK(Stops({{0, Reason::kStep}, {2, Reason::kHardwareBreakpoint, 0, 0}}) ==
        std::vector<std::string>{"T05thread:01;"});

  // The watchpoint hit of vCPU 2 comes with the next continue, at once.
  CHECK(Ask("c") == "T05watch:ffffffff81000800;thread:03;");
  CHECK(target.resumes.size() == 1);
  CHECK(Ask("qC") == "QC03");

  // Nothing left: this continue runs the guest.
  Tell("c");
  CHECK(target.resumes.size() == 2);
}

TEST_CASE_METHOD(RacingStops, "A kept stop waits for a resume that includes its thread") {
  Tell("c");
  CHECK(Stops({{0, Reason::kStep}, {1, Reason::kStep}}) ==
        std::vector<std::string>{"T05thread:01;"});

  Tell("vCont;c:1");  // Thread 1 (vCPU 0) only: it runs, vCPU 1 keeps its stop.
  REQUIRE(target.resumes.size() == 2);
  CHECK(Modes(target.resumes[1]) == std::vector{kC, kStay, kStay});
  CHECK(Stop({0, Reason::kStep}) == std::vector<std::string>{"T05thread:01;"});

  CHECK(Ask("vCont;c") == "T05thread:02;");
  CHECK(target.resumes.size() == 2);
}

TEST_CASE_METHOD(RacingStops, "Three racing stops come out oldest first") {
  Tell("c");
  CHECK(Stops({{2, Reason::kStep}, {0, Reason::kStep}, {1, Reason::kStep}}) ==
        std::vector<std::string>{"T05thread:03;"});
  CHECK(Ask("c") == "T05thread:01;");
  CHECK(Ask("c") == "T05thread:02;");
  CHECK(target.resumes.size() == 1);
}

TEST_CASE_METHOD(RacingStops, "A stop racing with Ctrl-C is reported at the next continue") {
  Tell("c");
  SendRaw("\x03");
  CHECK(sink.Take() == std::vector<std::string>{"T02thread:01;"});
  CHECK(Stops({{1, Reason::kStep}}).empty());

  CHECK(Ask("c") == "T05thread:02;");
  CHECK(target.resumes.size() == 1);
}

TEST_CASE_METHOD(RacingStops, "A kept software breakpoint that gdb removed is dropped") {
  REQUIRE(Ask(Format("Z0,{:x},1", kText)) == "OK");
  Tell("c");
  CHECK(Stops({{0, Reason::kStep}, {1, Reason::kSoftwareBreakpoint, kText}}) ==
        std::vector<std::string>{"T05thread:01;"});
  REQUIRE(Ask(Format("z0,{:x},1", kText)) == "OK");

  Tell("c");  // Nothing to report: the guest runs.
  CHECK(target.resumes.size() == 2);
}

TEST_CASE_METHOD(RacingStops, "A kept software breakpoint still set is reported") {
  REQUIRE(Ask(Format("Z0,{:x},1", kText)) == "OK");
  Tell("c");
  CHECK(Stops({{0, Reason::kStep}, {1, Reason::kSoftwareBreakpoint, kText}}) ==
        std::vector<std::string>{"T05thread:01;"});
  CHECK(Ask("c") == "T05swbreak:;thread:02;");
}

TEST_CASE_METHOD(RacingStops, "The guest's own int3 racing with a real stop is not reported") {
  Tell("c");
  CHECK(Stops({{1, Reason::kSoftwareBreakpoint, 0x1234}, {2, Reason::kStep}}) ==
        std::vector<std::string>{"T05thread:03;"});
  Tell("c");  // Nothing kept: vCPU 1 meets its int3 again when it runs.
  CHECK(target.resumes.size() == 2);
  CHECK_FALSE(target.resumes[1][1].inject_breakpoint);
}

TEST_CASE_METHOD(RacingStops, "Only guest int3s: each gets its #BP and the run goes on") {
  Tell("c");
  CHECK(Stops({{0, Reason::kSoftwareBreakpoint, 0x1234}, {2, Reason::kSoftwareBreakpoint, 0x99}})
            .empty());
  REQUIRE(target.resumes.size() == 2);
  CHECK(target.resumes[1][0].inject_breakpoint);
  CHECK_FALSE(target.resumes[1][1].inject_breakpoint);
  CHECK(target.resumes[1][2].inject_breakpoint);
  CHECK(session.state() == Session::State::kRunning);
}

TEST_CASE_METHOD(RacingStops, "Detach forgets kept stops") {
  Tell("c");
  CHECK(Stops({{0, Reason::kStep}, {1, Reason::kStep}}).size() == 1);
  CHECK(Ask("D") == "OK");
  CHECK(target.detached);
  CHECK(Stops({{2, Reason::kStep}}).empty());
}

}  // namespace
}  // namespace mini_vmm::gdb
