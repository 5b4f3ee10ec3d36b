// GuestAddress: a guest-physical address as a strong type, so raw integers
// never cross an API as addresses. Arithmetic is overflow-checked.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>

namespace mini_vmm {

class GuestAddress {
 public:
  constexpr GuestAddress() = default;
  constexpr explicit GuestAddress(uint64_t value) : value_(value) {}

  constexpr uint64_t value() const { return value_; }

  // addr + offset, or nullopt if it wraps past 2^64.
  constexpr std::optional<GuestAddress> CheckedAdd(uint64_t offset) const {
    uint64_t result = 0;
    if (__builtin_add_overflow(value_, offset, &result)) return std::nullopt;
    return GuestAddress(result);
  }
  // Caller guarantees no overflow (constants, already-validated layouts).
  constexpr GuestAddress Offset(uint64_t offset) const { return GuestAddress(value_ + offset); }
  // this - base, for addresses known to be >= base.
  constexpr uint64_t OffsetFrom(GuestAddress base) const { return value_ - base.value_; }

  constexpr auto operator<=>(const GuestAddress&) const = default;

 private:
  uint64_t value_ = 0;
};

}  // namespace mini_vmm
