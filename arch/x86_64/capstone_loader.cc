#include "arch/x86_64/capstone_loader.h"

#include <dlfcn.h>

#include <array>

#include "vmm/base/log.h"

namespace mini_vmm::arch::x86_64 {
namespace {

// Debian ships capstone 4 (libcapstone4); newer distributions 5.
constexpr std::array<const char*, 3> kLibraryNames = {"libcapstone.so.4", "libcapstone.so.5",
                                                      "libcapstone.so"};

template <typename Fn>
bool Resolve(void* handle, const char* symbol, Fn* out) {
  void* address = ::dlsym(handle, symbol);
  *out = reinterpret_cast<Fn>(address);
  return address != nullptr;
}

const CapstoneApi* Load() {
  static CapstoneApi api{};
  for (const char* name : kLibraryNames) {
    void* handle = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) continue;
    if (Resolve(handle, "cs_open", &api.open) && Resolve(handle, "cs_disasm", &api.disasm) &&
        Resolve(handle, "cs_free", &api.free) && Resolve(handle, "cs_close", &api.close)) {
      return &api;
    }
    ::dlclose(handle);
  }
  LOG_WARN("capstone is not installed (apt-get install libcapstone4): no disassembly");
  return nullptr;
}

}  // namespace

const CapstoneApi* Capstone() {
  static const CapstoneApi* const api = Load();
  return api;
}

}  // namespace mini_vmm::arch::x86_64
