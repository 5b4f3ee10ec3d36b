// `--disk path=FILE[,readonly=on|off][,serial=ID]`: one virtio-blk disk, as
// the user configures it (the device owns its options; the CLI only passes
// the text on).
#pragma once

#include <string>
#include <string_view>

#include "vmm/base/result.h"

namespace mini_vmm::virtio::blk {

struct DiskConfig {
  std::string path;
  bool read_only = false;
  std::string serial;  // At most 20 bytes (VIRTIO_BLK_ID_BYTES).
};

// Parses one --disk value; errors are one sentence naming the bad part.
Result<DiskConfig> ParseDiskOption(std::string_view text);

}  // namespace mini_vmm::virtio::blk
