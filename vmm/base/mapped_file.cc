#include "vmm/base/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>

#include "vmm/base/unique_fd.h"

namespace mini_vmm {
namespace {

Result<UniqueFd> OpenRegular(const std::string& path, const std::string& what, uint64_t* size) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
  // writer forever; the type check below then refuses it. It changes
  // nothing for a regular file.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) return Error::Errno(errno, "cannot open {} \"{}\"", what, path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error::Errno(errno, "cannot stat {} \"{}\"", what, path);
  if (!S_ISREG(st.st_mode)) {
    return Error::Invalid("{} \"{}\" is {}, not a regular file", what, path,
                          FileTypeName(st.st_mode));
  }
  if (st.st_size == 0) return Error::Invalid("{} \"{}\" is empty", what, path);
  *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

}  // namespace

const char* FileTypeName(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a file";
}

Result<uint64_t> CheckReadableFile(const std::string& path, const std::string& what) {
  uint64_t size = 0;
  TRY(OpenRegular(path, what, &size));
  return size;
}

Result<MappedFile> MappedFile::Open(const std::string& path, const std::string& what) {
  uint64_t size = 0;
  UniqueFd fd = TRY(OpenRegular(path, what, &size));
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (addr == MAP_FAILED) return Error::Errno(errno, "cannot map {} \"{}\"", what, path);
  return MappedFile(MmapRegion::Adopt(addr, size));
}

}  // namespace mini_vmm
