#include "vmm/config/boot_regions.h"

#include <array>

#include "arch/x86_64/platform/layout.h"

namespace mini_vmm {
namespace {

namespace x86 = arch::x86_64;
namespace lb = firmware::linux_boot;

// The low pages hold the GDT, IDT, zero page, boot stack and page tables;
// the boot stack grows down from kBootStackPointer inside them. The initrd
// is not listed: it is placed above the kernel's end.
constexpr std::array<lb::BootRegion, 5> kBootRegions = {{
    {"GDT, IDT, zero page, boot stack and page tables", x86::kGdtAddress,
     x86::kPdAddress + 4 * x86::kPageSize - x86::kGdtAddress},
    {"kernel command line area", x86::kCmdlineAddress, x86::kCmdlineAreaSize},
    {"ACPI tables", x86::kAcpiTablesAddress, x86::kAcpiTablesSize},
    {"MP table", x86::kMpTableAddress, x86::kMpTableSize},
    {"reset vector", x86::kResetVectorAddress, x86::kResetVectorSize},
}};

}  // namespace

std::span<const lb::BootRegion> BootStructureRegions() { return kBootRegions; }

}  // namespace mini_vmm
