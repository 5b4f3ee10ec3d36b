#include "firmware/linux/kernel_loader.h"

#include <algorithm>
#include <cstring>

#include "firmware/linux/boot_params.h"
#include "firmware/linux/bzimage.h"
#include "firmware/linux/elf_kernel.h"

namespace mini_vmm::firmware::linux_boot {
namespace {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kMiB = 1 << 20;

Error TooSmall(uint64_t needed) {
  return Error::Invalid("guest memory is too small for this kernel: it needs RAM up to {} MiB",
                        (needed + kMiB - 1) / kMiB);
}

Result<LoadedKernel> LoadBzImage(const GuestMemory& mem, std::span<const uint8_t> image) {
  const BzImage bz = TRY(ParseBzImage(image));
  const uint64_t load_end = kBzImageLoadAddress + bz.protected_mode.size();
  // A relocatable kernel decompresses itself to pref_address (its load
  // address if that is higher) and needs init_size bytes from there.
  // Copied out of the packed setup header first: a reference (std::max's,
  // fmt's) must never bind to a misaligned field.
  const uint64_t pref_address = bz.header.pref_address;
  const uint64_t run_start = std::max<uint64_t>(pref_address, kBzImageLoadAddress);
  uint64_t run_end = 0;
  if (__builtin_add_overflow(run_start, uint64_t{bz.header.init_size}, &run_end)) {
    return Error::Invalid("the kernel's pref_address {:#x} is not a usable address", pref_address);
  }
  const uint64_t end = std::max(load_end, run_end);
  if (!mem.Write(GuestAddress(kBzImageLoadAddress), bz.protected_mode) ||
      !mem.GetSlice(GuestAddress(run_start), bz.header.init_size)) {
    return TooSmall(end);
  }
  LoadedKernel kernel{KernelFormat::kBzImage, kBzImageLoadAddress + kStartup64Offset, bz.header,
                      end};
  kernel.header.code32_start = static_cast<uint32_t>(kBzImageLoadAddress);
  return kernel;
}

// Segments are validated not to wrap (ParseElfKernel), so `end` is exact.
Result<void> CheckSegmentsAvoid(const ElfKernel& elf, std::span<const BootRegion> regions) {
  for (const ElfSegment& seg : elf.segments) {
    const uint64_t seg_end = seg.physical_address + seg.memory_size;
    for (const BootRegion& region : regions) {
      const uint64_t region_end = region.address + region.size;
      if (seg.physical_address < region_end && region.address < seg_end) {
        return Error::Invalid(
            "the ELF segment at {:#x}-{:#x} overlaps the {} at {:#x}-{:#x}, which mini-vmm "
            "writes there",
            seg.physical_address, seg_end - 1, region.name, region.address, region_end - 1);
      }
    }
  }
  return {};
}

Result<LoadedKernel> LoadElf(const GuestMemory& mem, std::span<const uint8_t> image,
                             std::span<const BootRegion> boot_regions, KernelFormat format,
                             const setup_header& header) {
  const ElfKernel elf = TRY(ParseElfKernel(image));
  TRY(CheckSegmentsAvoid(elf, boot_regions));
  for (const ElfSegment& seg : elf.segments) {
    auto slice = mem.GetSlice(GuestAddress(seg.physical_address), seg.memory_size);
    if (!slice) return TooSmall(elf.end);
    std::memcpy(slice->data(), image.data() + seg.file_offset, seg.file_size);
    std::memset(slice->data() + seg.file_size, 0, seg.memory_size - seg.file_size);
  }
  return LoadedKernel{format, elf.entry, header, elf.end};
}

}  // namespace

Result<LoadedKernel> LoadKernel(const GuestMemory& mem, std::span<const uint8_t> image,
                                std::span<const BootRegion> boot_regions) {
  if (LooksLikeElf(image)) {
    return LoadElf(mem, image, boot_regions, KernelFormat::kElf, SyntheticHeader());
  }
  return LoadBzImage(mem, image);
}

Result<LoadedKernel> LoadDecompressedKernel(const GuestMemory& mem, const setup_header& header,
                                            std::span<const uint8_t> vmlinux,
                                            std::span<const BootRegion> boot_regions) {
  // KASLR_FLAG tells the kernel its in-guest decompressor randomised its
  // address (and so allows randomising its memory regions too). Nothing
  // randomised this one; a header that claims otherwise is not believed.
  setup_header entered = header;
  entered.loadflags = static_cast<uint8_t>(entered.loadflags & ~KASLR_FLAG);
  return LoadElf(mem, vmlinux, boot_regions, KernelFormat::kDecompressedBzImage, entered);
}

Result<KernelFormat> CheckKernelImage(std::span<const uint8_t> image,
                                      std::span<const BootRegion> boot_regions) {
  if (LooksLikeElf(image)) {
    const ElfKernel elf = TRY(ParseElfKernel(image));
    TRY(CheckSegmentsAvoid(elf, boot_regions));
    return KernelFormat::kElf;
  }
  TRY(ParseBzImage(image));
  return KernelFormat::kBzImage;
}

Result<uint32_t> KernelCmdlineLimit(std::span<const uint8_t> image) {
  if (LooksLikeElf(image)) return CmdlineLimit(SyntheticHeader());
  const BzImage bz = TRY(ParseBzImage(image));
  return CmdlineLimit(bz.header);
}

Result<uint64_t> ChooseInitrdAddress(uint64_t initrd_size, const LoadedKernel& kernel,
                                     uint64_t ram_end) {
  const uint64_t limit = std::min<uint64_t>(ram_end, uint64_t{kernel.header.initrd_addr_max} + 1);
  const uint64_t floor = (kernel.end + kPageSize - 1) & ~(kPageSize - 1);
  if (initrd_size > limit || limit - initrd_size < floor) {
    return Error::Invalid(
        "guest memory is too small: the kernel needs {} MiB and the initrd {} MiB below {} MiB",
        (floor + kMiB - 1) / kMiB, (initrd_size + kMiB - 1) / kMiB, limit / kMiB);
  }
  return (limit - initrd_size) & ~(kPageSize - 1);
}

}  // namespace mini_vmm::firmware::linux_boot
