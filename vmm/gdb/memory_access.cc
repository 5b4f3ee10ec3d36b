#include "vmm/gdb/memory_access.h"

#include <algorithm>
#include <optional>

namespace mini_vmm::gdb {
namespace {

// The next piece of [address + done, address + size) that lies in one page,
// or nullopt if that address is unmapped or past 2^64.
struct Piece {
  uint64_t physical;
  size_t length;
};

std::optional<Piece> NextPiece(Target& target, VcpuIndex vcpu, uint64_t address, size_t done,
                               size_t size) {
  uint64_t current = 0;
  if (__builtin_add_overflow(address, done, &current)) return std::nullopt;
  std::optional<Translation> translation = target.Translate(vcpu, current);
  if (!translation || translation->bytes_to_page_end == 0) return std::nullopt;
  // Never past 2^64 - 1: the last byte of the address space ends the access.
  const uint64_t to_top = ~current + uint64_t{1};
  uint64_t length = std::min<uint64_t>(size - done, translation->bytes_to_page_end);
  if (to_top != 0) length = std::min(length, to_top);
  return Piece{translation->physical, static_cast<size_t>(length)};
}

}  // namespace

size_t ReadVirtual(Target& target, const Breakpoints& breakpoints, VcpuIndex vcpu, uint64_t address,
                   std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {  // Each pass moves at least one byte.
    std::optional<Piece> piece = NextPiece(target, vcpu, address, done, out.size());
    if (!piece) break;
    std::span<uint8_t> chunk = out.subspan(done, piece->length);
    if (!target.ReadPhysical(piece->physical, chunk)) break;
    breakpoints.HideInt3s(piece->physical, chunk);
    done += piece->length;
  }
  return done;
}

size_t WriteVirtual(Target& target, Breakpoints& breakpoints, VcpuIndex vcpu, uint64_t address,
                    std::span<const uint8_t> in) {
  size_t done = 0;
  while (done < in.size()) {
    std::optional<Piece> piece = NextPiece(target, vcpu, address, done, in.size());
    if (!piece) break;
    std::span<const uint8_t> chunk = in.subspan(done, piece->length);
    if (!target.WritePhysical(piece->physical, chunk)) break;
    breakpoints.AfterWrite(piece->physical, chunk);
    done += piece->length;
  }
  return done;
}

}  // namespace mini_vmm::gdb
