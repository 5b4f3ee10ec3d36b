// decompress_fuzzer: hostile compressed data against Decompress()
// (firmware/decompress/decompress.h), the decoders of every format a
// bzImage payload may use, and against DecompressBzImagePayload's checks
// of Linux's size trailer (firmware/linux/bzimage_payload.h). The kernel
// file is untrusted: no input may read outside it, write past the bound,
// allocate without bound or loop forever.
//
// Input: a 16-bit output bound in bytes (at most 64 KiB, so that bombs hit
// it quickly), then the compressed data as is (seeds start with each
// format's magic, so mutations stay inside a decoder).
// Checked (VMM_CHECK aborts, which libFuzzer reports as a crash):
//   - Decompress succeeds only for data whose magic DetectCompression
//     knows, with at most `bound` bytes of output;
//   - wrapped in a bzImage-like payload with its size trailer, a success
//     is exactly the trailer's size, within the header's init_size, and
//     an ELF.
// tests/fuzz/decompress_seeds.py writes the seeds with the real tools.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "firmware/decompress/decompress.h"
#include "firmware/linux/bzimage.h"
#include "firmware/linux/bzimage_payload.h"
#include "firmware/linux/elf_kernel.h"
#include "tests/fuzz/fuzz_input.h"
#include "vmm/base/check.h"

namespace {

namespace dc = mini_vmm::firmware::decompress;
namespace lb = mini_vmm::firmware::linux_boot;

void CheckDecompress(std::span<const uint8_t> data, uint64_t bound) {
  auto out = dc::Decompress(data, bound);
  if (!out.ok()) return;
  VMM_CHECK(dc::DetectCompression(data).has_value());
  VMM_CHECK(out->size() <= bound);
}

// The same data as a bzImage payload whose last 4 bytes are the trailer.
void CheckPayload(std::span<const uint8_t> data, uint32_t init_size) {
  lb::BzImage bz{};
  bz.header.init_size = init_size;
  bz.payload = data;
  auto out = lb::DecompressBzImagePayload(bz);
  if (!out.ok()) return;
  VMM_CHECK(data.size() > 4);
  uint32_t declared = 0;
  std::memcpy(&declared, data.data() + data.size() - 4, sizeof(declared));
  VMM_CHECK(out->size() == declared);
  VMM_CHECK(out->size() <= init_size);
  VMM_CHECK(lb::LooksLikeElf(out->bytes()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mini_vmm::fuzz::FuzzInput input({data, size});
  const uint16_t bound = input.U16();
  const std::span<const uint8_t> rest =
      size > 2 ? std::span<const uint8_t>(data + 2, size - 2) : std::span<const uint8_t>();
  CheckDecompress(rest, bound);
  CheckPayload(rest, bound);
  return 0;
}
