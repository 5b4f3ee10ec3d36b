// Parsing of human-written sizes ("512M", "2G", "1024" = MiB as in QEMU).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mini_vmm::cli {

// Bytes for "<digits>[K|M|G|T][i][B]" (binary units); a bare number means
// MiB. nullopt for anything else or on overflow.
std::optional<uint64_t> ParseMemorySize(std::string_view text);

}  // namespace mini_vmm::cli
