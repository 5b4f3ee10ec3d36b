#include "vmm/machine/kernel_image.h"

#include <chrono>
#include <memory>

#include "firmware/linux/bzimage.h"
#include "firmware/linux/bzimage_payload.h"
#include "firmware/linux/elf_kernel.h"
#include "vmm/base/log.h"
#include "vmm/base/mapped_file.h"
#include "vmm/base/sha256.h"
#include "vmm/config/boot_regions.h"
#include "vmm/image_cache/background_store.h"
#include "vmm/image_cache/image_cache.h"

namespace mini_vmm {
namespace {

namespace lb = firmware::linux_boot;
using Clock = std::chrono::steady_clock;

double MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double MiB(size_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

// The cache, and this bzImage's key in it; nullopt where there is no
// usable cache directory or caching does not pay (the hashing is then
// skipped too).
struct CacheSlot {
  image_cache::ImageCache cache;
  Sha256::Digest key;  // The whole file's: any change to the bzImage misses.
};

// Whether caching this payload can pay. A hit hashes the bzImage (the
// key) and the whole vmlinux (the check), and reads it; a miss adds
// writing it. With the SHA extensions a hit of Debian's 51 MiB vmlinux takes
// 55-100 ms on the development host, less than any format decodes it in
// (LZ4 175-310 ms, zstd 330 ms, gzip 420 ms, lzo 490 ms, xz 1.3 s, bzip2
// 2.5 s). The portable SHA-256 (~250 MB/s; seconds under the nested
// harness's TCG, where LZ4 decodes in 0.6 s and a hit takes 1.6-5 s) makes
// a hit ~0.3 s: only xz, lzma and bzip2 decode several times slower.
bool CachingPays(const lb::BzImage& bz, const KernelLoadOptions& options) {
  using firmware::decompress::Compression;
  const std::optional<Compression> c = lb::PayloadCompression(bz);
  if (!c) return false;
  if (options.fast_hashing) return true;
  return *c == Compression::kXz || *c == Compression::kLzma || *c == Compression::kBzip2;
}

std::optional<CacheSlot> OpenCache(std::span<const uint8_t> image, const lb::BzImage& bz,
                                   const KernelLoadOptions& options) {
  if (!options.cache_directory || !CachingPays(bz, options)) return std::nullopt;
  std::optional<image_cache::ImageCache> cache =
      image_cache::ImageCache::Open(*options.cache_directory);
  if (!cache) return std::nullopt;
  return CacheSlot{std::move(*cache), Sha256::Of(image)};
}

std::optional<lb::LoadedKernel> LoadFromCache(const GuestMemory& mem, const lb::BzImage& bz,
                                              const CacheSlot& slot, Clock::time_point start) {
  const std::optional<image_cache::CachedImage> hit = slot.cache.Lookup(slot.key);
  if (!hit) return std::nullopt;
  auto kernel = lb::LoadDecompressedKernel(mem, bz.header, hit->bytes(), BootStructureRegions());
  if (!kernel.ok()) {
    // A verified entry that does not load was not written from this
    // bzImage (SHA-256 keys do not collide; another writer might exist).
    LOG_DEBUG("kernel: ignoring the cached vmlinux: {}", kernel.error().ToString());
    return std::nullopt;
  }
  LOG_INFO("kernel: read the decompressed vmlinux ({:.1f} MiB) from the cache {} in {:.0f} ms",
           MiB(hit->bytes().size()), slot.cache.EntryPath(slot.key), MillisecondsSince(start));
  return *kernel;
}

Result<LoadedKernelImage> LoadDecompressed(const GuestMemory& mem, std::span<const uint8_t> image,
                                           const KernelLoadOptions& options) {
  const Clock::time_point start = Clock::now();
  const lb::BzImage bz = TRY(lb::ParseBzImage(image));
  const std::optional<CacheSlot> slot = OpenCache(image, bz, options);
  if (slot) {
    if (auto kernel = LoadFromCache(mem, bz, *slot, start)) {
      return LoadedKernelImage{*kernel, KernelSource::kCache};
    }
  }
  // Shared with the cache's writer thread, which frees it once written.
  const auto vmlinux = std::make_shared<const firmware::decompress::DecompressedData>(
      TRY(lb::DecompressBzImagePayload(bz)));
  const double decompress_ms = MillisecondsSince(start);
  const lb::LoadedKernel kernel =
      TRY(lb::LoadDecompressedKernel(mem, bz.header, vmlinux->bytes(), BootStructureRegions()));
  // Written in the background: hashing and writing ~50 MiB would delay
  // this (first) boot for the benefit of the next one only.
  if (slot) image_cache::StoreInBackground(slot->cache, slot->key, vmlinux, vmlinux->bytes());
  const std::string cache_note =
      slot ? Format("cached as {} (written in the background)", slot->cache.EntryPath(slot->key))
           : std::string(CachingPays(bz, options) ? "not cached"
                                                  : "not cached (decompressing it is faster than "
                                                    "hashing it without SHA extensions)");
  LOG_INFO(
      "kernel: decompressed the bzImage's {} payload on the host ({:.1f} MiB) in {:.0f} ms; {}",
      lb::PayloadCompressionName(bz), MiB(vmlinux->size()), decompress_ms, cache_note);
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
