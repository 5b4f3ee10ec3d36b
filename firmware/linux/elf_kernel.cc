#include "firmware/linux/elf_kernel.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

namespace mini_vmm::firmware::linux_boot {
namespace {

// A kernel has a handful of PT_LOAD segments; bound the walk regardless.
constexpr uint16_t kMaxProgramHeaders = 64;

Result<Elf64_Ehdr> ReadHeader(std::span<const uint8_t> image) {
  if (image.size() < sizeof(Elf64_Ehdr)) return Error::Invalid("the ELF file is truncated");
  if (!LooksLikeElf(image)) return Error::Invalid("not an ELF file");
  Elf64_Ehdr ehdr;
  std::memcpy(&ehdr, image.data(), sizeof(ehdr));
  if (ehdr.e_ident[EI_CLASS] != ELFCLASS64 || ehdr.e_ident[EI_DATA] != ELFDATA2LSB) {
    return Error::Invalid("the ELF file is not 64-bit little-endian");
  }
  if (ehdr.e_machine != EM_X86_64) return Error::Invalid("the ELF file is not for x86_64");
  if (ehdr.e_type != ET_EXEC) return Error::Invalid("the ELF file is not an executable kernel");
  if (ehdr.e_phentsize != sizeof(Elf64_Phdr) || ehdr.e_phnum == 0 ||
      ehdr.e_phnum > kMaxProgramHeaders) {
    return Error::Invalid("the ELF file has a malformed program header table");
  }
  const uint64_t table_size = uint64_t{ehdr.e_phnum} * sizeof(Elf64_Phdr);
  if (ehdr.e_phoff > image.size() || table_size > image.size() - ehdr.e_phoff) {
    return Error::Invalid("the ELF file is truncated: its program headers run past the end");
  }
  return ehdr;
}

Result<ElfSegment> CheckSegment(const Elf64_Phdr& ph, size_t image_size) {
  if (ph.p_filesz > ph.p_memsz) {
    return Error::Invalid("an ELF segment has more file bytes than memory bytes");
  }
  if (ph.p_offset > image_size || ph.p_filesz > image_size - ph.p_offset) {
    return Error::Invalid("the ELF file is truncated: a segment runs past the end");
  }
  uint64_t end = 0;
  if (__builtin_add_overflow(ph.p_paddr, ph.p_memsz, &end)) {
    return Error::Invalid("an ELF segment wraps around the address space");
  }
  return ElfSegment{ph.p_paddr, ph.p_offset, ph.p_filesz, ph.p_memsz};
}

}  // namespace

bool LooksLikeElf(std::span<const uint8_t> image) {
  return image.size() >= SELFMAG && std::memcmp(image.data(), ELFMAG, SELFMAG) == 0;
}

Result<ElfKernel> ParseElfKernel(std::span<const uint8_t> image) {
  const Elf64_Ehdr ehdr = TRY(ReadHeader(image));
  ElfKernel kernel{ehdr.e_entry, {}, 0};
  for (uint16_t i = 0; i < ehdr.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, image.data() + ehdr.e_phoff + i * sizeof(Elf64_Phdr), sizeof(ph));
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    const ElfSegment seg = TRY(CheckSegment(ph, image.size()));
    kernel.end = std::max(kernel.end, seg.physical_address + seg.memory_size);
    kernel.segments.push_back(seg);
  }
  if (kernel.segments.empty()) return Error::Invalid("the ELF file has nothing to load");
  const bool entry_loaded =
      std::any_of(kernel.segments.begin(), kernel.segments.end(), [&](const ElfSegment& s) {
        return kernel.entry >= s.physical_address &&
               kernel.entry - s.physical_address < s.file_size;
      });
  if (!entry_loaded) {
    return Error::Invalid(
        "the ELF entry point {:#x} is not in a loaded segment (not a "
        "physically-addressed vmlinux?)",
        kernel.entry);
  }
  return kernel;
}

}  // namespace mini_vmm::firmware::linux_boot
