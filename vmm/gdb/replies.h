// Reply payloads shared by the command handlers. Errors are `E` and two hex
// digits of an errno value, which gdb shows as a failure of the command.
#pragma once

#include <string_view>

namespace mini_vmm::gdb::reply {

inline constexpr std::string_view kOk = "OK";
// The protocol's "not supported": gdb falls back or gives up gracefully.
inline constexpr std::string_view kUnsupported = "";
inline constexpr std::string_view kMalformed = "E16";    // EINVAL: the packet does not parse.
inline constexpr std::string_view kFault = "E0e";        // EFAULT: unmapped, or not guest RAM.
inline constexpr std::string_view kNoSpace = "E1c";      // ENOSPC: no debug register left.
inline constexpr std::string_view kNotFound = "E02";     // ENOENT: no such breakpoint.
inline constexpr std::string_view kBadThread = "E03";    // ESRCH: no such thread.
inline constexpr std::string_view kTargetError = "E05";  // EIO: the vCPU refused.

}  // namespace mini_vmm::gdb::reply
