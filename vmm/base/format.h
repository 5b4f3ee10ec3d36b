// Format(): fmt::format behind one out-of-line call.
//
// Format() checks the format string at compile time as fmt::format does,
// then hands type-erased arguments to the single VFormat() in format.cc,
// so call sites stay one call and no TU needs more of fmt than core.h.
// (It dates from when fmt was header-only and every caller got its own
// clones of the engine: 600 KB of text in mini-vmm. fmt's engine is now
// compiled once, in mini_vmm_fmt; vmm/base/fmt_instantiations.cc says why.)
#pragma once

#include <fmt/core.h>

#include <string>

namespace mini_vmm {

std::string VFormat(fmt::string_view format, fmt::format_args args);

template <typename... Args>
std::string Format(fmt::format_string<Args...> format, Args&&... args) {
  return VFormat(format, fmt::make_format_args(args...));
}

}  // namespace mini_vmm
