#include "vmm/gdb/protocol/packet.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace mini_vmm::gdb {
namespace {

// Feeds `bytes` and returns every frame they produced.
std::vector<Frame> FeedAll(PacketDecoder& decoder, std::string_view bytes) {
  std::vector<Frame> frames;
  for (char c : bytes) {
    if (auto frame = decoder.Feed(static_cast<uint8_t>(c))) frames.push_back(std::move(*frame));
  }
  return frames;
}

std::vector<Frame> FeedAll(std::string_view bytes) {
  PacketDecoder decoder;
  return FeedAll(decoder, bytes);
}

TEST_CASE("The checksum is the modulo-256 sum of the payload") {
  CHECK(Checksum("") == 0);
  CHECK(Checksum("OK") == 0x9a);
  CHECK(Checksum(std::string(3, '\xff')) == 0xfd);
}

TEST_CASE("EncodePacket frames a payload with its checksum") {
  CHECK(EncodePacket("OK") == "$OK#9a");
  CHECK(EncodePacket("") == "$#00");
}

TEST_CASE("A valid packet decodes to its payload") {
  auto frames = FeedAll("$qSupported:multiprocess+#c6");
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].kind == Frame::Kind::kPacket);
  CHECK(frames[0].payload == "qSupported:multiprocess+");
}

TEST_CASE("Checksum digits are accepted in upper case") {
  auto frames = FeedAll("$OK#9A");
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].kind == Frame::Kind::kPacket);
}

TEST_CASE("Acks, naks and the interrupt byte are frames of their own") {
  auto frames = FeedAll("+-\x03");
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].kind == Frame::Kind::kAck);
  CHECK(frames[1].kind == Frame::Kind::kNak);
  CHECK(frames[2].kind == Frame::Kind::kInterrupt);
}

TEST_CASE("Noise between packets is ignored") {
  auto frames = FeedAll("garbage\n$OK#9a");
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].payload == "OK");
}

TEST_CASE("BadChecksum: a wrong checksum is reported without a payload") {
  auto frames = FeedAll("$OK#9b");
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].kind == Frame::Kind::kBadChecksum);
  CHECK(frames[0].payload.empty());
  CHECK(frames[0].IsPacket());
}

TEST_CASE("BadChecksumDigits: a non-hex checksum is a bad checksum") {
  auto frames = FeedAll("$OK#zz");
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].kind == Frame::Kind::kBadChecksum);
}

TEST_CASE("Truncated: a packet cut short by a new `$` is dropped silently") {
  auto frames = FeedAll("$m1000,4$OK#9a");
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].kind == Frame::Kind::kPacket);
  CHECK(frames[0].payload == "OK");
}

TEST_CASE("Truncated: a packet without its checksum produces nothing yet") {
  PacketDecoder decoder;
  CHECK(FeedAll(decoder, "$OK#9").empty());
  auto frames = FeedAll(decoder, "a");
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].payload == "OK");
}

TEST_CASE("Reset forgets a partial packet") {
  PacketDecoder decoder;
  CHECK(FeedAll(decoder, "$O").empty());
  decoder.Reset();
  CHECK(FeedAll(decoder, "K#9a").empty());
}

TEST_CASE("A packet of exactly kMaxPacketSize bytes is accepted") {
  const std::string payload(kMaxPacketSize, 'a');
  auto frames = FeedAll(EncodePacket(payload));
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].kind == Frame::Kind::kPacket);
  CHECK(frames[0].payload == payload);
}

TEST_CASE("Oversized: one byte too long is dropped, and the next packet still decodes") {
  const std::string payload(kMaxPacketSize + 1, 'a');
  auto frames = FeedAll(EncodePacket(payload) + "$OK#9a");
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].kind == Frame::Kind::kOversized);
  CHECK(frames[0].payload.empty());
  CHECK(frames[1].kind == Frame::Kind::kPacket);
  CHECK(frames[1].payload == "OK");
}

TEST_CASE("Oversized: a megabyte without `#` is consumed without being stored") {
  PacketDecoder decoder;
  CHECK(FeedAll(decoder, "$" + std::string(1 << 20, 'x')).empty());
  auto frames = FeedAll(decoder, "#00");
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].kind == Frame::Kind::kOversized);
}

TEST_CASE("Escaped bytes are decoded") {
  // X packet data: `}` then the byte XOR 0x20, for $ # } and *.
  const std::string raw = "X0,4:}\x04}\x03}]}\x0a";
  auto frames = FeedAll(EncodePacket(raw));
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].kind == Frame::Kind::kPacket);
  CHECK(frames[0].payload == "X0,4:$#}*");
}

TEST_CASE("Run-length bytes are decoded") {
  // "0* " is "0" plus 3 more; "a*~" is "a" plus 97 more.
  auto frames = FeedAll(EncodePacket("0* x") + EncodePacket("a*~"));
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].payload == "0000x");
  CHECK(frames[1].payload == std::string(98, 'a'));
}

TEST_CASE("Run length repeats an escaped byte") {
  CHECK(DecodePayload("}]* ", 100) == std::string(4, '}'));
}

TEST_CASE("BadEncoding: a dangling escape at the end") {
  auto frames = FeedAll(EncodePacket("abc}"));
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].kind == Frame::Kind::kBadEncoding);
}

TEST_CASE("BadEncoding: a run length with nothing before it") {
  CHECK_FALSE(DecodePayload("* ", 100).has_value());
}

TEST_CASE("BadEncoding: a run length without a count") {
  CHECK_FALSE(DecodePayload("a*", 100).has_value());
}

TEST_CASE("BadEncoding: a run-length count below the printable range") {
  CHECK_FALSE(DecodePayload("a*\x1f", 100).has_value());
}

TEST_CASE("BadEncoding: a run-length count above the printable range") {
  CHECK_FALSE(DecodePayload("a*\x7f", 100).has_value());
}

TEST_CASE("Oversized: run lengths that expand past the limit are rejected") {
  // 50 copies of "a*~" would decode to 4900 bytes.
  std::string raw;
  for (int i = 0; i < 50; ++i) raw += "a*~";
  CHECK_FALSE(DecodePayload(raw, 4096).has_value());
  CHECK(DecodePayload(raw, 4900).has_value());
}

TEST_CASE("EscapeBinary escapes exactly the four special bytes") {
  CHECK(EscapeBinary("a$b#c}d*e") ==
        "a}\x04"
        "b}\x03"
        "c}]d}\x0a"
        "e");
}

TEST_CASE("Run-length encoding round-trips through the decoder") {
  const std::string payload = std::string(200, '0') + "12" + std::string(7, 'f') +
                              std::string(6, 'e') + "xyz" + std::string(4, 'a');
  const std::string encoded = EncodePacket(payload, /*run_length=*/true);
  CHECK(encoded.size() < payload.size());
  CHECK(encoded.find('#') == encoded.size() - 3);
  CHECK(encoded.find('$', 1) == std::string::npos);
  auto frames = FeedAll(encoded);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].kind == Frame::Kind::kPacket);
  CHECK(frames[0].payload == payload);
}

}  // namespace
}  // namespace mini_vmm::gdb
