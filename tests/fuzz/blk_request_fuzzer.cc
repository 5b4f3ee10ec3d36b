// blk_request_fuzzer: hostile virtio-blk requests against ParseRequest and
// FinishRequest (devices/virtio/blk/request.h).
//
// The input describes a chain rather than raw descriptors:
//
//   u8  context: 0x01 read-only disk, 0x02 DISCARD negotiated,
//                0x04 WRITE_ZEROES negotiated, 0x08 durable writes
//   u16 capacity in sectors
//   u8  serial length (mod 21; the serial is "0123456789abcdefghij"'s prefix)
//   u8  completion status the "backend" reports (mod 3: OK, IOERR, UNSUPP)
//   u8  segment count (mod 33), then per segment:
//       u8 d: 0x80 device-writable; 0x40 a u16 length (mod 8192) follows,
//             else the length is d & 0x3f
//   the rest: the bytes of the device-readable segments, in order (the
//             request header first, then data or discard segments); zeros
//             once the input runs out
//
// Segments may come in any order (the chain walker would refuse readable
// after writable; the parser must not care). Each segment is its own heap
// allocation, so ASan reports any access outside the chain. Checked on every
// input (VMM_CHECK aborts, which libFuzzer reports as a crash):
//   - device-readable bytes are never written;
//   - of the device-writable bytes only the status byte (the last one) and,
//     for GET_ID, the 20 ID bytes change;
//   - a chain without writable bytes gets no status and used len 0; any
//     other gets exactly one of OK / IOERR / UNSUPP, OK only without a fault;
//   - a request for the backend stays inside the disk and inside the chain,
//     in whole sectors, with iovecs of the right direction;
//   - the used length never exceeds the writable bytes.
// tests/fuzz/blk_request_seeds.py writes the seeds, one per unit-test shape.
#include <linux/virtio_blk.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "devices/virtio/blk/request.h"
#include "devices/virtio/descriptor_chain.h"
#include "tests/fuzz/fuzz_input.h"
#include "vmm/base/check.h"

namespace mini_vmm::virtio::blk {
namespace {

constexpr std::string_view kSerial = "0123456789abcdefghij";
constexpr size_t kMaxSegments = 32;
// Beyond a few sectors, longer buffers find nothing new and only slow runs down.
constexpr size_t kMaxSegmentBytes = 8192;
constexpr uint8_t kStatuses[] = {VIRTIO_BLK_S_OK, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_UNSUPP};

using Input = fuzz::FuzzInput;

struct Buffer {
  std::vector<uint8_t> bytes;
  bool writable;
};

struct Case {
  RequestContext context;
  uint8_t completion;
  std::vector<Buffer> buffers;
};

Case Decode(Input& in) {
  Case c;
  const uint8_t flags = in.U8();
  c.context.read_only = (flags & 0x01) != 0;
  c.context.discard = (flags & 0x02) != 0;
  c.context.write_zeroes = (flags & 0x04) != 0;
  c.context.durable_writes = (flags & 0x08) != 0;
  c.context.capacity_sectors = in.U16();
  c.context.serial = kSerial.substr(0, in.U8() % (kSerial.size() + 1));
  c.completion = kStatuses[in.U8() % std::size(kStatuses)];
  const size_t count = in.U8() % (kMaxSegments + 1);
  for (size_t i = 0; i < count; ++i) {
    const uint8_t d = in.U8();
    const size_t len =
        (d & 0x40) != 0 ? in.U16() % kMaxSegmentBytes : static_cast<size_t>(d & 0x3f);
    c.buffers.push_back(Buffer{std::vector<uint8_t>(len), (d & 0x80) != 0});
  }
  // Writable bytes start as a pattern, so every change shows. (Whole-buffer
  // copies and compares here and below: per-byte loops in the harness would
  // cost more coverage callbacks than the parser itself.)
  for (Buffer& b : c.buffers) {
    if (b.bytes.empty()) continue;
    if (b.writable) {
      std::memset(b.bytes.data(), 0xAA, b.bytes.size());
    } else {
      in.Copy(b.bytes);
    }
  }
  return c;
}

// The writable bytes as one stream, the way Writer sees them.
std::vector<uint8_t> WritableStream(const std::vector<Buffer>& buffers) {
  std::vector<uint8_t> out;
  for (const Buffer& b : buffers) {
    if (b.writable) out.insert(out.end(), b.bytes.begin(), b.bytes.end());
  }
  return out;
}

bool Inside(const iovec& v, const std::vector<Buffer>& buffers, bool writable) {
  const auto* start = static_cast<const uint8_t*>(v.iov_base);
  for (const Buffer& b : buffers) {
    if (b.writable != writable || v.iov_len > b.bytes.size()) continue;
    const uint8_t* begin = b.bytes.data();
    if (start >= begin && start + v.iov_len <= begin + b.bytes.size()) return true;
  }
  return false;
}

void CheckIo(const DiskRequest& io, const Case& c) {
  const uint64_t disk_bytes = c.context.capacity_sectors * kSectorSize;
  VMM_CHECK(!(c.context.read_only && io.op != DiskOp::kRead && io.op != DiskOp::kFlush));
  if (io.op == DiskOp::kRead || io.op == DiskOp::kWrite) {
    VMM_CHECK(io.length > 0 && io.length % kSectorSize == 0 && io.length <= kMaxDataBytes);
    VMM_CHECK(io.offset % kSectorSize == 0 && io.offset <= disk_bytes &&
              io.length <= disk_bytes - io.offset);
    uint64_t total = 0;
    for (const iovec& v : io.iovecs) {
      VMM_CHECK(Inside(v, c.buffers, io.op == DiskOp::kRead));
      total += v.iov_len;
    }
    VMM_CHECK(total == io.length);
  }
  if (io.op == DiskOp::kDiscard || io.op == DiskOp::kWriteZeroes) {
    VMM_CHECK(!io.ranges.empty() && io.ranges.size() <= kMaxRanges);
    for (const DiskRange& r : io.ranges) {
      VMM_CHECK(r.length > 0 && r.offset <= disk_bytes && r.length <= disk_bytes - r.offset);
      VMM_CHECK(!(io.op == DiskOp::kDiscard && r.unmap));
    }
  }
}

// Which writable bytes may have changed: the ID (GET_ID only) and the
// status byte, the last one.
void CheckWrites(const std::vector<uint8_t>& before, const std::vector<uint8_t>& after,
                 const Request& request) {
  VMM_CHECK(before.size() == after.size());
  if (before.empty()) return;
  const size_t id_bytes = request.type == RequestType::kGetId ? VIRTIO_BLK_ID_BYTES : 0;
  const size_t from = std::min(id_bytes, before.size() - 1);
  VMM_CHECK(std::memcmp(before.data() + from, after.data() + from, before.size() - 1 - from) == 0);
}

void Run(Case& c) {
  std::vector<Segment> segments;
  for (Buffer& b : c.buffers) segments.push_back(Segment{b.bytes, b.writable});
  DescriptorChain chain(0, std::move(segments));
  const std::vector<Buffer> original = c.buffers;
  const std::vector<uint8_t> writable_before = WritableStream(c.buffers);

  Request request = ParseRequest(chain, c.context);
  if (request.io) CheckIo(*request.io, c);
  const uint8_t status = request.io ? c.completion : request.result;
  const uint32_t used = FinishRequest(request, status);
  chain.Abandon();  // No queue here: nothing to return the chain to.

  for (size_t i = 0; i < c.buffers.size(); ++i) {
    if (!c.buffers[i].writable) VMM_CHECK(c.buffers[i].bytes == original[i].bytes);
  }
  const std::vector<uint8_t> writable_after = WritableStream(c.buffers);
  CheckWrites(writable_before, writable_after, request);
  if (writable_before.empty()) {
    VMM_CHECK(!request.status && request.fault == RequestFault::kNoStatus && used == 0);
    return;
  }
  VMM_CHECK(request.status != nullptr && used >= 1 && used <= writable_before.size());
  VMM_CHECK(writable_after.back() == status);
  VMM_CHECK(request.io || request.fault.has_value() == (request.result != VIRTIO_BLK_S_OK));
}

}  // namespace
}  // namespace mini_vmm::virtio::blk

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mini_vmm::virtio::blk;
  Input in(std::span<const uint8_t>(data, size));
  Case c = Decode(in);
  Run(c);
  return 0;
}
