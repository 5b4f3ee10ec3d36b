// `--memory SIZE[,shared=on|off][,hugetlb=on|off]`: guest RAM size and
// backing (vmm/memory/guest_memory.h describes the backings).
//
//   --memory 512M                 private anonymous RAM on transparent huge pages
//   --memory 2G,hugetlb=on        2 MiB hugetlbfs pages from the host's pool
//   --memory 1G,shared=on         a memfd another process can map
#pragma once

#include <cstdint>
#include <string_view>

#include "vmm/base/result.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::cli {

struct MemoryConfig {
  uint64_t bytes = 512ull << 20;
  GuestMemory::Backing backing = GuestMemory::Backing::kPrivate;
};

// Parses one --memory value; errors are one sentence naming the bad part.
Result<MemoryConfig> ParseMemoryOption(std::string_view text);

}  // namespace mini_vmm::cli
