// ImageCache: a content-addressed cache of files derived from other files,
// for the decompressed vmlinux of a bzImage (the key is the SHA-256 of the
// bzImage's bytes), so that the second boot of a kernel skips
// decompression.
//
// The cache is an optimisation only: every failure (unusable directory,
// full disk, a corrupt or foreign entry) is logged at debug level and
// costs at most a re-decompression; nothing here fails a boot.
//
//   std::optional<ImageCache> cache = ImageCache::Open(*DefaultCacheDirectory());
//   if (auto hit = cache->Lookup(key)) Use(hit->bytes());
//   else cache->Store(key, Decompress(...));
//
// An entry, <hex key>.vmlinux, is a 48-byte header (magic, content length,
// SHA-256 of the content) and the content. It is written to a temporary
// file and renamed into place, so readers see whole entries or none, and
// is verified on every read (length and digest): a torn or corrupted entry
// is removed and reported as a miss. Beyond `max_entries` entries or
// `max_bytes` bytes, the least recently used entries (by mtime, which a hit
// refreshes) are removed, and so are temporary files more than ten minutes
// old (left by a mini-vmm killed while storing).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "vmm/base/mapped_file.h"
#include "vmm/base/sha256.h"

namespace mini_vmm::image_cache {

struct CacheLimits {
  size_t max_entries = 4;
  uint64_t max_bytes = 1ull << 30;
};

// $XDG_CACHE_HOME/mini-vmm, else $HOME/.cache/mini-vmm (XDG Base Directory
// specification); nullopt if neither variable is set to an absolute path.
std::optional<std::string> DefaultCacheDirectory();

// A verified entry, mapped read-only.
class CachedImage {
 public:
  CachedImage(MappedFile file, size_t offset) : file_(std::move(file)), offset_(offset) {}
  std::span<const uint8_t> bytes() const { return file_.bytes().subspan(offset_); }

 private:
  MappedFile file_;
  size_t offset_;
};

class ImageCache {
 public:
  // Creates the directory (mode 0700, and its parents) if needed. Nullopt,
  // with a debug log, if it cannot be created or is not a writable
  // directory.
  static std::optional<ImageCache> Open(const std::string& directory, CacheLimits limits = {});

  // The entry for `key`, verified; nullopt if there is none or it fails
  // verification (it is then removed).
  std::optional<CachedImage> Lookup(const Sha256::Digest& key) const;

  // Stores `content` under `key` (replacing any entry), then evicts beyond
  // the limits. False, with a debug log, if it could not be stored.
  bool Store(const Sha256::Digest& key, std::span<const uint8_t> content) const;

  std::string EntryPath(const Sha256::Digest& key) const;
  const std::string& directory() const { return directory_; }

 private:
  ImageCache(std::string directory, CacheLimits limits)
      : directory_(std::move(directory)), limits_(limits) {}
  void Evict() const;

  std::string directory_;
  CacheLimits limits_;
};

}  // namespace mini_vmm::image_cache
