#include "vmm/image_cache/image_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <system_error>
#include <vector>

#include "vmm/base/log.h"
#include "vmm/base/unique_fd.h"

namespace mini_vmm::image_cache {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'m', 'v', 'm', 'i', 'm', 'g', '1', '\n'};
constexpr const char* kSuffix = ".vmlinux";
constexpr const char* kTempPrefix = ".tmp-";
// The directory is ours, but bound the walk over it regardless.
constexpr size_t kMaxDirectoryEntries = 1024;
// A temporary file this old was left by a mini-vmm killed while storing
// (a store takes well under a second); another one's store is younger.
constexpr int64_t kStaleTempSeconds = 600;

struct EntryHeader {
  char magic[8];
  uint64_t length;                      // Of the content that follows.
  uint8_t digest[Sha256::kDigestSize];  // SHA-256 of the content.
};
static_assert(sizeof(EntryHeader) == 48);

bool WriteAll(int fd, std::span<const uint8_t> data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data = data.subspan(static_cast<size_t>(n));
  }
  return true;
}

std::optional<std::string> AbsoluteEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || value[0] != '/') return std::nullopt;
  return std::string(value);
}

// Why an entry fails verification, or nullptr if it passes.
const char* VerifyEntry(std::span<const uint8_t> file) {
  EntryHeader header;
  if (file.size() < sizeof(header)) return "shorter than its header";
  std::memcpy(&header, file.data(), sizeof(header));
  if (std::memcmp(header.magic, kMagic, sizeof(kMagic)) != 0) return "not a mini-vmm cache entry";
  if (header.length != file.size() - sizeof(header)) return "its length does not match";
  const Sha256::Digest digest = Sha256::Of(file.subspan(sizeof(header)));
  if (std::memcmp(digest.data(), header.digest, sizeof(header.digest)) != 0) {
    return "its content does not match its digest";
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> DefaultCacheDirectory() {
  if (auto xdg = AbsoluteEnv("XDG_CACHE_HOME")) return *xdg + "/mini-vmm";
  if (auto home = AbsoluteEnv("HOME")) return *home + "/.cache/mini-vmm";
  return std::nullopt;
}

std::optional<ImageCache> ImageCache::Open(const std::string& directory, CacheLimits limits) {
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) {
    LOG_DEBUG("image cache: not caching, cannot create \"{}\": {}", directory, ec.message());
    return std::nullopt;
  }
  fs::permissions(directory, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (::access(directory.c_str(), W_OK | X_OK) != 0) {
    LOG_DEBUG("image cache: not caching, \"{}\" is not writable: {}", directory,
              std::strerror(errno));
    return std::nullopt;
  }
  return ImageCache(directory, limits);
}

std::string ImageCache::EntryPath(const Sha256::Digest& key) const {
  return directory_ + "/" + Sha256::Hex(key) + kSuffix;
}

std::optional<CachedImage> ImageCache::Lookup(const Sha256::Digest& key) const {
  const std::string path = EntryPath(key);
  if (::access(path.c_str(), F_OK) != 0) return std::nullopt;
  auto file = MappedFile::Open(path, "image cache entry");
  if (!file.ok()) {
    LOG_DEBUG("image cache: {}", file.error().ToString());
    return std::nullopt;
  }
  if (const char* why = VerifyEntry(file->bytes())) {
    LOG_INFO("image cache: discarding \"{}\": {}", path, why);
    ::unlink(path.c_str());
    return std::nullopt;
  }
  // The mtime is the entry's last use, for eviction.
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
  return CachedImage(std::move(file).value(), sizeof(EntryHeader));
}

bool ImageCache::Store(const Sha256::Digest& key, std::span<const uint8_t> content) const {
  if (content.size() + sizeof(EntryHeader) > limits_.max_bytes) {
    LOG_DEBUG("image cache: not caching {} bytes, over the cache's {}", content.size(),
              limits_.max_bytes);
    return false;
  }
  EntryHeader header{};
  std::memcpy(header.magic, kMagic, sizeof(kMagic));
  header.length = content.size();
  const Sha256::Digest digest = Sha256::Of(content);
  std::memcpy(header.digest, digest.data(), sizeof(header.digest));

  std::string temp = directory_ + "/" + kTempPrefix + "XXXXXX";
  UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd.valid()) {
    LOG_DEBUG("image cache: cannot create a file in \"{}\": {}", directory_, std::strerror(errno));
    return false;
  }
  const bool written =
      WriteAll(fd.get(), {reinterpret_cast<const uint8_t*>(&header), sizeof(header)}) &&
      WriteAll(fd.get(), content) && ::fchmod(fd.get(), 0644) == 0;
  const int write_errno = errno;
  fd.Reset();
  const std::string path = EntryPath(key);
  if (!written || ::rename(temp.c_str(), path.c_str()) != 0) {
    LOG_DEBUG("image cache: cannot write \"{}\": {}", path,
              std::strerror(written ? errno : write_errno));
    ::unlink(temp.c_str());
    return false;
  }
  Evict();
  return true;
}

void ImageCache::Evict() const {
  struct Entry {
    fs::path path;
    int64_t mtime_ns;
    uint64_t size;
  };
  std::vector<Entry> entries;
  std::error_code ec;
  fs::directory_iterator it(directory_, ec);
  for (size_t seen = 0; !ec && it != fs::directory_iterator() && seen < kMaxDirectoryEntries;
       it.increment(ec), ++seen) {
    const fs::path& p = it->path();
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (p.filename().string().starts_with(kTempPrefix)) {
      if (st.st_mtim.tv_sec + kStaleTempSeconds < ::time(nullptr)) {
        LOG_DEBUG("image cache: removing the stale temporary file \"{}\"", p.string());
        ::unlink(p.c_str());
      }
      continue;
    }
    if (p.extension() != kSuffix) continue;
    entries.push_back({p, int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec,
                       static_cast<uint64_t>(st.st_size)});
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.mtime_ns > b.mtime_ns; });
  uint64_t kept_bytes = 0;
  size_t kept = 0;
  for (const Entry& e : entries) {
    if (kept < limits_.max_entries && kept_bytes + e.size <= limits_.max_bytes) {
      ++kept;
      kept_bytes += e.size;
      continue;
    }
    LOG_DEBUG("image cache: evicting \"{}\"", e.path.string());
    ::unlink(e.path.c_str());
  }
}

}  // namespace mini_vmm::image_cache
