// virtio-blk request parsing (virtio 1.2 §5.2.6): one DescriptorChain in,
// one decided Request out. Nothing from the guest is trusted, and no file
// I/O happens here (GET_ID, which needs none, is answered in place):
//
//   struct virtio_blk_req { le32 type; le32 reserved; le64 sector;   // readable
//                           u8 data[];                             // either way
//                           u8 status; };                          // last writable byte
//
//   Request request = ParseRequest(chain, context);
//   if (request.io) backend.Enqueue(tag, std::move(*request.io));   // status decided later
//   else queue.AddUsed(std::move(chain), FinishRequest(request, request.result));
//   ... later, the backend's status: FinishRequest(request.status, request.data_bytes, status)
//
// The header may be split across descriptors and the status byte shares a
// descriptor with data if the driver likes (§2.7.4: the device makes no
// assumption about the arrangement): both are read through Reader/Writer.
//
// A malformed request is a guest fault, not a host error: it gets a status
// (IOERR or UNSUPP, see RequestFault) and the device counts it. Validation
// runs in a fixed order so each malformed shape has one documented outcome;
// the first failing check decides.
#pragma once

#include <linux/virtio_blk.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "devices/virtio/blk/disk_backend.h"
#include "devices/virtio/blk/disk_image.h"
#include "devices/virtio/descriptor_chain.h"
#include "devices/virtio/reader_writer.h"

namespace mini_vmm::virtio::blk {

// Limits the device advertises in its configuration space and enforces here.
inline constexpr uint32_t kMaxDiscardSegments = kMaxRanges;
inline constexpr uint32_t kMaxWriteZeroesSegments = kMaxRanges;
// 2 GiB per segment, like QEMU: bounds the work of one fallocate(2).
inline constexpr uint32_t kMaxDiscardSectors = (2u << 30) / kSectorSize;
inline constexpr uint32_t kMaxWriteZeroesSectors = kMaxDiscardSectors;
// Far above anything Linux sends (its requests are a few MiB), and below
// both the used ring's 32-bit length and Linux's 2 GiB cap on one
// readv/writev, which would otherwise turn a big request into a short one.
inline constexpr uint64_t kMaxDataBytes = uint64_t{1} << 30;

enum class RequestType : uint8_t {
  kIn,
  kOut,
  kFlush,
  kGetId,
  kDiscard,
  kWriteZeroes,
  kUnsupported
};

// Every way a request can be malformed, in the order they are checked.
enum class RequestFault : uint8_t {
  kNoStatus,          // No device-writable byte: nowhere to put a status. Used len 0.
  kShortHeader,       // Fewer than 16 readable bytes.                       IOERR
  kUnsupportedType,   // A type mini-vmm does not implement.                 UNSUPP
  kReadOnly,          // A write, discard or write zeroes on a read-only disk. IOERR
  kNotNegotiated,     // DISCARD / WRITE_ZEROES without the feature.         UNSUPP
  kWrongDirection,    // Data the device should write is readable, or vice versa. IOERR
  kUnalignedLength,   // IN/OUT data not a multiple of 512 bytes.            IOERR
  kTooLong,           // IN/OUT data above kMaxDataBytes.                    IOERR
  kSectorOverflow,    // sector + sectors wraps 64 bits.                     IOERR
  kOutOfRange,        // Past the end of the disk.                           IOERR
  kIdBufferTooSmall,  // GET_ID with less than 20 writable data bytes.       IOERR
  kBadSegmentList,    // DISCARD / WRITE_ZEROES data empty or not 16-byte units. IOERR
  kTooManySegments,   // More than max_discard_seg / max_write_zeroes_seg.   IOERR
  kUnknownFlags,      // A reserved segment flag bit is set.                 UNSUPP
  kUnmapOnDiscard,    // DISCARD with the unmap flag.                        UNSUPP
  kSegmentTooLarge,   // num_sectors above max_*_sectors.                    IOERR
};
inline constexpr size_t kRequestFaultCount =
    static_cast<size_t>(RequestFault::kSegmentTooLarge) + 1;

const char* RequestFaultName(RequestFault fault);

// What the parser needs to know about the disk and the negotiated features.
struct RequestContext {
  uint64_t capacity_sectors = 0;
  bool read_only = false;
  bool discard = false;         // VIRTIO_BLK_F_DISCARD negotiated.
  bool write_zeroes = false;    // VIRTIO_BLK_F_WRITE_ZEROES negotiated.
  bool durable_writes = false;  // VIRTIO_BLK_F_FLUSH not negotiated (see DiskRequest::durable).
  std::string_view serial;      // At most VIRTIO_BLK_ID_BYTES.
};

struct Request {
  RequestType type = RequestType::kUnsupported;
  // Where the status goes: the chain's last device-writable byte, in guest
  // RAM (validated by the chain walk); nullptr for RequestFault::kNoStatus.
  uint8_t* status = nullptr;
  // Set when the backend must run the request; its outcome is the status.
  // Otherwise the request is finished and `result` is its status.
  std::optional<DiskRequest> io;
  uint8_t result = VIRTIO_BLK_S_OK;
  std::optional<RequestFault> fault;
  // Data bytes the device writes into the chain when the request succeeds
  // (IN: the data read; GET_ID: the ID).
  uint32_t data_bytes = 0;
};

Request ParseRequest(const DescriptorChain& chain, const RequestContext& context);

// Writes `status` into the request's status byte and returns the used
// length: the bytes written into the chain (§2.7.8.2), i.e. the data (on
// success) plus the status byte, or 0 if there was no status byte.
// `status_byte` and `data_bytes` are a Request's fields of those names: a
// device keeps just these two while the backend runs the request.
uint32_t FinishRequest(uint8_t* status_byte, uint32_t data_bytes, uint8_t status);
inline uint32_t FinishRequest(const Request& request, uint8_t status) {
  return FinishRequest(request.status, request.data_bytes, status);
}

}  // namespace mini_vmm::virtio::blk
