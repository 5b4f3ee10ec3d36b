// Reader and Writer: a chain's buffers as byte streams, however the driver
// split them (§2.7.4.1: the device MUST NOT assume a descriptor layout).
// Chains here view plain host arrays; no guest memory is needed.
#include "devices/virtio/reader_writer.h"

#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "tests/support/virtio_test_helpers.h"

namespace mini_vmm::virtio {
namespace {

using testing::ScopedChain;

struct Header {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};
static_assert(sizeof(Header) == 16);

std::array<uint8_t, 16> HeaderBytes(const Header& header) {
  std::array<uint8_t, 16> bytes{};
  std::memcpy(bytes.data(), &header, sizeof(header));
  return bytes;
}

ScopedChain MakeChain(std::vector<Segment> segments) {
  return ScopedChain(DescriptorChain(0, std::move(segments)));
}

template <size_t N>
std::vector<uint8_t> Bytes(const std::array<uint8_t, N>& array) {
  return std::vector<uint8_t>(array.begin(), array.end());
}

// ---- Reader ----

TEST_CASE("A header split across three descriptors reads as one object") {
  const auto bytes = HeaderBytes(Header{1, 0, 0x1122334455667788});
  std::array<uint8_t, 5> a{};
  std::array<uint8_t, 7> b{};
  std::array<uint8_t, 4> c{};
  std::memcpy(a.data(), bytes.data(), 5);
  std::memcpy(b.data(), bytes.data() + 5, 7);
  std::memcpy(c.data(), bytes.data() + 12, 4);
  ScopedChain chain = MakeChain({{a, false}, {b, false}, {c, false}});
  Reader reader(*chain);

  const auto header = reader.ReadObj<Header>();

  REQUIRE(header.has_value());
  CHECK(header->type == 1);
  CHECK(header->sector == 0x1122334455667788);
  CHECK(reader.available() == 0);
}

TEST_CASE("A read past the end fails and consumes nothing") {
  std::array<uint8_t, 4> a{1, 2, 3, 4};
  std::array<uint8_t, 4> b{5, 6, 7, 8};
  ScopedChain chain = MakeChain({{a, false}, {b, false}});
  Reader reader(*chain);
  std::array<uint8_t, 9> too_long{};

  const bool ok = reader.Read(too_long);

  CHECK_FALSE(ok);
  CHECK(reader.available() == 8);
}

TEST_CASE("After a failed read the same bytes are still there to read") {
  std::array<uint8_t, 4> a{1, 2, 3, 4};
  std::array<uint8_t, 4> b{5, 6, 7, 8};
  ScopedChain chain = MakeChain({{a, false}, {b, false}});
  Reader reader(*chain);
  std::array<uint8_t, 9> too_long{};
  std::array<uint8_t, 8> exact{};
  REQUIRE_FALSE(reader.Read(too_long));

  const bool ok = reader.Read(exact);

  CHECK(ok);
  CHECK(exact == std::array<uint8_t, 8>{1, 2, 3, 4, 5, 6, 7, 8});
}

TEST_CASE("A reader sees only the device-readable buffers") {
  std::array<uint8_t, 2> in{1, 2};
  std::array<uint8_t, 6> out{};
  ScopedChain chain = MakeChain({{in, false}, {out, true}});

  Reader reader(*chain);

  CHECK(reader.available() == 2);
}

TEST_CASE("A header longer than the readable part fails even if writable bytes follow") {
  std::array<uint8_t, 12> in{};
  std::array<uint8_t, 4> out{};
  ScopedChain chain = MakeChain({{in, false}, {out, true}});
  Reader reader(*chain);

  const auto header = reader.ReadObj<Header>();

  CHECK_FALSE(header.has_value());
  CHECK(reader.available() == 12);
}

TEST_CASE("Consume skips bytes across buffers") {
  std::array<uint8_t, 3> a{1, 2, 3};
  std::array<uint8_t, 3> b{4, 5, 6};
  ScopedChain chain = MakeChain({{a, false}, {b, false}});
  Reader reader(*chain);
  std::array<uint8_t, 2> rest{};

  reader.Consume(4);

  REQUIRE(reader.Read(rest));
  CHECK(rest == std::array<uint8_t, 2>{5, 6});
}

// ---- Writer ----

TEST_CASE("A writer sees only the device-writable buffers") {
  std::array<uint8_t, 2> in{};
  std::array<uint8_t, 6> out{};
  ScopedChain chain = MakeChain({{in, false}, {out, true}});

  Writer writer(*chain);

  CHECK(writer.available() == 6);
  CHECK(writer.written() == 0);
}

TEST_CASE("A write spanning two buffers fills both and counts as written") {
  std::array<uint8_t, 3> a{};
  std::array<uint8_t, 3> b{};
  ScopedChain chain = MakeChain({{a, true}, {b, true}});
  Writer writer(*chain);
  const std::array<uint8_t, 5> data{1, 2, 3, 4, 5};

  const bool ok = writer.Write(data);

  CHECK(ok);
  CHECK(a == std::array<uint8_t, 3>{1, 2, 3});
  CHECK(b == std::array<uint8_t, 3>{4, 5, 0});
  CHECK(writer.written() == 5);
  CHECK(writer.available() == 1);
}

TEST_CASE("A write past the end fails, writes nothing and counts nothing") {
  std::array<uint8_t, 4> out{};
  ScopedChain chain = MakeChain({{out, true}});
  Writer writer(*chain);
  const std::array<uint8_t, 5> data{1, 2, 3, 4, 5};

  const bool ok = writer.Write(data);

  CHECK_FALSE(ok);
  CHECK(out == std::array<uint8_t, 4>{});
  CHECK(writer.written() == 0);
  CHECK(writer.available() == 4);
}

TEST_CASE("written() accumulates over successive writes") {
  std::array<uint8_t, 8> out{};
  ScopedChain chain = MakeChain({{out, true}});
  Writer writer(*chain);
  const uint32_t word = 0xdeadbeef;
  const std::array<uint8_t, 2> pair{7, 7};

  REQUIRE(writer.WriteObj(word));
  REQUIRE(writer.Write(pair));

  CHECK(writer.written() == 6);
}

// ---- SplitTail ----

TEST_CASE("SplitTail(1) makes the status byte a stream of its own") {
  std::array<uint8_t, 8> data{};
  std::array<uint8_t, 1> status{};
  ScopedChain chain = MakeChain({{data, true}, {status, true}});
  Writer writer(*chain);

  Writer tail = writer.SplitTail(1);
  const bool ok = tail.WriteObj(uint8_t{0x5a});

  CHECK(ok);
  CHECK(status[0] == 0x5a);
  CHECK(data == std::array<uint8_t, 8>{});
  CHECK(writer.available() == 8);
  CHECK(tail.available() == 0);
}

TEST_CASE("SplitTail across buffers takes the end of one and all of the next") {
  std::array<uint8_t, 4> a{};
  std::array<uint8_t, 2> b{};
  ScopedChain chain = MakeChain({{a, true}, {b, true}});
  Writer writer(*chain);
  Writer tail = writer.SplitTail(3);
  const std::array<uint8_t, 3> tail_bytes{7, 8, 9};
  const std::array<uint8_t, 3> head_bytes{1, 2, 3};

  REQUIRE(tail.Write(tail_bytes));
  REQUIRE(writer.Write(head_bytes));

  CHECK(a == std::array<uint8_t, 4>{1, 2, 3, 7});
  CHECK(b == std::array<uint8_t, 2>{8, 9});
  CHECK(writer.available() == 0);
  CHECK(tail.available() == 0);
}

TEST_CASE("SplitTail leaves the head stream unable to write into the tail") {
  std::array<uint8_t, 4> a{};
  std::array<uint8_t, 2> b{};
  ScopedChain chain = MakeChain({{a, true}, {b, true}});
  Writer writer(*chain);
  Writer tail = writer.SplitTail(3);
  const std::array<uint8_t, 4> four{1, 2, 3, 4};

  const bool ok = writer.Write(four);

  CHECK_FALSE(ok);
  CHECK(a == std::array<uint8_t, 4>{});
}

TEST_CASE("SplitTail of a partly consumed single buffer takes only its unconsumed end") {
  std::array<uint8_t, 8> out{};
  ScopedChain chain = MakeChain({{out, true}});
  Writer writer(*chain);
  const std::array<uint8_t, 3> first{1, 2, 3};
  REQUIRE(writer.Write(first));

  Writer tail = writer.SplitTail(2);

  CHECK(writer.available() == 3);
  CHECK(tail.available() == 2);
  const std::array<uint8_t, 2> end{8, 9};
  REQUIRE(tail.Write(end));
  CHECK(out == std::array<uint8_t, 8>{1, 2, 3, 0, 0, 0, 8, 9});
}

TEST_CASE("SplitTail of everything left in a partly consumed buffer leaves the head empty") {
  std::array<uint8_t, 8> out{};
  ScopedChain chain = MakeChain({{out, true}});
  Writer writer(*chain);
  const std::array<uint8_t, 3> first{1, 2, 3};
  REQUIRE(writer.Write(first));

  Writer tail = writer.SplitTail(5);

  CHECK(writer.available() == 0);
  CHECK_FALSE(writer.WriteObj(uint8_t{0}));
  const std::array<uint8_t, 5> rest{4, 5, 6, 7, 8};
  REQUIRE(tail.Write(rest));
  CHECK(out == std::array<uint8_t, 8>{1, 2, 3, 4, 5, 6, 7, 8});
}

TEST_CASE("SplitTail with the first buffer partly consumed spans into it") {
  std::array<uint8_t, 4> a{};
  std::array<uint8_t, 2> b{};
  ScopedChain chain = MakeChain({{a, true}, {b, true}});
  Writer writer(*chain);
  REQUIRE(writer.WriteObj(uint8_t{1}));

  Writer tail = writer.SplitTail(4);

  CHECK(writer.available() == 1);
  const std::array<uint8_t, 4> end{6, 7, 8, 9};
  REQUIRE(tail.Write(end));
  CHECK(a == std::array<uint8_t, 4>{1, 0, 6, 7});
  CHECK(b == std::array<uint8_t, 2>{8, 9});
}

TEST_CASE("SplitTail(0) changes nothing") {
  std::array<uint8_t, 4> out{};
  ScopedChain chain = MakeChain({{out, true}});
  Writer writer(*chain);

  Writer tail = writer.SplitTail(0);

  CHECK(writer.available() == 4);
  CHECK(tail.available() == 0);
}

// A device that splits off the status byte reports used len as the sum of
// both streams' written() (the tail keeps its own count).
TEST_CASE("A split-off tail counts its own writes, not the head's") {
  std::array<uint8_t, 4> data{};
  std::array<uint8_t, 1> status{};
  ScopedChain chain = MakeChain({{data, true}, {status, true}});
  Writer writer(*chain);
  Writer tail = writer.SplitTail(1);
  const std::array<uint8_t, 4> payload{1, 2, 3, 4};

  REQUIRE(writer.Write(payload));
  REQUIRE(tail.WriteObj(uint8_t{0}));

  CHECK(writer.written() == 4);
  CHECK(tail.written() == 1);
}

// ---- Iovecs and Advance ----

TEST_CASE("Iovecs describe the next bytes across buffers without consuming them") {
  std::array<uint8_t, 4> a{};
  std::array<uint8_t, 4> b{};
  ScopedChain chain = MakeChain({{a, true}, {b, true}});
  Writer writer(*chain);
  REQUIRE(writer.WriteObj(uint8_t{0}));

  const IovecList iov = writer.Iovecs(5);

  REQUIRE(iov.size() == 2);
  CHECK(iov[0].iov_base == a.data() + 1);
  CHECK(iov[0].iov_len == 3);
  CHECK(iov[1].iov_base == b.data());
  CHECK(iov[1].iov_len == 2);
  CHECK(writer.available() == 7);
}

TEST_CASE("Iovecs skip zero-length descriptors") {
  std::array<uint8_t, 2> a{};
  std::array<uint8_t, 2> b{};
  ScopedChain chain = MakeChain({{a, true}, {std::span<uint8_t>(), true}, {b, true}});
  Writer writer(*chain);

  const IovecList iov = writer.Iovecs(4);

  REQUIRE(iov.size() == 2);
  CHECK(iov[0].iov_base == a.data());
  CHECK(iov[1].iov_base == b.data());
}

TEST_CASE("Iovecs(0) is empty") {
  std::array<uint8_t, 2> a{};
  ScopedChain chain = MakeChain({{a, true}});
  Writer writer(*chain);

  CHECK(writer.Iovecs(0).empty());
}

TEST_CASE("Advance after filling iovecs counts the bytes as written and consumes them") {
  std::array<uint8_t, 4> a{};
  std::array<uint8_t, 4> b{};
  ScopedChain chain = MakeChain({{a, true}, {b, true}});
  Writer writer(*chain);
  const IovecList iov = writer.Iovecs(6);
  std::memset(iov[0].iov_base, 0x11, iov[0].iov_len);  // What a readv(2) would do.
  std::memset(iov[1].iov_base, 0x22, iov[1].iov_len);

  writer.Advance(6);

  CHECK(writer.written() == 6);
  CHECK(writer.available() == 2);
  CHECK(Bytes(b) == std::vector<uint8_t>{0x22, 0x22, 0, 0});
}

// ---- More buffers than a stream keeps inline ----

TEST_CASE("Iovecs over more buffers than kept inline list every one of them") {
  std::array<std::array<uint8_t, 2>, kInlineSegments + 3> buffers{};
  std::vector<Segment> segments;
  for (auto& b : buffers) segments.push_back(Segment{b, true});
  ScopedChain chain = MakeChain(segments);
  Writer writer(*chain);

  const IovecList iov = writer.Iovecs(writer.available());

  REQUIRE(iov.size() == buffers.size());
  CHECK_FALSE(iov.is_inline());
  CHECK(iov[kInlineSegments + 2].iov_base == buffers.back().data());
  CHECK(iov[kInlineSegments + 2].iov_len == 2);
}

TEST_CASE("A write across more buffers than kept inline fills them in order") {
  std::array<std::array<uint8_t, 1>, kInlineSegments + 2> buffers{};
  std::vector<Segment> segments;
  for (auto& b : buffers) segments.push_back(Segment{b, true});
  ScopedChain chain = MakeChain(segments);
  Writer writer(*chain);
  std::array<uint8_t, kInlineSegments + 2> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i + 1);

  REQUIRE(writer.Write(bytes));

  CHECK(buffers.front()[0] == 1);
  CHECK(buffers.back()[0] == bytes.size());
  CHECK(writer.available() == 0);
}

TEST_CASE("SplitTail of more buffers than kept inline keeps their order") {
  std::array<std::array<uint8_t, 1>, kInlineSegments + 2> buffers{};
  std::vector<Segment> segments;
  for (auto& b : buffers) segments.push_back(Segment{b, true});
  ScopedChain chain = MakeChain(segments);
  Writer writer(*chain);

  Writer tail = writer.SplitTail(kInlineSegments + 1);
  const IovecList iov = tail.Iovecs(tail.available());

  CHECK(writer.available() == 1);
  REQUIRE(iov.size() == kInlineSegments + 1);
  CHECK(iov[0].iov_base == buffers[1].data());
  CHECK(iov[kInlineSegments].iov_base == buffers.back().data());
}

// ---- SplitLastByte ----

TEST_CASE("SplitLastByte returns the last byte of a buffer shared with data") {
  std::array<uint8_t, 4> a{};
  ScopedChain chain = MakeChain({{a, true}});
  Writer writer(*chain);

  uint8_t* status = writer.SplitLastByte();

  CHECK(status == a.data() + 3);
  CHECK(writer.available() == 3);
}

TEST_CASE("SplitLastByte takes a one-byte last buffer whole") {
  std::array<uint8_t, 4> a{};
  std::array<uint8_t, 1> b{};
  ScopedChain chain = MakeChain({{a, true}, {b, true}});
  Writer writer(*chain);

  uint8_t* status = writer.SplitLastByte();
  REQUIRE(writer.Write(std::array<uint8_t, 4>{1, 2, 3, 4}));

  CHECK(status == b.data());
  CHECK(writer.available() == 0);
  CHECK(b[0] == 0);
}

TEST_CASE("SplitLastByte of a stream ending in an empty buffer takes the byte before it") {
  std::array<uint8_t, 3> a{};
  ByteStream stream(ByteStream::Buffers{std::span<uint8_t>(a), std::span<uint8_t>()});

  uint8_t* last = stream.SplitLastByte();

  CHECK(last == a.data() + 2);
  CHECK(stream.available() == 2);
}

TEST_CASE("A stream stays valid after its chain moves") {
  std::array<uint8_t, 4> a{};
  ScopedChain chain = MakeChain({{a, true}});
  Writer writer(*chain);
  ScopedChain moved(std::move(*chain));

  REQUIRE(writer.WriteObj(uint32_t{0x04030201}));

  CHECK(Bytes(a) == std::vector<uint8_t>{1, 2, 3, 4});
}

}  // namespace
}  // namespace mini_vmm::virtio
