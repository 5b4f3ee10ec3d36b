// Kernel images built in memory for the Linux boot tests: a minimal valid
// bzImage and a minimal valid ELF vmlinux, each as a struct the test edits
// before Build() to make one malformed shape.
//
//   FakeBzImage bz = ValidBzImage();
//   bz.header.version = 0x0208;              // too old
//   auto parsed = ParseBzImage(bz.Build());
#pragma once

#include <asm/bootparam.h>
#include <elf.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace mini_vmm::testing {

// --- bzImage ------------------------------------------------------------------

inline constexpr size_t kFakeSetupSects = 4;
inline constexpr size_t kFakeSetupSize = (kFakeSetupSects + 1) * 512;  // Boot sector + setup.
inline constexpr size_t kFakeProtectedModeSize = 0x1000;
inline constexpr uint64_t kFakePrefAddress = 0x100'0000;  // 16 MiB
inline constexpr uint32_t kFakeInitSize = 0x10'0000;      // 1 MiB
inline constexpr uint32_t kFakePayloadOffset = 0x100;
inline constexpr uint32_t kFakePayloadLength = 0x400;
// The jump at 0x200 skips the header: 0x202 + 0x62 = 0x264 ends it just
// after init_size (0x260-0x263), like a protocol 2.15 kernel without
// handover_offset/kernel_info_offset.
inline constexpr uint8_t kFakeJumpDisplacement = 0x62;

struct FakeBzImage {
  setup_header header{};
  uint8_t jump_displacement = kFakeJumpDisplacement;
  std::vector<uint8_t> protected_mode;

  // Boot sector and setup sectors (setup_sects + 1) with the header at
  // 0x1f1, then the protected-mode part.
  std::vector<uint8_t> Build() const {
    const size_t sects = header.setup_sects == 0 ? 4 : header.setup_sects;
    std::vector<uint8_t> image((sects + 1) * 512, 0);
    std::memcpy(image.data() + 0x1f1, &header, sizeof(header));
    image[0x200] = 0xeb;  // jmp short
    image[0x201] = jump_displacement;
    image.insert(image.end(), protected_mode.begin(), protected_mode.end());
    return image;
  }
};

// The byte at offset `i` of the fake protected-mode part.
inline uint8_t FakeProtectedModeByte(size_t i) { return static_cast<uint8_t>(i * 7 + 3); }

inline FakeBzImage ValidBzImage() {
  FakeBzImage bz;
  setup_header& h = bz.header;
  h.setup_sects = kFakeSetupSects;
  h.syssize = kFakeProtectedModeSize / 16;
  h.boot_flag = 0xaa55;
  h.jump = static_cast<uint16_t>(0xeb | (kFakeJumpDisplacement << 8));
  h.header = 0x53726448;  // "HdrS"
  h.version = 0x020f;
  h.loadflags = LOADED_HIGH;
  h.code32_start = 0x100000;
  h.initrd_addr_max = 0x7fffffff;
  h.kernel_alignment = 0x200000;
  h.relocatable_kernel = 1;
  h.xloadflags = XLF_KERNEL_64;
  h.cmdline_size = 2047;
  h.payload_offset = kFakePayloadOffset;
  h.payload_length = kFakePayloadLength;
  h.pref_address = kFakePrefAddress;
  h.init_size = kFakeInitSize;
  bz.protected_mode.resize(kFakeProtectedModeSize);
  for (size_t i = 0; i < bz.protected_mode.size(); ++i) {
    bz.protected_mode[i] = FakeProtectedModeByte(i);
  }
  return bz;
}

// The valid bzImage with `payload` (a compressed vmlinux, see
// compress_tool.h LinuxPayload) at kFakePayloadOffset of its protected-mode
// part.
inline FakeBzImage BzImageWithPayload(const std::vector<uint8_t>& payload) {
  FakeBzImage bz = ValidBzImage();
  bz.protected_mode.resize(kFakePayloadOffset);
  bz.protected_mode.insert(bz.protected_mode.end(), payload.begin(), payload.end());
  bz.protected_mode.resize((bz.protected_mode.size() + 15) / 16 * 16);
  bz.header.syssize = static_cast<uint32_t>(bz.protected_mode.size() / 16);
  bz.header.payload_length = static_cast<uint32_t>(payload.size());
  return bz;
}

// --- ELF vmlinux --------------------------------------------------------------

inline constexpr uint64_t kFakeElfEntry = 0x100'0000;
inline constexpr uint64_t kFakeElfLoadAddress = 0x100'0000;
inline constexpr uint64_t kFakeElfSegmentOffset = 0x1000;
inline constexpr uint64_t kFakeElfFileSize = 0x800;
inline constexpr uint64_t kFakeElfMemorySize = 0x2000;  // The rest is bss.
inline constexpr uint8_t kFakeElfSegmentByte = 0x5a;

struct FakeElf {
  Elf64_Ehdr ehdr{};
  std::vector<Elf64_Phdr> phdrs;
  size_t file_size = 0;

  // The ELF header at 0, the program headers at e_phoff (as many as fit in
  // file_size), every other byte kFakeElfSegmentByte.
  std::vector<uint8_t> Build() const {
    std::vector<uint8_t> file(file_size, kFakeElfSegmentByte);
    if (file.empty()) return file;  // data() may be null: no memcpy to it.
    std::memcpy(file.data(), &ehdr, std::min(sizeof(ehdr), file.size()));
    for (size_t i = 0; i < phdrs.size(); ++i) {
      const size_t at = ehdr.e_phoff + i * sizeof(Elf64_Phdr);
      if (at + sizeof(Elf64_Phdr) > file.size()) break;
      std::memcpy(file.data() + at, &phdrs[i], sizeof(Elf64_Phdr));
    }
    return file;
  }
};

inline Elf64_Phdr FakeLoadSegment(uint64_t paddr, uint64_t offset, uint64_t filesz,
                                  uint64_t memsz) {
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_flags = PF_R | PF_X;
  ph.p_offset = offset;
  ph.p_vaddr = 0xffff'ffff'8000'0000 + paddr;
  ph.p_paddr = paddr;
  ph.p_filesz = filesz;
  ph.p_memsz = memsz;
  ph.p_align = 0x20'0000;
  return ph;
}

// An x86_64 ET_EXEC with one PT_LOAD of kFakeElfFileSize file bytes and
// kFakeElfMemorySize memory bytes at kFakeElfLoadAddress, entered at its
// first byte.
inline FakeElf ValidElfKernel() {
  FakeElf elf;
  Elf64_Ehdr& e = elf.ehdr;
  std::memcpy(e.e_ident, ELFMAG, SELFMAG);
  e.e_ident[EI_CLASS] = ELFCLASS64;
  e.e_ident[EI_DATA] = ELFDATA2LSB;
  e.e_ident[EI_VERSION] = EV_CURRENT;
  e.e_type = ET_EXEC;
  e.e_machine = EM_X86_64;
  e.e_version = EV_CURRENT;
  e.e_entry = kFakeElfEntry;
  e.e_phoff = sizeof(Elf64_Ehdr);
  e.e_ehsize = sizeof(Elf64_Ehdr);
  e.e_phentsize = sizeof(Elf64_Phdr);
  e.e_phnum = 1;
  elf.phdrs.push_back(FakeLoadSegment(kFakeElfLoadAddress, kFakeElfSegmentOffset, kFakeElfFileSize,
                                      kFakeElfMemorySize));
  elf.file_size = kFakeElfSegmentOffset + kFakeElfFileSize;
  return elf;
}

}  // namespace mini_vmm::testing
