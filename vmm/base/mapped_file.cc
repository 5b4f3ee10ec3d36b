#include "vmm/base/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>

#include "vmm/base/unique_fd.h"

namespace mini_vmm {
namespace {

Result<UniqueFd> OpenRegular(const std::string& path, const std::string& what, uint64_t* size) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::Errno(errno, "cannot open {} \"{}\"", what, path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error::Errno(errno, "cannot stat {} \"{}\"", what, path);
  if (S_ISDIR(st.st_mode))
    return Error::Invalid("{} \"{}\" is a directory, not a file", what, path);
  if (!S_ISREG(st.st_mode)) return Error::Invalid("{} \"{}\" is not a regular file", what, path);
  if (st.st_size == 0) return Error::Invalid("{} \"{}\" is empty", what, path);
  *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

}  // namespace

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
