// Format(): fmt::format with the formatting engine compiled once.
//
// fmt is used header-only (Debian ships no static libfmt, and libfmt.so
// would pull libstdc++.so back into a binary that links it statically). In
// that mode every translation unit that calls fmt::format instantiates the
// whole engine, and GCC gives each its own local clones: 600 KB of text in
// mini-vmm, much of it resident. Format() checks the format string at
// compile time as fmt::format does, then hands type-erased arguments to the
// single VFormat() in format.cc.
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
