#include "devices/virtio/blk/disk_image.h"

#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "vmm/base/log.h"

namespace mini_vmm::virtio::blk {
namespace {

// QEMU's raw-posix locking (block/file-posix.c, raw_apply_lock_bytes): one
// byte per block-layer permission, at kQemuPermBase + bit for a permission
// a user holds and at kQemuSharedBase + bit for one it refuses to share,
// each a shared open-file-description (OFD) lock. QEMU 7.2 has four
// permissions (consistent read, write, write unchanged, resize; older
// versions a fifth); /proc/locks shows a writable virtio-blk drive holding
// bytes 100-101 and 201, a read-only one 100 and 201. flock(2) locks do not
// conflict with these, so mini-vmm takes the same kind of lock on the same
// bytes.
constexpr off_t kQemuPermBase = 100;
constexpr off_t kQemuSharedBase = 200;
constexpr off_t kPermConsistentRead = 0;
constexpr off_t kPermWrite = 1;
// Room for every permission QEMU has had, and a few more.
constexpr off_t kQemuPermBytes = 8;

Error InUse(const DiskOptions& options) {
  return Error::Invalid("disk image \"{}\" is in use by another process", options.path);
}

Result<UniqueFd> OpenFile(const DiskOptions& options) {
  // O_EXCL without O_CREAT: on a block device, the kernel refuses the open
  // while the device is mounted or held exclusively by anyone else
  // (another VMM, mkfs), which no advisory lock can promise; on a regular
  // file Linux ignores it.
  const int flags = (options.read_only ? O_RDONLY : O_RDWR | O_EXCL) | O_CLOEXEC;
  UniqueFd fd(::open(options.path.c_str(), flags));
  if (fd.valid()) return fd;
  if (errno == EBUSY) return InUse(options);
  // O_RDWR on a directory fails with EISDIR; say it the way the read-only
  // path (which opens directories fine and checks afterwards) does.
  if (errno == EISDIR) return Error::Invalid("disk image \"{}\" is a directory", options.path);
  return Error::Errno(errno, "cannot open disk image \"{}\"", options.path);
}

// F_OFD_SETLK of `type` on [start, start + len); false if another open
// file description holds a conflicting lock.
Result<bool> SetLock(int fd, short type, off_t start, off_t len, const DiskOptions& options) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = start;
  lock.l_len = len;
  if (::fcntl(fd, F_OFD_SETLK, &lock) == 0) return true;
  if (errno == EAGAIN || errno == EACCES) return false;
  return Error::Errno(errno, "cannot lock disk image \"{}\"", options.path);
}

// True if another open file description holds any lock on `byte`.
Result<bool> ByteLocked(int fd, off_t byte, const DiskOptions& options) {
  struct flock lock {};
  lock.l_type = F_WRLCK;  // Conflicts with every lock, shared or not.
  lock.l_whence = SEEK_SET;
  lock.l_start = byte;
  lock.l_len = 1;
  if (::fcntl(fd, F_OFD_GETLK, &lock) != 0) {
    return Error::Errno(errno, "cannot lock disk image \"{}\"", options.path);
  }
  return lock.l_type != F_UNLCK;
}

// Exclusive for writers, shared for readers, in QEMU's terms, so a second
// writer, or a writer and a reader, never share an image, whether each is
// mini-vmm or QEMU. OFD locks belong to the open file description, so
// this also catches one VMM opening a file twice; they go when it closes.
Result<void> Lock(int fd, const DiskOptions& options) {
  if (!options.read_only) {
    // One exclusive lock over all of QEMU's bytes: any QEMU user, reading
    // or writing, fails to take its shared locks there, and mini-vmm fails
    // here if any QEMU or mini-vmm holds one.
    const off_t len = kQemuSharedBase + kQemuPermBytes - kQemuPermBase;
    if (!TRY(SetLock(fd, F_WRLCK, kQemuPermBase, len, options))) return InUse(options);
    return {};
  }
  // A reader, like QEMU's read-only drive: it holds "consistent read" and
  // refuses to share "write". QEMU takes its locks and then looks for
  // conflicts, and so does this: of two users starting together, at least
  // the second to look sees the other.
  if (!TRY(SetLock(fd, F_RDLCK, kQemuPermBase + kPermConsistentRead, 1, options)) ||
      !TRY(SetLock(fd, F_RDLCK, kQemuSharedBase + kPermWrite, 1, options)) ||
      TRY(ByteLocked(fd, kQemuPermBase + kPermWrite, options))) {
    return InUse(options);
  }
  return {};
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
