// `--disk path=FILE[,readonly=on|off][,serial=ID]`: one virtio-blk disk.
#pragma once

#include <string>
#include <string_view>

#include "vmm/base/result.h"

namespace mini_vmm::cli {

struct DiskConfig {
  std::string path;
  bool read_only = false;
  std::string serial;  // At most 20 bytes (VIRTIO_BLK_ID_BYTES).
};

// Parses one --disk value; errors are one sentence naming the bad part.
Result<DiskConfig> ParseDiskOption(std::string_view text);

}  // namespace mini_vmm::cli
