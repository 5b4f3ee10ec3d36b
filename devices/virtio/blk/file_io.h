// FileIo: the system calls SyncBackend makes on a disk image, behind an
// interface. Whether a write reached stable storage cannot be seen in the
// file afterwards, so the durability tests put a recording FileIo here and
// check which calls were made, with which flags, in which order.
//
//   auto backend = TRY(SyncBackend::Create(image.fd(), 256));         // the real calls
//   auto traced = TRY(SyncBackend::Create(fd, 16, recording_file_io));  // tests
//
// Each method is the system call of the same name: the result, with errno
// set on failure.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

namespace mini_vmm::virtio::blk {

class FileIo {
 public:
  virtual ~FileIo() = default;
  virtual ssize_t Preadv2(int fd, const iovec* iov, int iovcnt, off_t offset,
                          int flags) noexcept = 0;
  virtual ssize_t Pwritev2(int fd, const iovec* iov, int iovcnt, off_t offset,
                           int flags) noexcept = 0;
  virtual int Fdatasync(int fd) noexcept = 0;
  virtual int Fallocate(int fd, int mode, off_t offset, off_t length) noexcept = 0;
};

// The kernel's system calls; lives for the whole process.
FileIo& SystemFileIo();

}  // namespace mini_vmm::virtio::blk
