#include "devices/virtio/blk/file_io.h"

#include <fcntl.h>
#include <unistd.h>

namespace mini_vmm::virtio::blk {
namespace {

class SystemCalls final : public FileIo {
 public:
  ssize_t Preadv2(int fd, const iovec* iov, int iovcnt, off_t offset, int flags) noexcept override {
    return ::preadv2(fd, iov, iovcnt, offset, flags);
  }
  ssize_t Pwritev2(int fd, const iovec* iov, int iovcnt, off_t offset,
                   int flags) noexcept override {
    return ::pwritev2(fd, iov, iovcnt, offset, flags);
  }
  int Fdatasync(int fd) noexcept override { return ::fdatasync(fd); }
  int Fallocate(int fd, int mode, off_t offset, off_t length) noexcept override {
    return ::fallocate(fd, mode, offset, length);
  }
};

}  // namespace

FileIo& SystemFileIo() {
  static SystemCalls calls;
  return calls;
}

}  // namespace mini_vmm::virtio::blk
