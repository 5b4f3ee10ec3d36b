// DiskImage: the host file (or block device) behind a virtio-blk disk,
// opened, locked and sized once, before the VM starts.
//
//   DiskImage image = TRY(DiskImage::Open({.path = "rootfs.img", .serial = "root"}));
//   if (image.file_id() == other.file_id()) { /* the same file twice: refuse */ }
//
// The image is locked for as long as it is open, with the open-file-
// description byte locks QEMU uses (see disk_image.cc): exclusively when
// writable, shared when read-only, so two VMMs, mini-vmm or QEMU, can never
// write one image (nor one write while another reads). A writable block
// device is also opened O_EXCL, which the kernel refuses while it is
// mounted or held exclusively elsewhere.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "vmm/base/result.h"
#include "vmm/base/unique_fd.h"

namespace mini_vmm::virtio::blk {

// virtio-blk's unit for every sector number and for capacity, whatever
// blk_size says (§5.2.4, §5.2.5: "always 512 bytes").
inline constexpr uint64_t kSectorSize = 512;

struct DiskOptions {
  std::string path{};
  bool read_only = false;
  // Returned to VIRTIO_BLK_T_GET_ID; at most VIRTIO_BLK_ID_BYTES (20) bytes.
  std::string serial{};
};

// Identifies a host file independently of the path used to open it.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId&) const = default;
};

class DiskImage {
 public:
  // Errors are one sentence naming the path: missing, a directory, not
  // permitted, not a file or block device, or locked by another process.
  // A size that is not a multiple of 512 is accepted with a warning (see
  // disk_image.cc for why).
  static Result<DiskImage> Open(const DiskOptions& options);

  DiskImage(DiskImage&&) noexcept = default;
  DiskImage& operator=(DiskImage&&) noexcept = default;
  DiskImage(const DiskImage&) = delete;
  DiskImage& operator=(const DiskImage&) = delete;

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  bool read_only() const { return read_only_; }
  const std::string& serial() const { return serial_; }
  uint64_t size_bytes() const { return size_bytes_; }
  // What the guest sees: whole 512-byte sectors only.
  uint64_t capacity_sectors() const { return size_bytes_ / kSectorSize; }
  FileId file_id() const { return file_id_; }
  bool is_block_device() const { return is_block_device_; }

 private:
  DiskImage() = default;

  UniqueFd fd_;
  std::string path_;
  std::string serial_;
  bool read_only_ = false;
  bool is_block_device_ = false;
  uint64_t size_bytes_ = 0;
  FileId file_id_;
};

}  // namespace mini_vmm::virtio::blk
