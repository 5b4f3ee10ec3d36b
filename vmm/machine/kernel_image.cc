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

// The cache, and this bzImage's key in it; nullopt where there is no
// usable cache directory or caching does not pay (the hashing is then
// skipped too).
struct CacheSlot {
  image_cache::ImageCache cache;
  Sha256::Digest key;  // The whole file's: any change to the bzImage misses.
};

// Whether caching a payload of this format can pay. A hit costs hashing
// the bzImage (the key) and the whole vmlinux (verification); a miss adds
// writing it. LZ4, zstd and lzo decode faster than that: Debian's LZ4
// kernel decompresses in 175-310 ms on the development host against a
// 55-100 ms hit plus a 0.2-0.3 s store, and under the nested harness (no
// SHA extensions) in 0.6 s against 1.2-4.6 s to verify a hit. xz, lzma,
// bzip2 and gzip decode at tens to hundreds of MB/s: xz takes 1.3 s
// against the same 55-100 ms hit.
bool CachingPays(const lb::BzImage& bz) {
  using firmware::decompress::Compression;
  const std::optional<Compression> c = lb::PayloadCompression(bz);
  return c && *c != Compression::kLz4Legacy && *c != Compression::kZstd && *c != Compression::kLzo;
}

std::optional<CacheSlot> OpenCache(std::span<const uint8_t> image, const lb::BzImage& bz,
                                   const KernelLoadOptions& options) {
  if (!options.cache_directory || !CachingPays(bz)) return std::nullopt;
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
  const firmware::decompress::DecompressedData vmlinux = TRY(lb::DecompressBzImagePayload(bz));
  const double decompress_ms = MillisecondsSince(start);
  const lb::LoadedKernel kernel =
      TRY(lb::LoadDecompressedKernel(mem, bz.header, vmlinux.bytes(), BootStructureRegions()));
  const Clock::time_point store_start = Clock::now();
  const bool cached = slot && slot->cache.Store(slot->key, vmlinux.bytes());
  const std::string cache_note =
      cached
          ? Format("cached as {} (in {:.0f} ms)", slot->cache.EntryPath(slot->key),
                   MillisecondsSince(store_start))
          : std::string(CachingPays(bz) ? "not cached" : "not cached (decompressing it is faster)");
  LOG_INFO(
      "kernel: decompressed the bzImage's {} payload on the host ({:.1f} MiB) in {:.0f} ms; {}",
      lb::PayloadCompressionName(bz), MiB(vmlinux.size()), decompress_ms, cache_note);
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
