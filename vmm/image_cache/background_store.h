// Cache entries written on a thread of their own, so that the boot which
// decompressed a kernel does not wait while its entry is hashed and written
// (Debian's 51 MiB vmlinux: ~0.1 s with the SHA extensions, seconds
// without): the kernel is loaded from the in-memory copy, which `owner`
// keeps alive until the entry is written.
//
//   auto vmlinux = std::make_shared<const DecompressedData>(Decompress(...));
//   Load(vmlinux->bytes());
//   StoreInBackground(cache, key, vmlinux, vmlinux->bytes());   // returns at once
//
// Stores still running when the process exits normally are joined then
// (after main returns), so they finish; a killed process leaves at most a
// temporary file, which a later store's eviction removes. A store that
// fails is logged once per process (info); the cache stays an optimisation.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "vmm/base/sha256.h"
#include "vmm/image_cache/image_cache.h"

namespace mini_vmm::image_cache {

void StoreInBackground(ImageCache cache, const Sha256::Digest& key,
                       std::shared_ptr<const void> owner, std::span<const uint8_t> content);

// Waits for every store started so far. True if none of them failed since
// the last call (for tests, and for callers that must see the entry).
bool WaitForBackgroundStores();

}  // namespace mini_vmm::image_cache
