// Loads the kernel the user named into guest memory: an ELF vmlinux as it
// is; a bzImage either entered through its own decompressor
// (--kernel-decompress=guest) or decompressed here and entered at the
// vmlinux's 64-bit entry (host, the default), through the image cache.
//
//   LoadedKernelImage k = TRY(LoadKernelImage(mem, config.kernel_path, options));
//   // k.kernel.entry, k.kernel.header; k.source says which path ran.
#pragma once

#include <optional>
#include <string>

#include "firmware/linux/kernel_loader.h"
#include "vmm/base/result.h"
#include "vmm/config/config.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm {

struct KernelLoadOptions {
  KernelDecompress decompress = KernelDecompress::kHost;
  // Where decompressed kernels are cached; nullopt: no cache.
  std::optional<std::string> cache_directory;
  // Whether SHA-256 is fast here (Sha256::HardwareAccelerated()). A cache
  // hit hashes the bzImage and the vmlinux, so with slow hashing only the
  // slowest formats (xz, lzma, bzip2) are worth caching.
  bool fast_hashing = true;
};

enum class KernelSource {
  kAsIs,          // An ELF vmlinux, or a bzImage that decompresses itself.
  kDecompressed,  // Decompressed on the host just now.
  kCache,         // Read from the image cache.
};

struct LoadedKernelImage {
  firmware::linux_boot::LoadedKernel kernel;
  KernelSource source;
};

Result<LoadedKernelImage> LoadKernelImage(const GuestMemory& mem, const std::string& path,
                                          const KernelLoadOptions& options);

}  // namespace mini_vmm
