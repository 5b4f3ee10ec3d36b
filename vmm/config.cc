#include "vmm/config.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "firmware/linux/kernel_loader.h"
#include "vmm/base/mapped_file.h"
#include "vmm/base/unique_fd.h"

namespace mini_vmm {
namespace {

constexpr uint64_t kMiB = 1 << 20;
// Below this not even the boot structures and a kernel's first megabytes
// fit; the kernel loader reports precisely what a given kernel needs.
constexpr uint64_t kMinMemory = 16 * kMiB;

// MemTotal from /proc/meminfo, in bytes; 0 if unknown.
uint64_t HostMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemTotal:") return kib * 1024;
  }
  return 0;
}

struct FileId {
  dev_t device;
  ino_t inode;
};

// A disk must be a readable (and, unless read-only, writable) regular file
// or block device; returns its identity for the duplicate check.
Result<FileId> CheckDisk(const virtio::blk::DiskConfig& disk) {
  const int flags = (disk.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  UniqueFd fd(::open(disk.path.c_str(), flags));
  if (!fd.valid()) {
    return Error::Errno(errno, "cannot open disk image \"{}\"{}", disk.path,
                        disk.read_only ? "" : " for writing");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error::Errno(errno, "cannot stat \"{}\"", disk.path);
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    return Error::Invalid("disk image \"{}\" is not a regular file or block device", disk.path);
  }
  return FileId{st.st_dev, st.st_ino};
}

Result<void> ValidateDisks(const std::vector<virtio::blk::DiskConfig>& disks) {
  std::vector<std::pair<FileId, const virtio::blk::DiskConfig*>> seen;
  for (const virtio::blk::DiskConfig& disk : disks) {
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

}  // namespace

Result<void> ValidateConfig(const VmConfig& config) {
  {
    MappedFile kernel = TRY(MappedFile::Open(config.kernel_path, "kernel image"));
    if (auto format = firmware::linux_boot::CheckKernelImage(kernel.bytes()); !format.ok()) {
      return Error::Invalid("kernel image \"{}\": {}", config.kernel_path,
                            format.error().ToString());
    }
  }
  if (config.initrd_path) TRY(CheckReadableFile(*config.initrd_path, "initrd"));
  if (config.memory_bytes < kMinMemory) {
    return Error::Invalid("--memory {} MiB is too small: a Linux guest needs at least {} MiB",
                          config.memory_bytes / kMiB, kMinMemory / kMiB);
  }
  if (config.memory_bytes % kMiB != 0) {
    return Error::Invalid("--memory must be a whole number of MiB");
  }
  TRY(ValidateDisks(config.disks));
  const uint64_t host = HostMemoryBytes();
  if (host != 0 && config.memory_bytes > host) {
    return Error::Invalid("--memory {} MiB is more than this host's {} MiB of RAM",
                          config.memory_bytes / kMiB, host / kMiB);
  }
  return {};
}

}  // namespace mini_vmm
