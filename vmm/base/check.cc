#include "vmm/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace mini_vmm::internal {

void CheckFailed(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "mini-vmm: internal error: check failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace mini_vmm::internal
