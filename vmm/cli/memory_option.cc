#include "vmm/cli/memory_option.h"

#include "vmm/base/key_value.h"
#include "vmm/cli/size.h"

namespace mini_vmm::cli {
namespace {

Result<uint64_t> ParseSize(std::string_view text) {
  auto bytes = ParseMemorySize(text);
  if (!bytes) return Error::Invalid("\"{}\" is not a size (examples: 512M, 2G, 1024)", text);
  return *bytes;
}

}  // namespace

Result<MemoryConfig> ParseMemoryOption(std::string_view text) {
  // The size comes first and needs no key, so "--memory 2G" stays valid.
  const size_t comma = text.find(',');
  const std::string_view first = text.substr(0, comma);
  const std::string_view rest =
      comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  MemoryConfig memory;
  memory.bytes = TRY(ParseSize(first.starts_with("size=") ? first.substr(5) : first));
  bool shared = false;
  bool hugetlb = false;
  const KeyValueHandler apply = [&](std::string_view key, std::string_view value) -> Result<void> {
    if (key == "shared") {
      shared = TRY(ParseOnOff(key, value));
    } else if (key == "hugetlb") {
      hugetlb = TRY(ParseOnOff(key, value));
    } else {
      return Error::Invalid("unknown key \"{}\" (known: shared, hugetlb)", key);
    }
    return {};
  };
  TRY(ForEachKeyValue(rest, "2G,hugetlb=on", apply));
  if (hugetlb && memory.bytes % GuestMemory::kHugePageSize != 0) {
    return Error::Invalid("hugetlb=on needs a multiple of 2 MiB, not {} KiB",
                          memory.bytes >> 10);
  }
  // hugetlbfs memory is a shareable file already.
  memory.backing = hugetlb  ? GuestMemory::Backing::kHugetlb
                   : shared ? GuestMemory::Backing::kShared
                            : GuestMemory::Backing::kPrivate;
  return memory;
}

}  // namespace mini_vmm::cli
