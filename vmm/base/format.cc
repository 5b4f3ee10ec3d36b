#include "vmm/base/format.h"

#include <fmt/format.h>

namespace mini_vmm {

std::string VFormat(fmt::string_view format, fmt::format_args args) {
  return fmt::vformat(format, args);
}

}  // namespace mini_vmm
