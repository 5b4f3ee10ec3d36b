// A Session over FakeGdbTarget with a sink that decodes what the stub
// sends, so tests speak in packet payloads:
//
//   CHECK(Ask("qC") == "QC01");
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/support/fake_gdb_target.h"
#include "vmm/gdb/protocol/packet.h"
#include "vmm/gdb/session.h"

namespace mini_vmm::gdb::testing {

class RecordingSink final : public PacketSink {
 public:
  void Send(std::string_view bytes) override { raw += bytes; }
  // Everything sent since the last call, decoded: packets as payloads,
  // acks as "+" and naks as "-".
  std::vector<std::string> Take() {
    std::vector<std::string> out;
    for (char c : raw) {
      std::optional<Frame> frame = decoder.Feed(static_cast<uint8_t>(c));
      if (!frame) continue;
      if (frame->kind == Frame::Kind::kAck) out.push_back("+");
      if (frame->kind == Frame::Kind::kNak) out.push_back("-");
      if (frame->kind == Frame::Kind::kPacket) out.push_back(frame->payload);
      REQUIRE(frame->kind != Frame::Kind::kBadChecksum);
    }
    raw.clear();
    return out;
  }
  std::string raw;
  PacketDecoder decoder;
};

// Physical page 0x1000 is mapped at kText; the fake's memory is 64 KiB.
inline constexpr uint64_t kText = 0xffffffff81000000;
inline constexpr uint64_t kTextPhysical = 0x1000;

class SessionTest {
 public:
  explicit SessionTest(uint32_t vcpus = 2) : target(vcpus), session(target, sink) {
    target.Map(kText, kTextPhysical);
    target.Map(kText + 0x1000, kTextPhysical + 0x1000);
  }

  void SendRaw(std::string_view bytes) {
    session.Receive({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  }

  // Sends `payload` as a packet; returns every packet the stub sent back
  // (acks dropped).
  std::vector<std::string> Exchange(std::string_view payload) {
    SendRaw(EncodePacket(payload));
    std::vector<std::string> replies;
    for (std::string& r : sink.Take()) {
      if (r != "+") replies.push_back(std::move(r));
    }
    return replies;
  }

  // Sends `payload` and returns its one reply.
  std::string Ask(std::string_view payload) {
    std::vector<std::string> replies = Exchange(payload);
    REQUIRE(replies.size() == 1);
    return replies[0];
  }

  // Sends a packet that must get no reply (a resume).
  void Tell(std::string_view payload) { REQUIRE(Exchange(payload).empty()); }

  uint8_t PhysicalByte(uint64_t address) const { return target.memory.at(address); }

  mini_vmm::testing::FakeGdbTarget target;
  RecordingSink sink;
  Session session;
};

}  // namespace mini_vmm::gdb::testing
