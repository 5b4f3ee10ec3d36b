#include "devices/virtio/blk/disk_kind.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <string>
#include <utility>
#include <vector>

#include "devices/virtio/blk/block_device.h"
#include "devices/virtio/blk/disk_image.h"
#include "vmm/base/mapped_file.h"
#include "vmm/base/unique_fd.h"

namespace mini_vmm::virtio::blk {
namespace {

struct FileId {
  dev_t device;
  ino_t inode;
};

// A disk must be a readable (and, unless read-only, writable) regular file
// or block device; returns its identity for the duplicate check.
Result<FileId> CheckDisk(const DiskConfig& disk) {
  // O_NONBLOCK: a read-only open of a FIFO would wait for a writer forever.
  const int flags = (disk.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  UniqueFd fd(::open(disk.path.c_str(), flags));
  if (!fd.valid()) {
    return Error::Errno(errno, "cannot open disk image \"{}\"{}", disk.path,
                        disk.read_only ? "" : " for writing");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error::Errno(errno, "cannot stat \"{}\"", disk.path);
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    return Error::Invalid("disk image \"{}\" is {}, not a regular file or block device", disk.path,
                          FileTypeName(st.st_mode));
  }
  return FileId{st.st_dev, st.st_ino};
}

const DiskConfig& ConfigOf(const DeviceOptions& options) {
  return static_cast<const DiskSpec&>(options).config;
}

class Kind final : public DeviceKind {
 public:
  std::string_view option() const override { return "disk"; }
  std::string_view help() const override {
    return "a virtio-blk disk: path=FILE[,readonly=on|off][,serial=ID]; repeat for more";
  }

  Result<std::unique_ptr<DeviceOptions>> Parse(std::string_view text) const override {
    return std::make_unique<DiskSpec>(TRY(ParseDiskOption(text)));
  }

  Result<void> Validate(std::span<const DeviceOptions* const> instances) const override {
    std::vector<std::pair<FileId, const DiskConfig*>> seen;
    for (const DeviceOptions* options : instances) {
      const DiskConfig& disk = ConfigOf(*options);
      const FileId id = TRY(CheckDisk(disk));
      for (const auto& [other_id, other] : seen) {
        const bool same = other_id.device == id.device && other_id.inode == id.inode;
        // Two writers (or a writer and a reader) of one image would corrupt
        // it or see torn data; two read-only views are harmless.
        if (same && !(disk.read_only && other->read_only)) {
          return Error::Invalid(
              "disk image \"{}\" is given twice (as \"{}\"); a writable image "
              "can be attached only once",
              disk.path, other->path);
        }
      }
      seen.emplace_back(id, &disk);
    }
    return {};
  }

  // The image, the I/O thread's and io_uring's eventfds, the ring, the
  // queue doorbell and the interrupt, with margin.
  uint64_t OpenFiles(const DeviceOptions&) const override { return 8; }

  Result<std::shared_ptr<VirtioDevice>> Create(const DeviceOptions& options,
                                               size_t index) const override {
    const DiskConfig& disk = ConfigOf(options);
    DiskImage image = TRY(
        DiskImage::Open({.path = disk.path, .read_only = disk.read_only, .serial = disk.serial}));
    return std::shared_ptr<VirtioDevice>(
        TRY(BlockDevice::Create(std::move(image), {.name = "virtio-blk" + std::to_string(index)})));
  }
};

}  // namespace

const DeviceKind& DiskKind() {
  static const Kind kind;
  return kind;
}

}  // namespace mini_vmm::virtio::blk
