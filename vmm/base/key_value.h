// The `key=value[,key=value]...` syntax of options such as --disk and
// --memory (QEMU's and Cloud Hypervisor's). Errors do not name the option:
// the command-line parser puts "--disk: " in front of them.
#pragma once

#include <functional>
#include <string_view>

#include "vmm/base/result.h"

namespace mini_vmm {

using KeyValueHandler = std::function<Result<void>(std::string_view key, std::string_view value)>;

// Calls `apply` for each comma-separated `key=value` item of `text`, in
// order, stopping at the first error. `example` is shown when an item has no
// '='.
Result<void> ForEachKeyValue(std::string_view text, std::string_view example,
                             const KeyValueHandler& apply);

// on/off (also true/false, yes/no).
Result<bool> ParseOnOff(std::string_view key, std::string_view value);

}  // namespace mini_vmm
