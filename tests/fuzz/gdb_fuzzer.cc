// gdb_fuzzer: a hostile gdb client against the stub's packet layer and
// command layer (vmm/gdb/protocol/packet.h, vmm/gdb/session.h), driving a
// FakeGdbTarget with three vCPUs. Anyone who can reach the stub's port can
// send these bytes: they must never crash mini-vmm, make it send a
// malformed packet, or leave the guest changed after the client goes.
//
// Structure-aware: the input is a list of operations, so most inputs get
// past the checksums:
//   0 <len:u8> <bytes>   raw bytes to the session, as the socket delivers them
//   1 <len:u16> <bytes>  one packet with a correct checksum around the bytes
//   2 <vcpu:u8> <reason:u8> <pc:u64> <slot:u8>
//                        the target reports a stop (in any state, as the
//                        server delivers them: kept while gdb holds the guest)
//   3 <stop> <stop>      two stops that raced, delivered together
//   other                the client disconnects; the input ends
// Checked (VMM_CHECK aborts, which libFuzzer reports as a crash):
//   - everything the stub sends decodes as acks and packets with correct
//     checksums, none longer than kMaxPacketSize;
//   - after the client is gone (and unless it said `k`), the guest is
//     detached, no debug register is set, and no byte of guest memory
//     still holds an int3 that the client's own writes did not put there.
// tests/fuzz/gdb_seeds.py writes the seeds, one per unit-test scenario.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_input.h"
#include "tests/support/fake_gdb_target.h"
#include "vmm/base/check.h"
#include "vmm/gdb/protocol/packet.h"
#include "vmm/gdb/session.h"

namespace mini_vmm::gdb {
namespace {

constexpr uint64_t kText = 0xffffffff81000000;

// Decodes the stub's output as it arrives and checks it.
class CheckingSink final : public PacketSink {
 public:
  void Send(std::string_view bytes) override {
    for (char c : bytes) {
      std::optional<Frame> frame = decoder_.Feed(static_cast<uint8_t>(c));
      if (!frame) continue;
      VMM_CHECK(frame->kind == Frame::Kind::kPacket || frame->kind == Frame::Kind::kAck ||
                frame->kind == Frame::Kind::kNak);
    }
  }

 private:
  PacketDecoder decoder_;
};

// A guest whose memory is a pattern without 0xcc, so a leftover int3 shows.
void FillGuest(mini_vmm::testing::FakeGdbTarget& target) {
  for (size_t i = 0; i < target.memory.size(); ++i) {
    target.memory[i] = static_cast<uint8_t>(i % 0xcb);
  }
  for (uint64_t page = 0; page < 8; ++page) target.Map(kText + page * 0x1000, page * 0x1000);
  target.registers[0].Set(Register::kRip, kText + 0x10);
  target.registers[1].Set(Register::kRip, kText + 0x20);
}

StopEvent ReadStop(fuzz::FuzzInput& in) {
  StopEvent event;
  event.vcpu = in.U8() % 4;  // One past the last vCPU too.
  event.reason = static_cast<StopEvent::Reason>(in.U8() % 4);
  event.pc = in.U64();
  event.slot = in.U8() % 5;
  return event;
}

void Feed(Session& session, std::string_view bytes) {
  session.Receive({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}

}  // namespace
}  // namespace mini_vmm::gdb

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mini_vmm::gdb;
  mini_vmm::fuzz::FuzzInput in({data, size});
  mini_vmm::testing::FakeGdbTarget target(3);
  FillGuest(target);
  CheckingSink sink;
  Session session(target, sink);
  bool client_wrote_memory = false;
  while (!in.done()) {
    const uint8_t op = in.U8();
    if (op == 0 || op == 1) {
      std::string bytes(op == 0 ? in.U8() : in.U16() % (kMaxPacketSize + 16), '\0');
      in.Copy({reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()});
      // Conservative: any M or X anywhere may have been a memory write.
      if (bytes.find_first_of("MX") != std::string::npos) client_wrote_memory = true;
      Feed(session, op == 0 ? bytes : EncodePacket(bytes));
    } else if (op == 2) {
      session.OnStop(ReadStop(in));
    } else if (op == 3) {
      const StopEvent first = ReadStop(in);
      const std::vector<StopEvent> racing = {first, ReadStop(in)};
      session.OnStops(racing);
    } else {
      break;
    }
  }
  const bool killed = session.state() == Session::State::kKilled;
  session.Disconnect();
  if (!killed) {
    VMM_CHECK(target.detached);
    for (const auto& slot : target.hardware) VMM_CHECK(!slot.has_value());
    if (!client_wrote_memory) {
      for (uint8_t byte : target.memory) VMM_CHECK(byte != 0xcc);
    }
  }
  return 0;
}
