#include "devices/virtio/blk/disk_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/unit/devices/virtio/blk/blk_test_util.h"
#include "vmm/base/unique_fd.h"

namespace mini_vmm::virtio::blk {
namespace {

using testing::TempDisk;

std::string ErrorOf(const Result<DiskImage>& result) {
  REQUIRE_FALSE(result.ok());
  return result.error().ToString();
}

TEST_CASE("A writable image opens with its size in sectors") {
  TempDisk disk(8 * 512);

  auto image = DiskImage::Open({.path = disk.path(), .serial = "disk0"});

  REQUIRE(image.ok());
  CHECK(image->capacity_sectors() == 8);
  CHECK(image->size_bytes() == 8 * 512);
  CHECK_FALSE(image->read_only());
  CHECK(image->serial() == "disk0");
  CHECK_FALSE(image->is_block_device());
  CHECK(::fcntl(image->fd(), F_GETFL) & O_RDWR);
  CHECK(::fcntl(image->fd(), F_GETFD) & FD_CLOEXEC);
}

TEST_CASE("A read-only image is opened read-only") {
  TempDisk disk(512);

  auto image = DiskImage::Open({.path = disk.path(), .read_only = true});

  REQUIRE(image.ok());
  CHECK(image->read_only());
  CHECK((::fcntl(image->fd(), F_GETFL) & O_ACCMODE) == O_RDONLY);
}

TEST_CASE("A size that is not a multiple of 512 hides the partial last sector") {
  TempDisk disk(3 * 512 + 100);

  auto image = DiskImage::Open({.path = disk.path()});

  REQUIRE(image.ok());
  CHECK(image->capacity_sectors() == 3);
  CHECK(image->size_bytes() == 3 * 512 + 100);
}

TEST_CASE("A missing image is one sentence naming the path") {
  CHECK(ErrorOf(DiskImage::Open({.path = "/nonexistent/disk.img"})) ==
        "cannot open disk image \"/nonexistent/disk.img\": No such file or directory");
}

TEST_CASE("A directory is refused, writable or not") {
  CHECK(ErrorOf(DiskImage::Open({.path = "/tmp"})) == "disk image \"/tmp\" is a directory");
  CHECK(ErrorOf(DiskImage::Open({.path = "/tmp", .read_only = true})) ==
        "disk image \"/tmp\" is a directory");
}

TEST_CASE("A character device is refused") {
  CHECK(ErrorOf(DiskImage::Open({.path = "/dev/null"})) ==
        "disk image \"/dev/null\" is not a regular file or a block device");
}

TEST_CASE("An image without permission is one sentence naming the path") {
  TempDisk disk(512);
  REQUIRE(::chmod(disk.path().c_str(), 0600) == 0);
  // Root ignores file modes, so open as nobody (and back: the saved uid
  // stays 0).
  const bool was_root = ::geteuid() == 0;
  if (was_root) REQUIRE(::seteuid(65534) == 0);

  auto image = DiskImage::Open({.path = disk.path()});

  if (was_root) REQUIRE(::seteuid(0) == 0);
  CHECK(ErrorOf(image) == "cannot open disk image \"" + disk.path() + "\": Permission denied");
}

TEST_CASE("A writable image in use is refused") {
  TempDisk disk(512);
  auto first = DiskImage::Open({.path = disk.path()});
  REQUIRE(first.ok());

  auto second = DiskImage::Open({.path = disk.path()});

  CHECK(ErrorOf(second) == "disk image \"" + disk.path() + "\" is in use by another process");
}

TEST_CASE("A writable image cannot be opened read-only elsewhere") {
  TempDisk disk(512);
  auto writer = DiskImage::Open({.path = disk.path()});
  REQUIRE(writer.ok());

  auto reader = DiskImage::Open({.path = disk.path(), .read_only = true});

  CHECK(ErrorOf(reader) == "disk image \"" + disk.path() + "\" is in use by another process");
}

TEST_CASE("An image open read-only cannot be opened for writing elsewhere") {
  TempDisk disk(512);
  auto reader = DiskImage::Open({.path = disk.path(), .read_only = true});
  REQUIRE(reader.ok());

  auto writer = DiskImage::Open({.path = disk.path()});

  CHECK(ErrorOf(writer) == "disk image \"" + disk.path() + "\" is in use by another process");
}

// QEMU's side, as QEMU 7.2 takes it (see disk_image.cc): shared OFD locks on
// 100 + permission and 200 + unshared permission. A writable virtio-blk
// drive holds 100, 101 and 201; a read-only one 100 and 201.
class QemuLocks {
 public:
  QemuLocks(const std::string& path, bool writable)
      : fd_(::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC)) {
    REQUIRE(fd_.valid());
    std::vector<off_t> bytes = {100, 201};
    if (writable) bytes.push_back(101);
    for (off_t byte : bytes) REQUIRE(Take(fd_.get(), byte));
  }
  // Takes QEMU's shared lock on `byte`; false if it conflicts.
  static bool Take(int fd, off_t byte) {
    struct flock lock {};
    lock.l_type = F_RDLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = byte;
    lock.l_len = 1;
    return ::fcntl(fd, F_OFD_SETLK, &lock) == 0;
  }

 private:
  UniqueFd fd_;
};

TEST_CASE("An image QEMU writes is refused for writing") {
  TempDisk disk(512);
  QemuLocks qemu(disk.path(), /*writable=*/true);

  auto image = DiskImage::Open({.path = disk.path()});

  CHECK(ErrorOf(image) == "disk image \"" + disk.path() + "\" is in use by another process");
}

TEST_CASE("An image QEMU writes is refused for reading") {
  TempDisk disk(512);
  QemuLocks qemu(disk.path(), /*writable=*/true);

  auto image = DiskImage::Open({.path = disk.path(), .read_only = true});

  CHECK(ErrorOf(image) == "disk image \"" + disk.path() + "\" is in use by another process");
}

TEST_CASE("An image QEMU reads is refused for writing") {
  TempDisk disk(512);
  QemuLocks qemu(disk.path(), /*writable=*/false);

  auto image = DiskImage::Open({.path = disk.path()});

  CHECK(ErrorOf(image) == "disk image \"" + disk.path() + "\" is in use by another process");
}

TEST_CASE("An image QEMU reads can be read") {
  TempDisk disk(512);
  QemuLocks qemu(disk.path(), /*writable=*/false);

  auto image = DiskImage::Open({.path = disk.path(), .read_only = true});

  CHECK(image.ok());
}

TEST_CASE("QEMU cannot take its locks on an image mini-vmm writes") {
  TempDisk disk(512);
  auto image = DiskImage::Open({.path = disk.path()});
  REQUIRE(image.ok());
  UniqueFd qemu(::open(disk.path().c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(qemu.valid());

  CHECK_FALSE(QemuLocks::Take(qemu.get(), 100));  // "consistent read"
  CHECK_FALSE(QemuLocks::Take(qemu.get(), 201));  // "write" not shared
}

TEST_CASE("QEMU cannot take its write lock where mini-vmm reads") {
  TempDisk disk(512);
  auto image = DiskImage::Open({.path = disk.path(), .read_only = true});
  REQUIRE(image.ok());
  UniqueFd qemu(::open(disk.path().c_str(), O_RDWR | O_CLOEXEC));
  REQUIRE(qemu.valid());

  // QEMU takes 101 ("write") and then tests 201, which mini-vmm holds
  // because it does not share "write".
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  probe.l_start = 201;
  probe.l_len = 1;
  REQUIRE(::fcntl(qemu.get(), F_OFD_GETLK, &probe) == 0);
  CHECK(probe.l_type == F_RDLCK);
}

TEST_CASE("Read-only images can be shared") {
  TempDisk disk(512);
  auto first = DiskImage::Open({.path = disk.path(), .read_only = true});
  REQUIRE(first.ok());

  auto second = DiskImage::Open({.path = disk.path(), .read_only = true});

  CHECK(second.ok());
}

TEST_CASE("Closing an image releases its lock") {
  TempDisk disk(512);
  {
    auto first = DiskImage::Open({.path = disk.path()});
    REQUIRE(first.ok());
  }

  auto again = DiskImage::Open({.path = disk.path()});

  CHECK(again.ok());
}

TEST_CASE("The same file under two names has one FileId") {
  TempDisk disk(512);
  const std::string link = disk.path() + ".link";
  REQUIRE(::symlink(disk.path().c_str(), link.c_str()) == 0);
  TempDisk other(512);

  auto a = DiskImage::Open({.path = disk.path(), .read_only = true});
  auto b = DiskImage::Open({.path = link, .read_only = true});
  auto c = DiskImage::Open({.path = other.path(), .read_only = true});

  ::unlink(link.c_str());
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  CHECK(a->file_id() == b->file_id());
  CHECK_FALSE(a->file_id() == c->file_id());
}

TEST_CASE("A 20-byte serial is accepted") {
  TempDisk disk(512);

  CHECK(DiskImage::Open({.path = disk.path(), .serial = std::string(20, 's')}).ok());
}

TEST_CASE("A serial longer than 20 bytes is refused") {
  TempDisk disk(512);
  const std::string serial(21, 's');

  CHECK(ErrorOf(DiskImage::Open({.path = disk.path(), .serial = serial})) ==
        "serial \"" + serial + "\" of disk image \"" + disk.path() +
            "\" is 21 bytes, longer than the 20 virtio-blk allows");
}

}  // namespace
}  // namespace mini_vmm::virtio::blk
