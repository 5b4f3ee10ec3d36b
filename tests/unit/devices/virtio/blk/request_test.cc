#include "devices/virtio/blk/request.h"

#include <catch2/catch.hpp>
#include <limits>

#include "tests/unit/devices/virtio/blk/parser_fixture.h"

namespace mini_vmm::virtio::blk {
namespace {

using testing::Bytes;
using testing::Header;
using testing::kCapacity;
using testing::kUntouched;
using testing::ParserTest;
using testing::Segment;
using testing::Segments;

// --- Well-formed requests -------------------------------------------------

TEST_CASE_METHOD(ParserTest, "IN with a header split across descriptors becomes a read") {
  const auto header = Header(VIRTIO_BLK_T_IN, 3);
  Readable(std::span(header).first(5));
  Readable(std::span(header).subspan(5));
  const GuestAddress data = Writable(1024);
  Writable(1);

  const Request request = Parse();

  REQUIRE(request.io.has_value());
  CHECK(request.io->op == DiskOp::kRead);
  CHECK(request.io->offset == 3 * 512);
  CHECK(request.io->length == 1024);
  REQUIRE(request.io->iovecs.size() == 1);
  CHECK(request.io->iovecs[0].iov_base == mem_.TranslateToHost(data, 1024));
  CHECK(request.data_bytes == 1024);
  CHECK_FALSE(request.fault.has_value());
}

TEST_CASE_METHOD(ParserTest, "A successful read reports data plus status as the used length") {
  Readable(Header(VIRTIO_BLK_T_IN, 0));
  Writable(512);
  const GuestAddress status = Writable(1);
  request_ = Parse();

  CHECK(FinishRequest(request_, VIRTIO_BLK_S_OK) == 513);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_OK);
}

TEST_CASE_METHOD(ParserTest, "A failed read reports only the status byte as written") {
  Readable(Header(VIRTIO_BLK_T_IN, 0));
  Writable(512);
  const GuestAddress status = Writable(1);
  request_ = Parse();

  CHECK(FinishRequest(request_, VIRTIO_BLK_S_IOERR) == 1);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "The status byte may share a descriptor with the data") {
  Readable(Header(VIRTIO_BLK_T_IN, 0));
  const GuestAddress data_and_status = Writable(513);
  request_ = Parse();

  REQUIRE(request_.io.has_value());
  CHECK(request_.io->length == 512);
  CHECK(FinishRequest(request_, VIRTIO_BLK_S_OK) == 513);
  CHECK(ByteAt(data_and_status.Offset(512)) == VIRTIO_BLK_S_OK);
}

TEST_CASE_METHOD(ParserTest, "OUT becomes a write of the readable data") {
  Readable(Header(VIRTIO_BLK_T_OUT, 7));
  Readable(Bytes(512, 1));
  Readable(Bytes(1024, 2));
  Writable(1);
  request_ = Parse();

  REQUIRE(request_.io.has_value());
  CHECK(request_.io->op == DiskOp::kWrite);
  CHECK(request_.io->offset == 7 * 512);
  CHECK(request_.io->length == 1536);
  CHECK(request_.io->iovecs.size() == 2);
  CHECK_FALSE(request_.io->durable);
  CHECK(FinishRequest(request_, VIRTIO_BLK_S_OK) == 1);
}

TEST_CASE_METHOD(ParserTest, "Without a negotiated FLUSH, writes must be durable") {
  context_.durable_writes = true;
  Readable(Header(VIRTIO_BLK_T_OUT, 0));
  Readable(Bytes(512, 1));
  Writable(1);

  const Request request = Parse();

  REQUIRE(request.io.has_value());
  CHECK(request.io->durable);
}

TEST_CASE_METHOD(ParserTest, "Without a negotiated FLUSH, discards must be durable") {
  context_.durable_writes = true;
  Readable(Header(VIRTIO_BLK_T_DISCARD, 0));
  Readable(Segments({Segment(0, 8)}));
  Writable(1);

  const Request request = Parse();

  REQUIRE(request.io.has_value());
  CHECK(request.io->op == DiskOp::kDiscard);
  CHECK(request.io->durable);
}

TEST_CASE_METHOD(ParserTest, "Without a negotiated FLUSH, write zeroes must be durable") {
  context_.durable_writes = true;
  Readable(Header(VIRTIO_BLK_T_WRITE_ZEROES, 0));
  Readable(Segments({Segment(0, 8)}));
  Writable(1);

  const Request request = Parse();

  REQUIRE(request.io.has_value());
  CHECK(request.io->op == DiskOp::kWriteZeroes);
  CHECK(request.io->durable);
}

TEST_CASE_METHOD(ParserTest, "With FLUSH negotiated, write zeroes wait for the flush") {
  Readable(Header(VIRTIO_BLK_T_WRITE_ZEROES, 0));
  Readable(Segments({Segment(0, 8)}));
  Writable(1);

  const Request request = Parse();

  REQUIRE(request.io.has_value());
  CHECK_FALSE(request.io->durable);
}

TEST_CASE_METHOD(ParserTest, "The last sector of the disk can be read") {
  Readable(Header(VIRTIO_BLK_T_IN, kCapacity - 1));
  Writable(512);
  Writable(1);

  const Request request = Parse();

  REQUIRE(request.io.has_value());
  CHECK(request.io->offset == (kCapacity - 1) * 512);
}

TEST_CASE_METHOD(ParserTest, "A read of no data succeeds without I/O") {
  Readable(Header(VIRTIO_BLK_T_IN, 0));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);
  CHECK_FALSE(request_.io.has_value());
  CHECK(ByteAt(status) == VIRTIO_BLK_S_OK);
}

TEST_CASE_METHOD(ParserTest, "FLUSH becomes a flush whatever its sector") {
  Readable(Header(VIRTIO_BLK_T_FLUSH, 99));
  Writable(1);
  request_ = Parse();

  REQUIRE(request_.io.has_value());
  CHECK(request_.io->op == DiskOp::kFlush);
  CHECK(FinishRequest(request_, VIRTIO_BLK_S_OK) == 1);
}

TEST_CASE_METHOD(ParserTest, "GET_ID writes the serial NUL-padded to 20 bytes") {
  Readable(Header(VIRTIO_BLK_T_GET_ID, 0));
  const GuestAddress id = Writable(VIRTIO_BLK_ID_BYTES);
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == VIRTIO_BLK_ID_BYTES + 1);

  std::vector<uint8_t> expected(VIRTIO_BLK_ID_BYTES, 0);
  std::memcpy(expected.data(), "mini-vmm-disk", 13);
  CHECK(BytesAt(id, VIRTIO_BLK_ID_BYTES) == expected);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_OK);
  CHECK_FALSE(request_.io.has_value());
}

TEST_CASE_METHOD(ParserTest, "GET_ID with a 20-byte serial has no terminator") {
  context_.serial = "abcdefghijklmnopqrst";
  Readable(Header(VIRTIO_BLK_T_GET_ID, 0));
  const GuestAddress id = Writable(32);
  Writable(1);

  CHECK(ParseAndFinish() == VIRTIO_BLK_ID_BYTES + 1);

  const auto bytes = BytesAt(id, 21);
  CHECK(std::string(bytes.begin(), bytes.begin() + 20) == "abcdefghijklmnopqrst");
  CHECK(bytes[20] == kUntouched);  // Only 20 bytes are written.
}

TEST_CASE_METHOD(ParserTest, "DISCARD becomes one range per segment, in bytes") {
  Readable(Header(VIRTIO_BLK_T_DISCARD, 0));
  Readable(Segments({Segment(1, 2), Segment(10, 4)}));
  Writable(1);

  const Request request = Parse();

  REQUIRE(request.io.has_value());
  CHECK(request.io->op == DiskOp::kDiscard);
  REQUIRE(request.io->ranges.size() == 2);
  CHECK(request.io->ranges[0].offset == 512);
  CHECK(request.io->ranges[0].length == 1024);
  CHECK(request.io->ranges[1].offset == 10 * 512);
  CHECK(request.io->ranges[1].length == 4 * 512);
}

TEST_CASE_METHOD(ParserTest, "WRITE_ZEROES carries the unmap flag to its range") {
  Readable(Header(VIRTIO_BLK_T_WRITE_ZEROES, 0));
  Readable(Segments({Segment(0, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP), Segment(8, 8)}));
  Writable(1);

  const Request request = Parse();

  REQUIRE(request.io.has_value());
  CHECK(request.io->op == DiskOp::kWriteZeroes);
  REQUIRE(request.io->ranges.size() == 2);
  CHECK(request.io->ranges[0].unmap);
  CHECK_FALSE(request.io->ranges[1].unmap);
}

TEST_CASE_METHOD(ParserTest, "A discard of zero sectors succeeds without I/O") {
  Readable(Header(VIRTIO_BLK_T_DISCARD, 0));
  Readable(Segments({Segment(3, 0)}));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);
  CHECK_FALSE(request_.io.has_value());
  CHECK(ByteAt(status) == VIRTIO_BLK_S_OK);
}

}  // namespace
}  // namespace mini_vmm::virtio::blk
