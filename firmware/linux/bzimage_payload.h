// The vmlinux inside a bzImage: its compressed payload (boot protocol 2.08+
// payload_offset/payload_length), decompressed on the host so that the
// kernel can be entered at its own 64-bit entry without running the
// in-guest decompressor.
//
//   const BzImage bz = TRY(ParseBzImage(file.bytes()));
//   DecompressedData vmlinux = TRY(DecompressBzImagePayload(bz));
//   LoadedKernel k = TRY(LoadDecompressedKernel(mem, bz.header, vmlinux.bytes(), regions));
#pragma once

#include <cstdint>
#include <optional>

#include "firmware/decompress/decompress.h"
#include "firmware/linux/bzimage.h"
#include "vmm/base/result.h"

namespace mini_vmm::firmware::linux_boot {

// No x86_64 kernel image is bigger: KERNEL_IMAGE_SIZE is 1 GiB with KASLR
// configured (512 MiB without), the most the kernel's mapping of itself
// can hold. The header's init_size usually bounds the output more tightly.
inline constexpr uint64_t kMaxDecompressedKernel = 1ull << 30;

// The bound on what the payload may decompress to: the smaller of the
// header's init_size (the kernel build makes it cover the decompressed
// image) and kMaxDecompressedKernel.
uint64_t DecompressedKernelBound(const setup_header& header);

// The payload's format by its magic.
std::optional<decompress::Compression> PayloadCompression(const BzImage& bz);
// "lz4", "zstd"...: the payload's format by its magic, or "unknown".
const char* PayloadCompressionName(const BzImage& bz);

// Whether the host can decompress the payload: its magic is a known
// format and it has room for the size trailer. For validating a
// configuration before anything is built.
Result<void> CheckPayloadFormat(const BzImage& bz);

// Decompresses the payload (whatever format its magic says) to an ELF
// vmlinux. Linux's build appends the decompressed size as a little-endian
// 32-bit number to the payload (gzip's own trailer is that number); the
// output must be exactly that long, and no longer than the bound. Errors
// are one sentence naming the format and the fault.
Result<decompress::DecompressedData> DecompressBzImagePayload(const BzImage& bz);

}  // namespace mini_vmm::firmware::linux_boot
