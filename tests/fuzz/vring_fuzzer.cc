// vring_fuzzer: the ring checks made before vhost is given a ring
// (devices/virtio/vhost/vring.h), with every size and address a driver can
// write. The property: a ring that is accepted has each of its three parts,
// whole, inside one host mapping of guest RAM -- the kernel's worker will
// read and write exactly those bytes -- and a ring that is refused gets an
// error, never host addresses.
//
// Input: size (le16), flags (u8: bit 0 = EVENT_IDX), then the descriptor
// table, available ring and used ring addresses, each a selector byte
// (0: low RAM + le16, 1: near 2^64 + le16, else a raw le64) and its value.
// Seeds: vring_seeds.py.
#include <cstddef>
#include <cstdint>
#include <span>

#include "devices/virtio/vhost/vring.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_memory.h"
#include "vmm/base/check.h"

namespace mini_vmm {
namespace {

using virtio::vhost::AvailRingBytes;
using virtio::vhost::CheckVring;
using virtio::vhost::DescTableBytes;
using virtio::vhost::UsedRingBytes;
using virtio::vhost::VringGuestAddresses;

// Two adjacent low regions (a part may not span them, even so) and one
// ending just below 2^64, where an end address could wrap.
constexpr uint64_t kLowRegionSize = 0x8000;
constexpr uint64_t kHighRam = 0xffff'ffff'ffff'0000;
constexpr uint64_t kHighRamSize = 0xf000;

const GuestMemory& Memory() {
  static const GuestMemory* memory = [] {
    const GuestRegionSpec layout[] = {{GuestAddress(0), kLowRegionSize},
                                      {GuestAddress(kLowRegionSize), kLowRegionSize},
                                      {GuestAddress(kHighRam), kHighRamSize}};
    return new GuestMemory(fuzz::MakeFuzzMemory(layout));
  }();
  return *memory;
}

GuestAddress Address(fuzz::FuzzInput& in) {
  switch (in.U8()) {
    case 0:
      return GuestAddress(in.U16());
    case 1:
      return GuestAddress(kHighRam + in.U16());
    default:
      return GuestAddress(in.U64());
  }
}

// [host, host + bytes) lies inside one region's mapping, at the offset of
// `guest` in it.
void CheckPart(const GuestMemory& mem, uint64_t host, GuestAddress guest, uint64_t bytes) {
  const GuestRegion* region = mem.FindRegion(guest);
  VMM_CHECK(region != nullptr);
  const uint64_t base = reinterpret_cast<uint64_t>(region->host_address());
  VMM_CHECK(host == base + guest.OffsetFrom(region->start()));
  VMM_CHECK(bytes <= region->size() && host - base <= region->size() - bytes);
}

}  // namespace
}  // namespace mini_vmm

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mini_vmm;
  fuzz::FuzzInput in(std::span<const uint8_t>(data, size));
  VringGuestAddresses ring;
  ring.size = in.U16();
  const bool event_idx = (in.U8() & 1) != 0;
  ring.desc = Address(in);
  ring.avail = Address(in);
  ring.used = Address(in);

  const GuestMemory& mem = Memory();
  const auto fault = CheckVring(mem, ring, event_idx);
  const auto host = virtio::vhost::TranslateVring(mem, ring, event_idx);
  VMM_CHECK(host.ok() == !fault.has_value());
  if (!host.ok()) return 0;
  CheckPart(mem, host->desc, ring.desc, DescTableBytes(ring.size));
  CheckPart(mem, host->avail, ring.avail, AvailRingBytes(ring.size, event_idx));
  CheckPart(mem, host->used, ring.used, UsedRingBytes(ring.size, event_idx));
  return 0;
}
