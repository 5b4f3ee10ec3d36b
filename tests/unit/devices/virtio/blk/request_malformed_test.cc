// One test per malformed request shape, each asserting the fault, the exact
// status byte and the used length (request.h documents the decisions).
#include <catch2/catch.hpp>
#include <limits>

#include "devices/virtio/blk/request.h"
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

constexpr uint64_t kMaxSector = std::numeric_limits<uint64_t>::max();

// --- No status byte: nothing can be reported --------------------------------

TEST_CASE_METHOD(ParserTest, "A chain without writable bytes is returned with used len 0") {
  Readable(Header(VIRTIO_BLK_T_OUT, 0));
  Readable(Bytes(512, 1));
  Readable(Bytes(1, 0));  // The "status" the driver made read-only.

  CHECK(ParseAndFinish() == 0);

  CHECK(fault() == RequestFault::kNoStatus);
  CHECK(request_.status == nullptr);
  CHECK_FALSE(request_.io.has_value());
}

TEST_CASE_METHOD(ParserTest,
                 "A zero-length status descriptor after readable data gets used len 0") {
  Readable(Header(VIRTIO_BLK_T_OUT, 0));
  Readable(Bytes(512, 1));
  Writable(0);

  CHECK(ParseAndFinish() == 0);

  CHECK(fault() == RequestFault::kNoStatus);
}

TEST_CASE_METHOD(ParserTest, "A zero-length last descriptor moves the status into the data") {
  // The status is the last writable *byte* (§2.7.4: no assumption about the
  // arrangement), here the data's last, which leaves 511 data bytes.
  Readable(Header(VIRTIO_BLK_T_IN, 0));
  const GuestAddress data = Writable(512);
  Writable(0);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kUnalignedLength);
  CHECK(ByteAt(data.Offset(511)) == VIRTIO_BLK_S_IOERR);
}

// --- Header and type ----------------------------------------------------------

TEST_CASE_METHOD(ParserTest, "A 15-byte header gets IOERR") {
  Readable(std::span<const uint8_t>(Header(VIRTIO_BLK_T_IN, 0)).first(15));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kShortHeader);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "A chain with no header at all gets IOERR") {
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kShortHeader);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "An unknown request type gets UNSUPP") {
  Readable(Header(42, 0));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kUnsupportedType);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_UNSUPP);
}

TEST_CASE_METHOD(ParserTest, "A legacy SCSI command gets UNSUPP") {
  Readable(Header(VIRTIO_BLK_T_SCSI_CMD, 0));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kUnsupportedType);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_UNSUPP);
}

TEST_CASE_METHOD(ParserTest, "A read with the legacy barrier bit gets UNSUPP") {
  Readable(Header(VIRTIO_BLK_T_IN | VIRTIO_BLK_T_BARRIER, 0));
  Writable(512);
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kUnsupportedType);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_UNSUPP);
}

// --- IN and OUT ---------------------------------------------------------------

TEST_CASE_METHOD(ParserTest, "IN with readable data after the header gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_IN, 0));
  Readable(Bytes(512, 1));
  const GuestAddress data = Writable(512);
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kWrongDirection);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
  CHECK(BytesAt(data, 512) == Bytes(512, kUntouched));
}

TEST_CASE_METHOD(ParserTest, "OUT with writable data before the status gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_OUT, 0));
  const GuestAddress data = Writable(512);
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kWrongDirection);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
  CHECK(BytesAt(data, 512) == Bytes(512, kUntouched));
}

TEST_CASE_METHOD(ParserTest, "IN of 513 bytes gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_IN, 0));
  Writable(513);
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kUnalignedLength);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "OUT of 100 bytes gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_OUT, 0));
  Readable(Bytes(100, 1));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kUnalignedLength);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "IN of more than 1 GiB gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_IN, 0));
  WritableRepeated(1 << 20, 1025);
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kTooLong);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "IN starting at the capacity gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_IN, kCapacity));
  Writable(512);
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kOutOfRange);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "OUT running past the last sector gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_OUT, kCapacity - 1));
  Readable(Bytes(1024, 1));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kOutOfRange);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "IN whose sector range wraps 64 bits gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_IN, kMaxSector));
  Writable(1024);
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kSectorOverflow);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "OUT to a read-only disk gets IOERR and no I/O") {
  context_.read_only = true;
  Readable(Header(VIRTIO_BLK_T_OUT, 0));
  Readable(Bytes(512, 1));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kReadOnly);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
  CHECK_FALSE(request_.io.has_value());
}

// --- GET_ID -------------------------------------------------------------------

TEST_CASE_METHOD(ParserTest, "GET_ID with a 19-byte buffer gets IOERR and no ID") {
  Readable(Header(VIRTIO_BLK_T_GET_ID, 0));
  const GuestAddress id = Writable(19);
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kIdBufferTooSmall);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
  CHECK(BytesAt(id, 19) == Bytes(19, kUntouched));
}

TEST_CASE_METHOD(ParserTest, "GET_ID with readable data gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_GET_ID, 0));
  Readable(Bytes(20, 0));
  Writable(20);
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kWrongDirection);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

// --- DISCARD and WRITE_ZEROES -----------------------------------------------

TEST_CASE_METHOD(ParserTest, "DISCARD on a read-only disk gets IOERR") {
  context_.read_only = true;
  Readable(Header(VIRTIO_BLK_T_DISCARD, 0));
  Readable(Segments({Segment(0, 1)}));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kReadOnly);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "WRITE_ZEROES on a read-only disk gets IOERR") {
  context_.read_only = true;
  Readable(Header(VIRTIO_BLK_T_WRITE_ZEROES, 0));
  Readable(Segments({Segment(0, 1)}));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kReadOnly);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "DISCARD without the negotiated feature gets UNSUPP") {
  context_.discard = false;
  Readable(Header(VIRTIO_BLK_T_DISCARD, 0));
  Readable(Segments({Segment(0, 1)}));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kNotNegotiated);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_UNSUPP);
}

TEST_CASE_METHOD(ParserTest, "WRITE_ZEROES without the negotiated feature gets UNSUPP") {
  context_.write_zeroes = false;
  Readable(Header(VIRTIO_BLK_T_WRITE_ZEROES, 0));
  Readable(Segments({Segment(0, 1)}));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kNotNegotiated);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_UNSUPP);
}

TEST_CASE_METHOD(ParserTest, "DISCARD with writable segments gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_DISCARD, 0));
  Writable(16);
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kWrongDirection);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "DISCARD with a 15-byte segment list gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_DISCARD, 0));
  Readable(std::span<const uint8_t>(Segments({Segment(0, 1)})).first(15));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kBadSegmentList);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "DISCARD without segments gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_DISCARD, 0));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kBadSegmentList);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "DISCARD with more than max_discard_seg segments gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_DISCARD, 0));
  Readable(Bytes((kMaxDiscardSegments + 1) * sizeof(virtio_blk_discard_write_zeroes), 0));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kTooManySegments);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest,
                 "WRITE_ZEROES with more than max_write_zeroes_seg segments gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_WRITE_ZEROES, 0));
  Readable(Bytes((kMaxWriteZeroesSegments + 1) * sizeof(virtio_blk_discard_write_zeroes), 0));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kTooManySegments);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "DISCARD with a reserved flag bit gets UNSUPP") {
  Readable(Header(VIRTIO_BLK_T_DISCARD, 0));
  Readable(Segments({Segment(0, 1, 1u << 1)}));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kUnknownFlags);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_UNSUPP);
}

TEST_CASE_METHOD(ParserTest, "WRITE_ZEROES with a reserved flag bit gets UNSUPP") {
  Readable(Header(VIRTIO_BLK_T_WRITE_ZEROES, 0));
  Readable(Segments({Segment(0, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP | (1u << 31))}));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kUnknownFlags);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_UNSUPP);
}

TEST_CASE_METHOD(ParserTest, "DISCARD with the unmap flag gets UNSUPP") {
  Readable(Header(VIRTIO_BLK_T_DISCARD, 0));
  Readable(Segments({Segment(0, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)}));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kUnmapOnDiscard);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_UNSUPP);
}

TEST_CASE_METHOD(ParserTest, "A flag fault wins over a range fault in the same segment") {
  Readable(Header(VIRTIO_BLK_T_DISCARD, 0));
  Readable(Segments({Segment(kMaxSector, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)}));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kUnmapOnDiscard);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_UNSUPP);
}

TEST_CASE_METHOD(ParserTest, "DISCARD larger than max_discard_sectors gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_DISCARD, 0));
  Readable(Segments({Segment(0, kMaxDiscardSectors + 1)}));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kSegmentTooLarge);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "WRITE_ZEROES past the end of the disk gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_WRITE_ZEROES, 0));
  Readable(Segments({Segment(kCapacity - 4, 8)}));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kOutOfRange);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "DISCARD whose range wraps 64 bits gets IOERR") {
  Readable(Header(VIRTIO_BLK_T_DISCARD, 0));
  Readable(Segments({Segment(kMaxSector - 1, 4)}));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kSectorOverflow);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(ParserTest, "One bad segment refuses the whole DISCARD before any I/O") {
  Readable(Header(VIRTIO_BLK_T_DISCARD, 0));
  Readable(Segments({Segment(0, 8), Segment(kCapacity, 1)}));
  const GuestAddress status = Writable(1);

  CHECK(ParseAndFinish() == 1);

  CHECK(fault() == RequestFault::kOutOfRange);
  CHECK(ByteAt(status) == VIRTIO_BLK_S_IOERR);
  CHECK_FALSE(request_.io.has_value());
}

}  // namespace
}  // namespace mini_vmm::virtio::blk
