// MappedFile: a whole regular file mapped read-only, for images the VMM
// copies into the guest once (kernel, initrd). Unmapping on destruction
// returns the pages, so loading leaves no resident copy behind.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>

#include "vmm/base/mmap_region.h"
#include "vmm/base/result.h"

namespace mini_vmm {

class MappedFile {
 public:
  // `what` names the file in errors: `cannot open kernel image "x": ...`.
  static Result<MappedFile> Open(const std::string& path, const std::string& what);

  std::span<const uint8_t> bytes() const {
    return {static_cast<const uint8_t*>(map_.data()), map_.size()};
  }
  size_t size() const { return map_.size(); }

 private:
  explicit MappedFile(MmapRegion map) : map_(std::move(map)) {}
  MmapRegion map_;
};

// The same checks as Open (exists, readable, regular, non-empty) without
// mapping: for validating a configuration before anything is built. Neither
// blocks on a FIFO: it is refused like any other non-regular file.
Result<uint64_t> CheckReadableFile(const std::string& path, const std::string& what);

// "a directory", "a FIFO", "a block device"...: for errors about the type.
const char* FileTypeName(mode_t mode);

}  // namespace mini_vmm
