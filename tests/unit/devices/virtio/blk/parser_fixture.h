// ParserTest: builds a DescriptorChain straight from buffers in guest RAM
// (no ring needed), parses it, and finishes it the way the device does when
// no I/O is needed.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <span>
#include <vector>

#include "devices/virtio/blk/request.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/virtio_test_helpers.h"
#include "tests/unit/devices/virtio/blk/blk_test_util.h"

namespace mini_vmm::virtio::blk::testing {

inline constexpr uint64_t kCapacity = 64;  // Sectors.
inline constexpr uint8_t kUntouched = 0xAA;

class ParserTest {
 protected:
  GuestAddress Readable(std::span<const uint8_t> bytes) {
    const GuestAddress addr = Add(bytes.size(), false);
    REQUIRE(mem_.Write(addr, bytes));
    return addr;
  }
  GuestAddress Writable(uint64_t len) { return Add(len, true); }
  // `count` writable segments all viewing the same `len` bytes: descriptors
  // may overlap, which makes huge requests cheap to build.
  void WritableRepeated(uint64_t len, int count) {
    const GuestAddress addr = Writable(len);
    const auto slice = *mem_.GetSlice(addr, len);
    for (int i = 1; i < count; ++i) segments_.push_back(virtio::Segment{slice, true});
  }

  Request Parse() {
    ::mini_vmm::testing::ScopedChain chain(DescriptorChain(0, segments_));
    return ParseRequest(*chain, context_);
  }
  // Parses, then writes the decided status as the device would.
  uint32_t ParseAndFinish() {
    request_ = Parse();
    return FinishRequest(request_, request_.result);
  }
  RequestFault fault() const {
    REQUIRE(request_.fault.has_value());
    return *request_.fault;
  }
  uint8_t ByteAt(GuestAddress addr) { return *mem_.ReadObj<uint8_t>(addr); }
  std::vector<uint8_t> BytesAt(GuestAddress addr, size_t len) {
    std::vector<uint8_t> bytes(len);
    REQUIRE(mem_.Read(addr, bytes));
    return bytes;
  }

  GuestMemory mem_ = ::mini_vmm::testing::MakeGuestMemory(0, 4 << 20);
  RequestContext context_{.capacity_sectors = kCapacity,
                          .discard = true,
                          .write_zeroes = true,
                          .serial = "mini-vmm-disk"};
  Request request_;

 private:
  GuestAddress Add(uint64_t len, bool writable) {
    const GuestAddress addr(next_);
    next_ += len + 16;  // A gap, so over-long writes would show.
    auto slice = mem_.GetSlice(addr, len);
    REQUIRE(slice.has_value());
    std::fill(slice->begin(), slice->end(), kUntouched);
    segments_.push_back(virtio::Segment{*slice, writable});
    return addr;
  }

  uint64_t next_ = 0x1000;
  std::vector<virtio::Segment> segments_;
};

}  // namespace mini_vmm::virtio::blk::testing

namespace Catch {

template <>
struct StringMaker<mini_vmm::virtio::blk::RequestFault> {
  static std::string convert(mini_vmm::virtio::blk::RequestFault fault) {
    return mini_vmm::virtio::blk::RequestFaultName(fault);
  }
};

}  // namespace Catch
