#include "devices/virtio/blk/disk_image.h"

#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "vmm/base/log.h"

namespace mini_vmm::virtio::blk {
namespace {

Result<UniqueFd> OpenFile(const DiskOptions& options) {
  const int flags = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  UniqueFd fd(::open(options.path.c_str(), flags));
  if (fd.valid()) return fd;
  // O_RDWR on a directory fails with EISDIR; say it the way the read-only
  // path (which opens directories fine and checks afterwards) does.
  if (errno == EISDIR) return Error::Invalid("disk image \"{}\" is a directory", options.path);
  return Error::Errno(errno, "cannot open disk image \"{}\"", options.path);
}

// Exclusive for writers, shared for readers: a second writer, or a writer
// and a reader, never share an image. flock(2) locks belong to the open
// file description, so this also catches one VMM opening a file twice.
Result<void> Lock(int fd, const DiskOptions& options) {
  const int operation = (options.read_only ? LOCK_SH : LOCK_EX) | LOCK_NB;
  int rc;
  do {
    rc = ::flock(fd, operation);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return {};
  if (errno == EWOULDBLOCK) {
    return Error::Invalid("disk image \"{}\" is in use by another process", options.path);
  }
  return Error::Errno(errno, "cannot lock disk image \"{}\"", options.path);
}

}  // namespace

Result<DiskImage> DiskImage::Open(const DiskOptions& options) {
  if (options.serial.size() > VIRTIO_BLK_ID_BYTES) {
    return Error::Invalid(
        "serial \"{}\" of disk image \"{}\" is {} bytes, longer than the {} "
        "virtio-blk allows",
        options.serial, options.path, options.serial.size(), VIRTIO_BLK_ID_BYTES);
  }
  DiskImage image;
  image.fd_ = TRY(OpenFile(options));
  struct stat st {};
  if (::fstat(image.fd(), &st) != 0) {
    return Error::Errno(errno, "cannot stat disk image \"{}\"", options.path);
  }
  if (S_ISDIR(st.st_mode)) return Error::Invalid("disk image \"{}\" is a directory", options.path);
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    return Error::Invalid("disk image \"{}\" is not a regular file or a block device",
                          options.path);
  }
  TRY(Lock(image.fd(), options));
  // lseek works for block devices too, where st_size is 0.
  const off_t size = ::lseek(image.fd(), 0, SEEK_END);
  if (size < 0)
    return Error::Errno(errno, "cannot get the size of disk image \"{}\"", options.path);

  image.path_ = options.path;
  image.serial_ = options.serial;
  image.read_only_ = options.read_only;
  image.is_block_device_ = S_ISBLK(st.st_mode);
  image.size_bytes_ = static_cast<uint64_t>(size);
  image.file_id_ = FileId{st.st_dev, st.st_ino};
  // Accepted rather than refused: images made by tools that do not round to
  // sectors (ISO tails, truncated downloads) still boot, and nothing is at
  // risk, since the guest can neither read nor write past `capacity`.
  if (const uint64_t tail = image.size_bytes_ % kSectorSize; tail != 0) {
    LOG_WARN(
        "disk image \"{}\" is {} bytes, not a multiple of {}: its last {} bytes are "
        "invisible to the guest",
        options.path, image.size_bytes_, kSectorSize, tail);
  }
  return image;
}

}  // namespace mini_vmm::virtio::blk
