// The guest-physical regions mini-vmm's own boot structures occupy (their
// addresses are declared in arch/x86_64/platform/layout.h). A kernel image must not
// load over them: config validation refuses such a kernel before anything
// is built, and the loader checks again as it copies.
#pragma once

#include <span>

#include "firmware/linux/kernel_loader.h"

namespace mini_vmm {

std::span<const firmware::linux_boot::BootRegion> BootStructureRegions();

}  // namespace mini_vmm
