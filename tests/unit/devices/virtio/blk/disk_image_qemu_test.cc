// Disk locking against the real QEMU (qemu-io, from qemu-utils, which
// scripts/install-deps installs): whichever of the two opens a writable
// image first, the other is refused. Runs on the host; no KVM needed.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "devices/virtio/blk/disk_image.h"
#include "tests/unit/devices/virtio/blk/blk_test_util.h"
#include "vmm/base/unique_fd.h"

extern char** environ;

namespace mini_vmm::virtio::blk {
namespace {

using testing::TempDisk;

constexpr const char* kQemuIo = "/usr/bin/qemu-io";

void RequireQemuIo() {
  INFO("qemu-io is missing: scripts/install-deps installs qemu-utils");
  REQUIRE(::access(kQemuIo, X_OK) == 0);
}

// Runs `command` through the shell; its exit status and its output (both
// streams).
std::pair<int, std::string> Shell(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  std::array<char, 256> buffer{};
  while (::fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  return {::pclose(pipe), output};
}

// qemu-io holding `path` open (read-write unless `read_only`) until
// destroyed.
class QemuIo {
 public:
  QemuIo(const std::string& path, bool read_only) {
    RequireQemuIo();
    // -r opens read-only; qemu-io's "sleep" keeps the image open.
    std::vector<const char*> argv = {kQemuIo, "-f", "raw", "-c", "sleep 60000"};
    if (read_only) argv.push_back("-r");
    argv.push_back(path.c_str());
    argv.push_back(nullptr);
    REQUIRE(::posix_spawn(&pid_, kQemuIo, nullptr, nullptr, const_cast<char**>(argv.data()),
                          environ) == 0);
    WaitForLock(path);
  }
  ~QemuIo() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  QemuIo(const QemuIo&) = delete;
  QemuIo& operator=(const QemuIo&) = delete;

 private:
  // QEMU holds "consistent read" (byte 100) once the image is open.
  static void WaitForLock(const std::string& path) {
    UniqueFd probe_fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(probe_fd.valid());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      struct flock probe {};
      probe.l_type = F_WRLCK;
      probe.l_whence = SEEK_SET;
      probe.l_start = 100;
      probe.l_len = 1;
      REQUIRE(::fcntl(probe_fd.get(), F_OFD_GETLK, &probe) == 0);
      if (probe.l_type != F_UNLCK) return;
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  pid_t pid_ = -1;
};

std::string InUse(const std::string& path) {
  return "disk image \"" + path + "\" is in use by another process";
}

TEST_CASE("QEMU cannot open an image mini-vmm writes") {
  RequireQemuIo();
  TempDisk disk(1 << 20);
  auto image = DiskImage::Open({.path = disk.path()});
  REQUIRE(image.ok());

  const auto [status, output] =
      Shell(std::string(kQemuIo) + " -r -f raw -c 'read 0 512' " + disk.path());

  CHECK(status != 0);
  CHECK_THAT(output, Catch::Contains("Failed to lock byte 100"));
}

TEST_CASE("QEMU cannot write an image mini-vmm reads") {
  RequireQemuIo();
  TempDisk disk(1 << 20);
  auto image = DiskImage::Open({.path = disk.path(), .read_only = true});
  REQUIRE(image.ok());

  const auto [status, output] =
      Shell(std::string(kQemuIo) + " -f raw -c 'write 0 512' " + disk.path());

  CHECK(status != 0);
  CHECK_THAT(output, Catch::Contains("Failed to get \"write\" lock"));
}

TEST_CASE("mini-vmm cannot write an image QEMU writes") {
  TempDisk disk(1 << 20);
  QemuIo qemu(disk.path(), /*read_only=*/false);

  auto image = DiskImage::Open({.path = disk.path()});

  REQUIRE_FALSE(image.ok());
  CHECK(image.error().ToString() == InUse(disk.path()));
}

TEST_CASE("mini-vmm cannot read an image QEMU writes") {
  TempDisk disk(1 << 20);
  QemuIo qemu(disk.path(), /*read_only=*/false);

  auto image = DiskImage::Open({.path = disk.path(), .read_only = true});

  REQUIRE_FALSE(image.ok());
  CHECK(image.error().ToString() == InUse(disk.path()));
}

TEST_CASE("mini-vmm cannot write an image QEMU reads") {
  TempDisk disk(1 << 20);
  QemuIo qemu(disk.path(), /*read_only=*/true);

  auto image = DiskImage::Open({.path = disk.path()});

  REQUIRE_FALSE(image.ok());
  CHECK(image.error().ToString() == InUse(disk.path()));
}

}  // namespace
}  // namespace mini_vmm::virtio::blk
