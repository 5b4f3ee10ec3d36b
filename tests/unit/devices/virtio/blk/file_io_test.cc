// SystemFileIo: each method is the system call of its name, on a real file
// (the durability tests use RecordingIo, which calls through to it).
#include "devices/virtio/blk/file_io.h"

#include <fcntl.h>
#include <linux/falloc.h>

#include <catch2/catch.hpp>
#include <cerrno>

#include "tests/unit/devices/virtio/blk/blk_test_util.h"
#include "vmm/base/unique_fd.h"

namespace mini_vmm::virtio::blk {
namespace {

using testing::Bytes;
using testing::TempDisk;

constexpr uint8_t kFill = 0x11;

struct FileIoTest {
  TempDisk disk{8192, kFill};
  UniqueFd fd{::open(disk.path().c_str(), O_RDWR | O_CLOEXEC)};
  FileIo& io = SystemFileIo();
};

TEST_CASE_METHOD(FileIoTest, "Pwritev2 with RWF_DSYNC writes, and Preadv2 reads it back") {
  std::vector<uint8_t> out = Bytes(512, 0x5a), in(512);
  const iovec write_iov{out.data(), out.size()};
  const iovec read_iov{in.data(), in.size()};

  CHECK(io.Pwritev2(fd.get(), &write_iov, 1, 1024, RWF_DSYNC) == 512);
  CHECK(io.Preadv2(fd.get(), &read_iov, 1, 1024, 0) == 512);

  CHECK(in == out);
  CHECK(disk.Read(1024, 512) == out);
}

TEST_CASE_METHOD(FileIoTest, "Fallocate punches a hole that reads as zeros") {
  CHECK(io.Fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096) == 0);

  CHECK(disk.Read(4096, 4096) == Bytes(4096, 0));
  CHECK(disk.Read(0, 4096) == Bytes(4096, kFill));
}

TEST_CASE_METHOD(FileIoTest, "Fdatasync succeeds on a file and fails on a bad descriptor") {
  CHECK(io.Fdatasync(fd.get()) == 0);

  CHECK(io.Fdatasync(-1) == -1);
  CHECK(errno == EBADF);
}

}  // namespace
}  // namespace mini_vmm::virtio::blk
