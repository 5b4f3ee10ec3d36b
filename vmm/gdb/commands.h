// The data commands of a Session (registers, memory, breakpoints, queries),
// apart from execution control. Internal to vmm/gdb; see session.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "vmm/gdb/session.h"

namespace mini_vmm::gdb {

class Commands {
 public:
  static std::string ReadRegisters(Session& s);
  static std::string WriteRegisters(Session& s, std::string_view packet);
  static std::string ReadRegister(Session& s, std::string_view packet);
  static std::string WriteRegister(Session& s, std::string_view packet);
  static std::string ReadMemory(Session& s, std::string_view packet);
  static std::string WriteMemoryHex(Session& s, std::string_view packet);
  static std::string WriteMemoryBinary(Session& s, std::string_view packet);
  static std::string Breakpoint(Session& s, std::string_view packet);
  static std::string Query(Session& s, std::string_view packet);
  static std::string SetThread(Session& s, std::string_view packet);
  static std::string ThreadAlive(Session& s, std::string_view packet);
};

// A gdb thread id: "-1" (all), "0" (any) or a positive hex number.
struct ThreadId {
  enum class Kind { kAll, kAny, kOne } kind;
  VcpuIndex vcpu = 0;  // For kOne: thread id - 1.
};
std::optional<ThreadId> ParseThreadId(std::string_view text, uint32_t vcpu_count);
// The thread id of `vcpu` on the wire.
std::string FormatThreadId(VcpuIndex vcpu);

}  // namespace mini_vmm::gdb
