#include "vmm/machine/kernel_image.h"

#include <chrono>

#include "firmware/linux/bzimage.h"
#include "firmware/linux/bzimage_payload.h"
#include "firmware/linux/elf_kernel.h"
#include "vmm/base/log.h"
#include "vmm/base/mapped_file.h"
#include "vmm/base/sha256.h"
#include "vmm/config/boot_regions.h"
#include "vmm/image_cache/image_cache.h"

namespace mini_vmm {
namespace {

namespace lb = firmware::linux_boot;
using Clock = std::chrono::steady_clock;

double MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double MiB(size_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

Result<LoadedKernelImage> LoadDecompressed(const GuestMemory& mem, std::span<const uint8_t> image,
                                           const KernelLoadOptions& options) {
  const Clock::time_point start = Clock::now();
  const lb::BzImage bz = TRY(lb::ParseBzImage(image));
  // The key is the whole file, so any change to the bzImage misses.
  const Sha256::Digest key = Sha256::Of(image);
  std::optional<image_cache::ImageCache> cache;
  if (options.cache_directory) cache = image_cache::ImageCache::Open(*options.cache_directory);

  if (cache) {
    if (std::optional<image_cache::CachedImage> hit = cache->Lookup(key)) {
      auto kernel =
          lb::LoadDecompressedKernel(mem, bz.header, hit->bytes(), BootStructureRegions());
      if (kernel.ok()) {
        LOG_INFO(
            "kernel: read the decompressed vmlinux ({:.1f} MiB) from the cache {} in {:.0f} ms",
            MiB(hit->bytes().size()), cache->EntryPath(key), MillisecondsSince(start));
        return LoadedKernelImage{*kernel, KernelSource::kCache};
      }
      // A verified entry that does not load is not this bzImage's vmlinux
      // (a digest collision will not happen; a foreign writer might).
      LOG_DEBUG("kernel: ignoring the cached vmlinux: {}", kernel.error().ToString());
    }
  }
  const firmware::decompress::DecompressedData vmlinux = TRY(lb::DecompressBzImagePayload(bz));
  const double decompress_ms = MillisecondsSince(start);
  const lb::LoadedKernel kernel =
      TRY(lb::LoadDecompressedKernel(mem, bz.header, vmlinux.bytes(), BootStructureRegions()));
  const char* format = lb::PayloadCompressionName(bz);
  if (cache && cache->Store(key, vmlinux.bytes())) {
    LOG_INFO(
        "kernel: decompressed the bzImage's {} payload on the host ({:.1f} MiB) in {:.0f} ms; "
        "cached as {}",
        format, MiB(vmlinux.size()), decompress_ms, cache->EntryPath(key));
  } else {
    LOG_INFO(
        "kernel: decompressed the bzImage's {} payload on the host ({:.1f} MiB) in {:.0f} ms; "
        "not cached",
        format, MiB(vmlinux.size()), decompress_ms);
  }
  return LoadedKernelImage{kernel, KernelSource::kDecompressed};
}

}  // namespace

Result<LoadedKernelImage> LoadKernelImage(const GuestMemory& mem, const std::string& path,
                                          const KernelLoadOptions& options) {
  // Scoped: the kernel file is unmapped as soon as it is copied.
  const MappedFile file = TRY(MappedFile::Open(path, "kernel image"));
  if (lb::LooksLikeElf(file.bytes()) || options.decompress == KernelDecompress::kGuest) {
    const lb::LoadedKernel kernel = TRY(lb::LoadKernel(mem, file.bytes(), BootStructureRegions()));
    if (kernel.format == lb::KernelFormat::kBzImage) {
      LOG_INFO("kernel: the bzImage decompresses itself in the guest (--kernel-decompress=guest)");
    }
    return LoadedKernelImage{kernel, KernelSource::kAsIs};
  }
  return LoadDecompressed(mem, file.bytes(), options);
}

}  // namespace mini_vmm
