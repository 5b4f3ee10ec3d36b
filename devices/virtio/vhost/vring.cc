#include "devices/virtio/vhost/vring.h"

#include <bit>

namespace mini_vmm::virtio::vhost {
namespace {

// §2.7, table 2.3 (Virtqueue Part Alignment).
constexpr uint64_t kDescAlign = 16;
constexpr uint64_t kAvailAlign = 2;
constexpr uint64_t kUsedAlign = 4;

constexpr uint64_t kRingHeaderBytes = 4;  // flags + idx
constexpr uint64_t kEventBytes = 2;       // used_event / avail_event

bool Aligned(GuestAddress addr, uint64_t align) { return addr.value() % align == 0; }

// One guest-physical part, wholly inside one RAM region (GetSlice checks
// overflow and region bounds), or nullptr.
uint8_t* Host(const GuestMemory& memory, GuestAddress addr, uint64_t bytes) {
  return memory.TranslateToHost(addr, bytes);
}

}  // namespace

uint64_t DescTableBytes(uint16_t size) { return 16 * uint64_t{size}; }

uint64_t AvailRingBytes(uint16_t size, bool event_idx) {
  return kRingHeaderBytes + 2 * uint64_t{size} + (event_idx ? kEventBytes : 0);
}

uint64_t UsedRingBytes(uint16_t size, bool event_idx) {
  return kRingHeaderBytes + 8 * uint64_t{size} + (event_idx ? kEventBytes : 0);
}

const char* VringFaultName(VringFault fault) {
  switch (fault) {
    case VringFault::kSizeInvalid:
      return "a size that is zero or not a power of two";
    case VringFault::kDescMisaligned:
      return "a descriptor table not aligned to 16 bytes";
    case VringFault::kAvailMisaligned:
      return "an available ring not aligned to 2 bytes";
    case VringFault::kUsedMisaligned:
      return "a used ring not aligned to 4 bytes";
    case VringFault::kDescOutsideRam:
      return "a descriptor table outside guest RAM";
    case VringFault::kAvailOutsideRam:
      return "an available ring outside guest RAM";
    case VringFault::kUsedOutsideRam:
      return "a used ring outside guest RAM";
  }
  return "an unknown fault";
}

std::optional<VringFault> CheckVring(const GuestMemory& memory, const VringGuestAddresses& ring,
                                     bool event_idx) {
  if (ring.size == 0 || !std::has_single_bit(ring.size)) return VringFault::kSizeInvalid;
  if (!Aligned(ring.desc, kDescAlign)) return VringFault::kDescMisaligned;
  if (!Aligned(ring.avail, kAvailAlign)) return VringFault::kAvailMisaligned;
  if (!Aligned(ring.used, kUsedAlign)) return VringFault::kUsedMisaligned;
  if (Host(memory, ring.desc, DescTableBytes(ring.size)) == nullptr) {
    return VringFault::kDescOutsideRam;
  }
  if (Host(memory, ring.avail, AvailRingBytes(ring.size, event_idx)) == nullptr) {
    return VringFault::kAvailOutsideRam;
  }
  if (Host(memory, ring.used, UsedRingBytes(ring.size, event_idx)) == nullptr) {
    return VringFault::kUsedOutsideRam;
  }
  return std::nullopt;
}

Result<VringHostAddresses> TranslateVring(const GuestMemory& memory,
                                          const VringGuestAddresses& ring, bool event_idx) {
  if (auto fault = CheckVring(memory, ring, event_idx)) {
    return Error::Invalid(
        "the driver gave a ring of {} entries (descriptors {:#x}, available {:#x}, used {:#x}) "
        "with {}",
        ring.size, ring.desc.value(), ring.avail.value(), ring.used.value(),
        VringFaultName(*fault));
  }
  const auto host = [&](GuestAddress addr, uint64_t bytes) {
    return reinterpret_cast<uint64_t>(Host(memory, addr, bytes));
  };
  return VringHostAddresses{.desc = host(ring.desc, DescTableBytes(ring.size)),
                            .avail = host(ring.avail, AvailRingBytes(ring.size, event_idx)),
                            .used = host(ring.used, UsedRingBytes(ring.size, event_idx))};
}

}  // namespace mini_vmm::virtio::vhost
