#include "devices/virtio/blk/request.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

namespace mini_vmm::virtio::blk {
namespace {

// virtio 1.x structures are little-endian (§1.4); mini-vmm runs on x86-64
// only, so the guest's fields are used as they are.
static_assert(std::endian::native == std::endian::little);
static_assert(sizeof(virtio_blk_outhdr) == 16);
static_assert(sizeof(virtio_blk_discard_write_zeroes) == 16);

constexpr uint32_t kKnownSegmentFlags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;

RequestType DecodeType(uint32_t type) {
  switch (type) {
    case VIRTIO_BLK_T_IN:
      return RequestType::kIn;
    case VIRTIO_BLK_T_OUT:
      return RequestType::kOut;
    case VIRTIO_BLK_T_FLUSH:
      return RequestType::kFlush;
    case VIRTIO_BLK_T_GET_ID:
      return RequestType::kGetId;
    case VIRTIO_BLK_T_DISCARD:
      return RequestType::kDiscard;
    case VIRTIO_BLK_T_WRITE_ZEROES:
      return RequestType::kWriteZeroes;
    default:
      return RequestType::kUnsupported;
  }
}

uint8_t StatusFor(RequestFault fault) {
  switch (fault) {
    case RequestFault::kUnsupportedType:
    case RequestFault::kNotNegotiated:
    // §5.2.6.2: "The device MUST set the status byte to VIRTIO_BLK_S_UNSUPP
    // for discard, secure erase and write zeroes commands if any unknown
    // flag is set. Furthermore, the device MUST set the status byte to
    // VIRTIO_BLK_S_UNSUPP for discard commands if the unmap flag is set."
    case RequestFault::kUnknownFlags:
    case RequestFault::kUnmapOnDiscard:
      return VIRTIO_BLK_S_UNSUPP;
    default:
      // IOERR is the spec's status "for device or driver error" (§5.2.6).
      return VIRTIO_BLK_S_IOERR;
  }
}

class Parser {
 public:
  // Fills `request` in place: the caller's return value (no Request moves).
  Parser(const DescriptorChain& chain, const RequestContext& context, Request& request)
      : reader_(chain), writer_(chain), context_(context), request_(request) {}

  void Parse() {
    // Nothing can be reported without a status byte. The ring itself is
    // sound, so this is not worth DEVICE_NEEDS_RESET: the chain goes back
    // with used len 0 (nothing written) and the device carries on.
    if (writer_.available() == 0) {
      Reject(RequestFault::kNoStatus);
      return;
    }
    request_.status = writer_.SplitLastByte();
    const auto header = reader_.ReadObj<virtio_blk_outhdr>();
    if (!header) {
      Reject(RequestFault::kShortHeader);
      return;
    }
    request_.type = DecodeType(header->type);
    Dispatch(header->sector);
  }

 private:
  void Dispatch(uint64_t sector) {
    switch (request_.type) {
      case RequestType::kIn:
      case RequestType::kOut:
        return ParseReadWrite(sector);
      case RequestType::kFlush:
        // §5.2.6.1 asks the driver for sector 0 and no data; a flush covers
        // the whole disk either way, so neither is checked.
        request_.io = DiskRequest{.op = DiskOp::kFlush};
        return;
      case RequestType::kGetId:
        return ParseGetId();
      case RequestType::kDiscard:
      case RequestType::kWriteZeroes:
        return ParseSegments();
      case RequestType::kUnsupported:
        return Reject(RequestFault::kUnsupportedType);
    }
  }

  void Reject(RequestFault fault) {
    request_.fault = fault;
    request_.result = StatusFor(fault);
  }

  std::optional<RequestFault> CheckRange(uint64_t sector, uint64_t sectors) const {
    uint64_t end = 0;
    if (__builtin_add_overflow(sector, sectors, &end)) return RequestFault::kSectorOverflow;
    // §5.2.6.1: the driver MUST NOT read or write beyond capacity.
    if (end > context_.capacity_sectors) return RequestFault::kOutOfRange;
    return std::nullopt;
  }

  void ParseReadWrite(uint64_t sector) {
    const bool write = request_.type == RequestType::kOut;
    // §5.2.6.2: "A device MUST set the status byte to VIRTIO_BLK_S_IOERR for
    // a write request if the VIRTIO_BLK_F_RO feature if offered, and MUST
    // NOT write any data." Checked first, so no shape of write gets further.
    if (write && context_.read_only) return Reject(RequestFault::kReadOnly);
    ByteStream& data = write ? static_cast<ByteStream&>(reader_) : writer_;
    const ByteStream& wrong_way = write ? static_cast<ByteStream&>(writer_) : reader_;
    if (wrong_way.available() != 0) return Reject(RequestFault::kWrongDirection);
    const uint64_t length = data.available();
    // §5.2.6.1: data MUST be a multiple of 512 bytes for IN and OUT.
    if (length % kSectorSize != 0) return Reject(RequestFault::kUnalignedLength);
    if (length > kMaxDataBytes) return Reject(RequestFault::kTooLong);
    if (auto fault = CheckRange(sector, length / kSectorSize)) return Reject(*fault);
    if (length == 0) return;  // Nothing to move: done, successfully.
    // Built where it stays: no DiskRequest or iovec list is moved.
    DiskRequest& io = request_.io.emplace();
    io.op = write ? DiskOp::kWrite : DiskOp::kRead;
    io.offset = sector * kSectorSize;
    io.length = length;
    data.AppendIovecs(length, io.iovecs);
    io.durable = write && context_.durable_writes;
    if (!write) request_.data_bytes = static_cast<uint32_t>(length);
  }

  void ParseGetId() {
    if (reader_.available() != 0) return Reject(RequestFault::kWrongDirection);
    // §5.2.6.1: the data MUST be 20 bytes. Less would truncate the ID
    // silently, so it is refused; more is fine (the rest stays untouched).
    if (writer_.available() < VIRTIO_BLK_ID_BYTES) return Reject(RequestFault::kIdBufferTooSmall);
    // NUL-padded, and no terminator when the ID is exactly 20 bytes (§5.2.6).
    std::array<uint8_t, VIRTIO_BLK_ID_BYTES> id{};
    std::memcpy(id.data(), context_.serial.data(),
                std::min<size_t>(context_.serial.size(), id.size()));
    writer_.Write(id);
    request_.data_bytes = VIRTIO_BLK_ID_BYTES;
  }

  std::optional<RequestFault> CheckSegment(const virtio_blk_discard_write_zeroes& segment,
                                           bool discard) const {
    if ((segment.flags & ~kKnownSegmentFlags) != 0) return RequestFault::kUnknownFlags;
    if (discard && (segment.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) != 0) {
      return RequestFault::kUnmapOnDiscard;
    }
    const uint32_t max = discard ? kMaxDiscardSectors : kMaxWriteZeroesSectors;
    if (segment.num_sectors > max) return RequestFault::kSegmentTooLarge;
    return CheckRange(segment.sector, segment.num_sectors);
  }

  // Every segment is checked before any is run, so a bad segment means no
  // range was touched.
  void ParseSegments() {
    const bool discard = request_.type == RequestType::kDiscard;
    // The write-protection MUST of §5.2.6.2 (see ParseReadWrite); a
    // read-only disk offers neither feature anyway.
    if (context_.read_only) return Reject(RequestFault::kReadOnly);
    if (!(discard ? context_.discard : context_.write_zeroes)) {
      return Reject(RequestFault::kNotNegotiated);
    }
    if (writer_.available() != 0) return Reject(RequestFault::kWrongDirection);
    constexpr uint64_t kSegmentSize = sizeof(virtio_blk_discard_write_zeroes);
    const uint64_t length = reader_.available();
    // §5.2.6.1: a multiple of the segment size, and §5.2.6: one or more.
    if (length == 0 || length % kSegmentSize != 0) return Reject(RequestFault::kBadSegmentList);
    if (length / kSegmentSize > (discard ? kMaxDiscardSegments : kMaxWriteZeroesSegments)) {
      return Reject(RequestFault::kTooManySegments);
    }
    // Durable like a write when FLUSH was not negotiated (§5.2.6.2).
    DiskRequest io{.op = discard ? DiskOp::kDiscard : DiskOp::kWriteZeroes,
                   .durable = context_.durable_writes};
    while (reader_.available() > 0) {
      const auto segment = *reader_.ReadObj<virtio_blk_discard_write_zeroes>();
      if (auto fault = CheckSegment(segment, discard)) return Reject(*fault);
      if (segment.num_sectors == 0) continue;
      io.ranges.push_back(
          DiskRange{.offset = segment.sector * kSectorSize,
                    .length = uint64_t{segment.num_sectors} * kSectorSize,
                    .unmap = (segment.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) != 0});
    }
    if (!io.ranges.empty()) request_.io = std::move(io);
  }

  Reader reader_;
  Writer writer_;
  const RequestContext& context_;
  Request& request_;
};

}  // namespace

const char* RequestFaultName(RequestFault fault) {
  switch (fault) {
    case RequestFault::kNoStatus:
      return "no device-writable status byte";
    case RequestFault::kShortHeader:
      return "request header shorter than 16 bytes";
    case RequestFault::kUnsupportedType:
      return "unsupported request type";
    case RequestFault::kReadOnly:
      return "write to a read-only disk";
    case RequestFault::kNotNegotiated:
      return "discard or write zeroes without the feature";
    case RequestFault::kWrongDirection:
      return "data buffer in the wrong direction";
    case RequestFault::kUnalignedLength:
      return "data length not a multiple of 512 bytes";
    case RequestFault::kTooLong:
      return "data longer than the device accepts";
    case RequestFault::kSectorOverflow:
      return "sector range wraps around";
    case RequestFault::kOutOfRange:
      return "sector range past the end of the disk";
    case RequestFault::kIdBufferTooSmall:
      return "GET_ID buffer shorter than 20 bytes";
    case RequestFault::kBadSegmentList:
      return "segment list empty or not a multiple of 16 bytes";
    case RequestFault::kTooManySegments:
      return "more segments than the device accepts";
    case RequestFault::kUnknownFlags:
      return "reserved segment flag set";
    case RequestFault::kUnmapOnDiscard:
      return "unmap flag on a discard segment";
    case RequestFault::kSegmentTooLarge:
      return "segment larger than the device accepts";
  }
  return "unknown request fault";
}

Request ParseRequest(const DescriptorChain& chain, const RequestContext& context) {
  Request request;
  Parser(chain, context, request).Parse();
  return request;
}

uint32_t FinishRequest(uint8_t* status_byte, uint32_t data_bytes, uint8_t status) {
  if (status_byte == nullptr) return 0;
  *status_byte = status;
  return (status == VIRTIO_BLK_S_OK ? data_bytes : 0) + 1;
}

}  // namespace mini_vmm::virtio::blk
