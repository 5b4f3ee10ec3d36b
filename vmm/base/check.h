// VMM_CHECK: an always-on invariant check for programming errors (never for
// guest- or user-caused conditions). It aborts with the failed expression.
#pragma once

namespace mini_vmm::internal {
[[noreturn]] void CheckFailed(const char* expr, const char* file, int line) noexcept;
}  // namespace mini_vmm::internal

#define VMM_CHECK(cond)                                             \
  do {                                                              \
    if (!(cond)) [[unlikely]]                                       \
      ::mini_vmm::internal::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (0)
