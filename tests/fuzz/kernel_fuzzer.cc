// kernel_fuzzer: hostile kernel images against the bzImage and ELF parsers
// and the loader that copies them into guest memory
// (firmware/linux/{bzimage,elf_kernel,kernel_loader}.h). A kernel image is
// host input, but one a user may have downloaded: it must never make
// mini-vmm read or write outside the file or guest RAM.
//
// Structure-aware: the first byte picks a shape, and the rest edits a valid
// image from tests/support/fake_kernel_images.h, so most inputs get past the
// magic numbers:
//   0: bzImage. Operands: setup_sects, syssize, version, loadflags,
//      xloadflags, the jump displacement (the header's length), payload
//      offset and length, pref_address, init_size, initrd_addr_max, the
//      size of the protected-mode part; then byte patches (offset, value).
//   1: ELF. Operands: e_type, e_machine, e_entry, e_phoff, e_phentsize,
//      e_phnum, the file size, then up to 4 program headers (type, offset,
//      paddr, filesz, memsz); then byte patches.
//   2: the rest of the input is the image, as is.
// Checked (VMM_CHECK aborts, which libFuzzer reports as a crash):
//   - CheckKernelImage succeeds iff the format's parser does;
//   - a parsed bzImage's protected-mode part and payload lie inside the
//     file; a parsed ELF's segments lie inside the file, have filesz <=
//     memsz, do not wrap, and one of them holds the entry point;
//   - a loaded kernel's `end` covers what it occupies, and its bytes are in
//     guest memory where it says; an initrd address, when one is chosen,
//     is page-aligned, above the kernel and below both limits.
// tests/fuzz/kernel_seeds.py writes the seeds, one per unit-test shape.
#include <asm/bootparam.h>
#include <elf.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "firmware/linux/bzimage.h"
#include "firmware/linux/elf_kernel.h"
#include "firmware/linux/kernel_loader.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_memory.h"
#include "tests/support/fake_kernel_images.h"
#include "vmm/base/check.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::firmware::linux_boot {
namespace {

// Enough for the fake images' 16 MiB pref_address plus init_size; the
// pages are only touched where a kernel is loaded.
constexpr uint64_t kRamSize = 24ull << 20;
constexpr size_t kMaxImageSize = 1 << 16;
constexpr uint64_t kPageSize = 4096;

const GuestMemory& Memory() {
  static const GuestMemory* memory = [] {
    const GuestRegionSpec layout[] = {{GuestAddress(0), kRamSize}};
    return new GuestMemory(fuzz::MakeFuzzMemory(layout));
  }();
  return *memory;
}

void Patch(fuzz::FuzzInput& in, std::vector<uint8_t>& image) {
  while (!in.done() && !image.empty()) {
    const size_t offset = in.U16() % image.size();
    image[offset] = in.U8();
  }
}

std::vector<uint8_t> BuildBzImage(fuzz::FuzzInput& in) {
  testing::FakeBzImage bz = testing::ValidBzImage();
  setup_header& h = bz.header;
  const uint8_t edits = in.U8();  // Which fields to take from the input.
  if (edits & 0x01) h.setup_sects = in.U8();
  if (edits & 0x02) h.syssize = in.U32();
  if (edits & 0x04) h.version = in.U16();
  if (edits & 0x08) {
    h.loadflags = in.U8();
    h.xloadflags = in.U16();
  }
  if (edits & 0x10) bz.jump_displacement = in.U8();
  if (edits & 0x20) {
    h.payload_offset = in.U32();
    h.payload_length = in.U32();
  }
  if (edits & 0x40) {
    h.pref_address = in.U64();
    h.init_size = in.U32();
    h.initrd_addr_max = in.U32();
  }
  if (edits & 0x80) bz.protected_mode.resize(in.U16() % kMaxImageSize);
  std::vector<uint8_t> image = bz.Build();
  Patch(in, image);
  return image;
}

std::vector<uint8_t> BuildElf(fuzz::FuzzInput& in) {
  testing::FakeElf elf = testing::ValidElfKernel();
  Elf64_Ehdr& e = elf.ehdr;
  const uint8_t edits = in.U8();
  if (edits & 0x01) e.e_type = in.U16();
  if (edits & 0x02) e.e_machine = in.U16();
  if (edits & 0x04) e.e_entry = in.U64();
  if (edits & 0x08) e.e_phoff = in.U16();  // Inside or just past a small file.
  if (edits & 0x10) e.e_phentsize = in.U16();
  if (edits & 0x20) elf.file_size = in.U16() % kMaxImageSize;
  if (edits & 0x40) {
    const size_t count = in.U8() % 5;
    elf.phdrs.clear();
    for (size_t i = 0; i < count; ++i) {
      Elf64_Phdr ph = testing::FakeLoadSegment(0, 0, 0, 0);
      ph.p_type = in.U8() & 1 ? PT_LOAD : in.U32();
      ph.p_offset = in.U8() & 1 ? in.U64() : in.U16();
      ph.p_paddr = in.U8() & 1 ? in.U64() : in.U32() % kRamSize;
      ph.p_filesz = in.U8() & 1 ? in.U64() : in.U16();
      ph.p_memsz = in.U8() & 1 ? in.U64() : in.U32() % (2 * kRamSize);
      elf.phdrs.push_back(ph);
    }
  }
  e.e_phnum = static_cast<uint16_t>(edits & 0x80 ? in.U16() : elf.phdrs.size());
  std::vector<uint8_t> image = elf.Build();
  Patch(in, image);
  return image;
}

void CheckBzImage(std::span<const uint8_t> image) {
  auto bz = ParseBzImage(image);
  auto format = CheckKernelImage(image);
  VMM_CHECK(bz.ok() == format.ok());
  if (!bz.ok()) return;
  VMM_CHECK(*format == KernelFormat::kBzImage);
  VMM_CHECK(bz->protected_mode.data() >= image.data());
  VMM_CHECK(bz->protected_mode.data() + bz->protected_mode.size() == image.data() + image.size());
  VMM_CHECK(bz->payload.data() >= bz->protected_mode.data());
  VMM_CHECK(bz->payload.data() + bz->payload.size() <=
            bz->protected_mode.data() + bz->protected_mode.size());
}

void CheckElf(std::span<const uint8_t> image) {
  auto elf = ParseElfKernel(image);
  auto format = CheckKernelImage(image);
  VMM_CHECK(elf.ok() == format.ok());
  if (!elf.ok()) return;
  VMM_CHECK(*format == KernelFormat::kElf);
  VMM_CHECK(!elf->segments.empty());
  bool entry_loaded = false;
  for (const ElfSegment& s : elf->segments) {
    VMM_CHECK(s.file_size <= s.memory_size);
    VMM_CHECK(s.file_offset <= image.size() && s.file_size <= image.size() - s.file_offset);
    VMM_CHECK(s.physical_address + s.memory_size >= s.physical_address);
    VMM_CHECK(s.physical_address + s.memory_size <= elf->end);
    entry_loaded |= elf->entry >= s.physical_address && elf->entry - s.physical_address < s.file_size;
  }
  VMM_CHECK(entry_loaded);
}

void CheckLoad(std::span<const uint8_t> image, uint64_t initrd_size) {
  const GuestMemory& mem = Memory();
  auto kernel = LoadKernel(mem, image);
  if (!kernel.ok()) return;
  if (kernel->format == KernelFormat::kBzImage) {
    auto bz = ParseBzImage(image);
    VMM_CHECK(bz.ok());
    VMM_CHECK(kernel->entry == kBzImageLoadAddress + kStartup64Offset);
    VMM_CHECK(kernel->end >= kBzImageLoadAddress + bz->protected_mode.size());
    std::vector<uint8_t> loaded(bz->protected_mode.size());
    VMM_CHECK(mem.Read(GuestAddress(kBzImageLoadAddress), loaded));
    VMM_CHECK(std::equal(loaded.begin(), loaded.end(), bz->protected_mode.begin()));
  } else {
    auto elf = ParseElfKernel(image);
    VMM_CHECK(elf.ok());
    VMM_CHECK(kernel->entry == elf->entry && kernel->end == elf->end);
    // Later segments overwrite earlier ones: the last is in memory as is.
    const ElfSegment& last = elf->segments.back();
    auto slice = mem.GetSlice(GuestAddress(last.physical_address), last.memory_size);
    VMM_CHECK(slice.has_value());
    VMM_CHECK(std::equal(image.begin() + static_cast<ptrdiff_t>(last.file_offset),
                         image.begin() + static_cast<ptrdiff_t>(last.file_offset + last.file_size),
                         slice->begin()));
    VMM_CHECK(std::all_of(slice->begin() + static_cast<ptrdiff_t>(last.file_size), slice->end(),
                          [](uint8_t b) { return b == 0; }));
  }
  VMM_CHECK(kernel->end <= kRamSize);
  auto initrd = ChooseInitrdAddress(initrd_size, *kernel, kRamSize);
  if (!initrd.ok()) return;
  VMM_CHECK(*initrd % kPageSize == 0);
  VMM_CHECK(*initrd >= kernel->end);
  VMM_CHECK(*initrd + initrd_size <= kRamSize);
  VMM_CHECK(*initrd + initrd_size <= uint64_t{kernel->header.initrd_addr_max} + 1);
}

}  // namespace
}  // namespace mini_vmm::firmware::linux_boot

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mini_vmm::firmware::linux_boot;
  mini_vmm::fuzz::FuzzInput in(std::span<const uint8_t>(data, size));
  const uint8_t shape = in.U8();
  const uint64_t initrd_size = in.U32();
  std::vector<uint8_t> image;
  switch (shape % 3) {
    case 0:
      image = BuildBzImage(in);
      break;
    case 1:
      image = BuildElf(in);
      break;
    default: {
      const size_t used = std::min<size_t>(size, 5);
      image.assign(data + used, data + size);
      break;
    }
  }
  if (LooksLikeElf(image)) {
    CheckElf(image);
  } else {
    CheckBzImage(image);
  }
  CheckLoad(image, initrd_size);
  return 0;
}
