// Capstone, loaded on first use. Only crash dumps (and later tracing)
// disassemble, but linking libcapstone at start-up makes the dynamic linker
// relocate its tables of pointers: ~3 MiB of private memory in every VMM
// process for a library most runs never call.
#pragma once

#include <capstone/capstone.h>

namespace mini_vmm::arch::x86_64 {

struct CapstoneApi {
  decltype(&cs_open) open;
  decltype(&cs_disasm) disasm;
  decltype(&cs_free) free;
  decltype(&cs_close) close;
};

// The library's entry points, or nullptr if it cannot be loaded (the caller
// says so instead of disassembling). Thread-safe; loads at most once.
const CapstoneApi* Capstone();

}  // namespace mini_vmm::arch::x86_64
