// LoadKernelImage: which path a kernel takes (as is, decompressed on the
// host, from the cache) and what a bad cache or payload does to it. Kernel
// files are fake bzImages holding a real compressed fake vmlinux.
#include "vmm/machine/kernel_image.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/compress_tool.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/fake_kernel_images.h"
#include "tests/support/packed.h"
#include "vmm/base/sha256.h"
#include "vmm/image_cache/background_store.h"

namespace mini_vmm {
namespace {

namespace fs = std::filesystem;
namespace lb = firmware::linux_boot;

constexpr uint64_t kMiB = 1 << 20;

class TempDir {
 public:
  TempDir() {
    char path[] = "/tmp/mini-vmm-kernel-test-XXXXXX";
    REQUIRE(mkdtemp(path) != nullptr);
    path_ = path;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// A bzImage file whose payload is the fake vmlinux compressed by `command`
// (xz: a format worth caching).
std::string WriteBzImage(const TempDir& dir, const std::string& command = "xz -c") {
  const std::vector<uint8_t> vmlinux = testing::ValidElfKernel().Build();
  const std::vector<uint8_t> payload =
      testing::LinuxPayload(command, vmlinux, static_cast<uint32_t>(vmlinux.size()));
  const std::string path = dir.Join("bzImage");
  WriteFile(path, testing::BzImageWithPayload(payload).Build());
  return path;
}

KernelLoadOptions Host(const std::optional<std::string>& cache, bool fast_hashing = true) {
  return KernelLoadOptions{KernelDecompress::kHost, cache, fast_hashing};
}

// LoadKernelImage, then a wait for the cache entry it may be writing in the
// background: each step of a test sees the previous one's entry, and the
// test's directory outlives the writer.
Result<LoadedKernelImage> Load(const GuestMemory& mem, const std::string& path,
                               const KernelLoadOptions& options) {
  auto loaded = LoadKernelImage(mem, path, options);
  image_cache::WaitForBackgroundStores();
  return loaded;
}

TEST_CASE("A bzImage is decompressed on the host and entered at the vmlinux's entry") {
  TempDir dir;
  const GuestMemory mem = testing::MakeGuestMemory(0, 64 * kMiB);
  auto k = Load(mem, WriteBzImage(dir), Host(dir.Join("cache")));
  REQUIRE(k.ok());
  CHECK(k->source == KernelSource::kDecompressed);
  CHECK(k->kernel.format == lb::KernelFormat::kDecompressedBzImage);
  CHECK(k->kernel.entry == testing::kFakeElfEntry);
  CHECK(mini_vmm::testing::Value(k->kernel.header.init_size) == testing::kFakeInitSize);
}

TEST_CASE("The second load of the same bzImage reads the cache") {
  TempDir dir;
  const GuestMemory mem = testing::MakeGuestMemory(0, 64 * kMiB);
  const std::string kernel = WriteBzImage(dir);
  REQUIRE(Load(mem, kernel, Host(dir.Join("cache"))).ok());
  auto second = Load(mem, kernel, Host(dir.Join("cache")));
  REQUIRE(second.ok());
  CHECK(second->source == KernelSource::kCache);
  CHECK(second->kernel.entry == testing::kFakeElfEntry);
}

TEST_CASE("Without fast hashing, the fast formats are not cached (nothing is hashed)") {
  const char* command = GENERATE("lz4 -l -c", "zstd -q -c", "lzop -c", "gzip -c");
  CAPTURE(command);
  TempDir dir;
  const GuestMemory mem = testing::MakeGuestMemory(0, 64 * kMiB);
  const std::string kernel = WriteBzImage(dir, command);
  REQUIRE(Load(mem, kernel, Host(dir.Join("cache"), false)).ok());
  auto second = Load(mem, kernel, Host(dir.Join("cache"), false));
  REQUIRE(second.ok());
  CHECK(second->source == KernelSource::kDecompressed);
  CHECK_FALSE(fs::exists(dir.Join("cache")));
}

TEST_CASE("Without fast hashing, the slow formats are still cached") {
  const char* command = GENERATE("bzip2 -c", "xz --format=lzma -c", "xz -c");
  CAPTURE(command);
  TempDir dir;
  const GuestMemory mem = testing::MakeGuestMemory(0, 64 * kMiB);
  const std::string kernel = WriteBzImage(dir, command);
  REQUIRE(Load(mem, kernel, Host(dir.Join("cache"), false)).ok());
  auto second = Load(mem, kernel, Host(dir.Join("cache"), false));
  REQUIRE(second.ok());
  CHECK(second->source == KernelSource::kCache);
}

TEST_CASE("With fast hashing, every format is cached") {
  const char* command = GENERATE("lz4 -l -c", "zstd -q -c", "lzop -c", "gzip -c");
  CAPTURE(command);
  TempDir dir;
  const GuestMemory mem = testing::MakeGuestMemory(0, 64 * kMiB);
  const std::string kernel = WriteBzImage(dir, command);
  REQUIRE(Load(mem, kernel, Host(dir.Join("cache"), true)).ok());
  auto second = Load(mem, kernel, Host(dir.Join("cache"), true));
  REQUIRE(second.ok());
  CHECK(second->source == KernelSource::kCache);
}

TEST_CASE("The option --kernel-decompress=guest enters the bzImage's own decompressor") {
  TempDir dir;
  const GuestMemory mem = testing::MakeGuestMemory(0, 64 * kMiB);
  auto k =
      Load(mem, WriteBzImage(dir), KernelLoadOptions{KernelDecompress::kGuest, dir.Join("cache")});
  REQUIRE(k.ok());
  CHECK(k->source == KernelSource::kAsIs);
  CHECK(k->kernel.format == lb::KernelFormat::kBzImage);
  CHECK(k->kernel.entry == lb::kBzImageLoadAddress + 0x200);
  CHECK_FALSE(fs::exists(dir.Join("cache")));
}

TEST_CASE("The first load's cache entry is written in the background and found after") {
  TempDir dir;
  const GuestMemory mem = testing::MakeGuestMemory(0, 64 * kMiB);
  const std::string kernel = WriteBzImage(dir);

  auto first = LoadKernelImage(mem, kernel, Host(dir.Join("cache")));
  const bool stored = image_cache::WaitForBackgroundStores();

  REQUIRE(first.ok());
  CHECK(first->source == KernelSource::kDecompressed);
  CHECK(stored);
  CHECK(fs::directory_iterator(dir.Join("cache")) != fs::directory_iterator());
}

TEST_CASE("CorruptCacheEntry: a damaged entry is discarded and the kernel decompressed again") {
  TempDir dir;
  const GuestMemory mem = testing::MakeGuestMemory(0, 64 * kMiB);
  const std::string kernel = WriteBzImage(dir);
  REQUIRE(Load(mem, kernel, Host(dir.Join("cache"))).ok());
  const fs::path entry = fs::directory_iterator(dir.Join("cache"))->path();
  fs::resize_file(entry, fs::file_size(entry) - 1);
  auto k = Load(mem, kernel, Host(dir.Join("cache")));
  REQUIRE(k.ok());
  CHECK(k->source == KernelSource::kDecompressed);
  auto third = Load(mem, kernel, Host(dir.Join("cache")));
  REQUIRE(third.ok());
  CHECK(third->source == KernelSource::kCache);
}

TEST_CASE("UnwritableCacheDir: the kernel still boots, decompressed every time") {
  TempDir dir;
  const GuestMemory mem = testing::MakeGuestMemory(0, 64 * kMiB);
  const std::string kernel = WriteBzImage(dir);
  const std::string cache = kernel + "/cache";  // Below a regular file.
  REQUIRE(Load(mem, kernel, Host(cache)).ok());
  auto second = Load(mem, kernel, Host(cache));
  REQUIRE(second.ok());
  CHECK(second->source == KernelSource::kDecompressed);
}

TEST_CASE("No cache directory: decompressed every time") {
  TempDir dir;
  const GuestMemory mem = testing::MakeGuestMemory(0, 64 * kMiB);
  const std::string kernel = WriteBzImage(dir);
  REQUIRE(Load(mem, kernel, Host(std::nullopt)).ok());
  auto second = Load(mem, kernel, Host(std::nullopt));
  REQUIRE(second.ok());
  CHECK(second->source == KernelSource::kDecompressed);
}

TEST_CASE("HostDecompressFails: an unknown payload is an error, not a silent fallback") {
  TempDir dir;
  const GuestMemory mem = testing::MakeGuestMemory(0, 64 * kMiB);
  const std::string kernel = dir.Join("bzImage");
  WriteFile(kernel, testing::BzImageWithPayload(std::vector<uint8_t>(64, 0xab)).Build());
  auto k = Load(mem, kernel, Host(dir.Join("cache")));
  REQUIRE_FALSE(k.ok());
  CHECK_THAT(k.error().ToString(), Catch::Contains("--kernel-decompress=guest"));
}

TEST_CASE("An ELF vmlinux is loaded as it is, whatever the option") {
  TempDir dir;
  const GuestMemory mem = testing::MakeGuestMemory(0, 64 * kMiB);
  const std::string kernel = dir.Join("vmlinux");
  WriteFile(kernel, testing::ValidElfKernel().Build());
  auto k = Load(mem, kernel, Host(dir.Join("cache")));
  REQUIRE(k.ok());
  CHECK(k->source == KernelSource::kAsIs);
  CHECK(k->kernel.format == lb::KernelFormat::kElf);
}

}  // namespace
}  // namespace mini_vmm
