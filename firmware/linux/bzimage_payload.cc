#include "firmware/linux/bzimage_payload.h"

#include <algorithm>

#include "firmware/linux/elf_kernel.h"

namespace mini_vmm::firmware::linux_boot {
namespace {

namespace dc = decompress;

// scripts/Makefile.lib size_append: four bytes, little-endian.
constexpr size_t kSizeTrailer = 4;

uint32_t Le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

}  // namespace

uint64_t DecompressedKernelBound(const setup_header& header) {
  return std::min<uint64_t>(header.init_size, kMaxDecompressedKernel);
}

std::optional<dc::Compression> PayloadCompression(const BzImage& bz) {
  return dc::DetectCompression(bz.payload);
}

const char* PayloadCompressionName(const BzImage& bz) {
  const std::optional<dc::Compression> compression = PayloadCompression(bz);
  return compression ? dc::CompressionName(*compression) : "unknown";
}

Result<void> CheckPayloadFormat(const BzImage& bz) {
  if (bz.payload.size() <= kSizeTrailer || !dc::DetectCompression(bz.payload)) {
    return Error::Invalid(
        "the bzImage's payload is in no compression format mini-vmm knows; boot it with "
        "--kernel-decompress=guest");
  }
  return {};
}

Result<dc::DecompressedData> DecompressBzImagePayload(const BzImage& bz) {
  TRY(CheckPayloadFormat(bz));
  const std::span<const uint8_t> payload = bz.payload;
  const std::optional<dc::Compression> compression = dc::DetectCompression(payload);
  const char* name = dc::CompressionName(*compression);
  const uint64_t declared = Le32(payload.data() + payload.size() - kSizeTrailer);
  const uint64_t bound = DecompressedKernelBound(bz.header);
  if (declared > bound) {
    return Error::Invalid(
        "the bzImage's {} payload says it decompresses to {} bytes, more than the {} its "
        "init_size allows",
        name, declared, bound);
  }
  // LZ4's legacy frame has no end mark, so the size trailer would be read
  // as a block header; every other format ends its stream before it.
  const std::span<const uint8_t> stream = *compression == dc::Compression::kLz4Legacy
                                              ? payload.first(payload.size() - kSizeTrailer)
                                              : payload;
  auto vmlinux = dc::Decompress(stream, declared);
  if (!vmlinux.ok()) {
    return Error::Invalid("cannot decompress the bzImage's payload: {}",
                          vmlinux.error().ToString());
  }
  if (vmlinux->size() != declared) {
    return Error::Invalid(
        "the bzImage's {} payload decompresses to {} bytes, but its size trailer says {}", name,
        vmlinux->size(), declared);
  }
  if (!LooksLikeElf(vmlinux->bytes())) {
    return Error::Invalid("the bzImage's {} payload does not decompress to an ELF vmlinux", name);
  }
  return std::move(*vmlinux);
}

}  // namespace mini_vmm::firmware::linux_boot
