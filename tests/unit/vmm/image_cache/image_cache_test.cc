// ImageCache on a real directory under /tmp: hits, misses, every way an
// entry can be bad (each discarded and reported as a miss), unusable
// directories, and eviction.
#include "vmm/image_cache/image_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace mini_vmm::image_cache {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char path[] = "/tmp/mini-vmm-cache-test-XXXXXX";
    REQUIRE(mkdtemp(path) != nullptr);
    path_ = path;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Sha256::Digest Key(uint8_t n) {
  Sha256::Digest key{};
  key[0] = n;
  return key;
}

std::vector<uint8_t> Content(size_t size, uint8_t seed) {
  std::vector<uint8_t> v(size);
  for (size_t i = 0; i < size; ++i) v[i] = static_cast<uint8_t>(i * 13 + seed);
  return v;
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void WriteFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Sets the entry's mtime `seconds` into the past, to order entries.
void Age(const std::string& path, int seconds) {
  struct timespec times[2];
  REQUIRE(clock_gettime(CLOCK_REALTIME, &times[0]) == 0);
  times[0].tv_sec -= seconds;
  times[1] = times[0];
  REQUIRE(utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

TEST_CASE("An empty cache misses") {
  TempDir dir;
  auto cache = ImageCache::Open(dir.path());
  REQUIRE(cache.has_value());
  CHECK_FALSE(cache->Lookup(Key(1)).has_value());
}

TEST_CASE("A stored image is found again, byte for byte") {
  TempDir dir;
  auto cache = ImageCache::Open(dir.path());
  REQUIRE(cache.has_value());
  const std::vector<uint8_t> content = Content(100'000, 1);
  REQUIRE(cache->Store(Key(1), content));
  auto hit = cache->Lookup(Key(1));
  REQUIRE(hit.has_value());
  CHECK(std::vector<uint8_t>(hit->bytes().begin(), hit->bytes().end()) == content);
  CHECK_FALSE(cache->Lookup(Key(2)).has_value());
}

TEST_CASE("Open creates missing parent directories") {
  TempDir dir;
  auto cache = ImageCache::Open(dir.path() + "/a/b/mini-vmm");
  REQUIRE(cache.has_value());
  CHECK(fs::is_directory(dir.path() + "/a/b/mini-vmm"));
}

TEST_CASE("Store leaves no temporary file behind") {
  TempDir dir;
  auto cache = ImageCache::Open(dir.path());
  REQUIRE(cache->Store(Key(1), Content(1000, 1)));
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) names.push_back(e.path().filename());
  CHECK(names == std::vector<std::string>{Sha256::Hex(Key(1)) + ".vmlinux"});
}

TEST_CASE("CorruptCacheEntry: a flipped content byte is discarded, then re-stored") {
  TempDir dir;
  auto cache = ImageCache::Open(dir.path());
  const std::vector<uint8_t> content = Content(10'000, 2);
  REQUIRE(cache->Store(Key(1), content));
  const std::string path = cache->EntryPath(Key(1));
  std::vector<uint8_t> file = ReadFile(path);
  file[file.size() - 100] ^= 1;
  WriteFile(path, file);
  CHECK_FALSE(cache->Lookup(Key(1)).has_value());
  CHECK_FALSE(fs::exists(path));
  REQUIRE(cache->Store(Key(1), content));
  CHECK(cache->Lookup(Key(1)).has_value());
}

TEST_CASE("TruncatedCacheEntry: an entry shorter than its length is discarded") {
  TempDir dir;
  auto cache = ImageCache::Open(dir.path());
  REQUIRE(cache->Store(Key(1), Content(10'000, 3)));
  const std::string path = cache->EntryPath(Key(1));
  std::vector<uint8_t> file = ReadFile(path);
  file.resize(file.size() - 1);
  WriteFile(path, file);
  CHECK_FALSE(cache->Lookup(Key(1)).has_value());
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("ForeignCacheEntry: a file without the entry magic is discarded") {
  TempDir dir;
  auto cache = ImageCache::Open(dir.path());
  WriteFile(cache->EntryPath(Key(1)), Content(4096, 4));
  CHECK_FALSE(cache->Lookup(Key(1)).has_value());
  CHECK_FALSE(fs::exists(cache->EntryPath(Key(1))));
}

TEST_CASE("HeaderOnlyCacheEntry: an entry cut inside its header is discarded") {
  TempDir dir;
  auto cache = ImageCache::Open(dir.path());
  WriteFile(cache->EntryPath(Key(1)), {'m', 'v', 'm'});
  CHECK_FALSE(cache->Lookup(Key(1)).has_value());
}

TEST_CASE("UnwritableCacheDir: a cache below a regular file is skipped") {
  TempDir dir;
  WriteFile(dir.path() + "/file", {1});
  CHECK_FALSE(ImageCache::Open(dir.path() + "/file/mini-vmm").has_value());
}

TEST_CASE("UnwritableCacheDir: a cache path that is a regular file is skipped") {
  TempDir dir;
  WriteFile(dir.path() + "/mini-vmm", {1});
  CHECK_FALSE(ImageCache::Open(dir.path() + "/mini-vmm").has_value());
}

TEST_CASE("Entries beyond max_entries are evicted, least recently used first") {
  TempDir dir;
  auto cache = ImageCache::Open(dir.path(), CacheLimits{.max_entries = 2});
  REQUIRE(cache->Store(Key(1), Content(100, 1)));
  Age(cache->EntryPath(Key(1)), 30);
  REQUIRE(cache->Store(Key(2), Content(100, 2)));
  Age(cache->EntryPath(Key(2)), 20);
  REQUIRE(cache->Lookup(Key(1)).has_value());  // Now the most recently used.
  REQUIRE(cache->Store(Key(3), Content(100, 3)));
  CHECK(fs::exists(cache->EntryPath(Key(1))));
  CHECK_FALSE(fs::exists(cache->EntryPath(Key(2))));
  CHECK(fs::exists(cache->EntryPath(Key(3))));
}

TEST_CASE("Entries beyond max_bytes are evicted, oldest first") {
  TempDir dir;
  auto cache = ImageCache::Open(dir.path(), CacheLimits{.max_entries = 10, .max_bytes = 2500});
  REQUIRE(cache->Store(Key(1), Content(1000, 1)));
  Age(cache->EntryPath(Key(1)), 30);
  REQUIRE(cache->Store(Key(2), Content(1000, 2)));
  Age(cache->EntryPath(Key(2)), 20);
  REQUIRE(cache->Store(Key(3), Content(1000, 3)));
  CHECK_FALSE(fs::exists(cache->EntryPath(Key(1))));
  CHECK(fs::exists(cache->EntryPath(Key(2))));
  CHECK(fs::exists(cache->EntryPath(Key(3))));
}

TEST_CASE("StaleTemporaryFile: one left by a killed store is removed, a fresh one kept") {
  TempDir dir;
  auto cache = ImageCache::Open(dir.path());
  const std::string stale = dir.path() + "/.tmp-stale1";
  const std::string fresh = dir.path() + "/.tmp-fresh1";
  WriteFile(stale, Content(100, 1));
  WriteFile(fresh, Content(100, 2));
  Age(stale, 3600);
  REQUIRE(cache->Store(Key(1), Content(100, 3)));
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(fresh));
}

TEST_CASE("An image larger than the whole cache is not stored") {
  TempDir dir;
  auto cache = ImageCache::Open(dir.path(), CacheLimits{.max_entries = 4, .max_bytes = 1000});
  CHECK_FALSE(cache->Store(Key(1), Content(2000, 1)));
  CHECK_FALSE(fs::exists(cache->EntryPath(Key(1))));
}

TEST_CASE("DefaultCacheDirectory follows XDG_CACHE_HOME, then HOME") {
  const char* saved_xdg = std::getenv("XDG_CACHE_HOME");
  const char* saved_home = std::getenv("HOME");
  const std::string xdg = saved_xdg ? saved_xdg : "";
  const std::string home = saved_home ? saved_home : "";
  setenv("XDG_CACHE_HOME", "/x/cache", 1);
  setenv("HOME", "/home/u", 1);
  CHECK(DefaultCacheDirectory() == "/x/cache/mini-vmm");
  setenv("XDG_CACHE_HOME", "relative", 1);  // The spec says to ignore it.
  CHECK(DefaultCacheDirectory() == "/home/u/.cache/mini-vmm");
  unsetenv("XDG_CACHE_HOME");
  unsetenv("HOME");
  CHECK_FALSE(DefaultCacheDirectory().has_value());
  if (saved_xdg) setenv("XDG_CACHE_HOME", xdg.c_str(), 1);
  if (saved_home) setenv("HOME", home.c_str(), 1);
}

}  // namespace
}  // namespace mini_vmm::image_cache
