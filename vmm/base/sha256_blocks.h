// The SHA-256 compression function (FIPS 180-4 6.2.2) over whole 64-byte
// blocks, portable and with the x86 SHA extensions, behind sha256.h. Split
// out so that tests can run both on the same input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace mini_vmm::sha256_internal {

using State = std::array<uint32_t, 8>;

void CompressPortable(State& state, const uint8_t* data, size_t blocks);

// Whether this CPU has the SHA extensions (and SSE4.1) CompressShaNi uses.
bool ShaNiAvailable();
// Only where ShaNiAvailable().
void CompressShaNi(State& state, const uint8_t* data, size_t blocks);

// The one Sha256 uses: SHA-NI where available (about 8x the portable speed,
// which matters for verifying a 50 MiB cached kernel), else portable.
void Compress(State& state, const uint8_t* data, size_t blocks);

}  // namespace mini_vmm::sha256_internal
