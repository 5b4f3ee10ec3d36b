// StoreInBackground on a real directory under /tmp: the entry appears once
// the stores are waited for, the content is released after, and a store
// that cannot be written is reported.
#include "vmm/image_cache/background_store.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mini_vmm::image_cache {
namespace {

namespace fs = std::filesystem;

std::string MakeTempDir() {
  char path[] = "/tmp/mini-vmm-bgstore-test-XXXXXX";
  REQUIRE(mkdtemp(path) != nullptr);
  return path;
}

Sha256::Digest Key(uint8_t n) {
  Sha256::Digest key{};
  key[0] = n;
  return key;
}

TEST_CASE("A background store leaves an entry that Lookup finds, and releases the content") {
  const std::string dir = MakeTempDir();
  auto cache = ImageCache::Open(dir);
  REQUIRE(cache.has_value());
  auto content = std::make_shared<const std::vector<uint8_t>>(100000, uint8_t{0x5a});
  const std::weak_ptr<const std::vector<uint8_t>> watch = content;

  StoreInBackground(*cache, Key(1), content, *content);
  const std::vector<uint8_t> expected = *content;
  content.reset();
  const bool stored = WaitForBackgroundStores();

  CHECK(stored);
  CHECK(watch.expired());
  const auto hit = cache->Lookup(Key(1));
  REQUIRE(hit.has_value());
  CHECK(std::vector<uint8_t>(hit->bytes().begin(), hit->bytes().end()) == expected);
  fs::remove_all(dir);
}

TEST_CASE("A background store into a directory that went away is reported as failed") {
  const std::string dir = MakeTempDir();
  auto cache = ImageCache::Open(dir);
  REQUIRE(cache.has_value());
  fs::remove_all(dir);
  auto content = std::make_shared<const std::vector<uint8_t>>(64, uint8_t{1});

  StoreInBackground(*cache, Key(2), content, *content);

  CHECK_FALSE(WaitForBackgroundStores());
  CHECK(WaitForBackgroundStores());  // Reported once; nothing is left running.
}

TEST_CASE("Several background stores all finish") {
  const std::string dir = MakeTempDir();
  auto cache = ImageCache::Open(dir);
  REQUIRE(cache.has_value());
  auto a = std::make_shared<const std::vector<uint8_t>>(1000, uint8_t{1});
  auto b = std::make_shared<const std::vector<uint8_t>>(2000, uint8_t{2});

  StoreInBackground(*cache, Key(3), a, *a);
  StoreInBackground(*cache, Key(4), b, *b);

  CHECK(WaitForBackgroundStores());
  CHECK(cache->Lookup(Key(3)).has_value());
  CHECK(cache->Lookup(Key(4)).has_value());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mini_vmm::image_cache
