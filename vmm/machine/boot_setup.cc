#include "vmm/machine/boot_setup.h"

#include <array>
#include <cstring>

#include "arch/x86_64/long_mode.h"
#include "arch/x86_64/memory_map.h"
#include "arch/x86_64/platform/layout.h"
#include "arch/x86_64/reset_vector.h"
#include "firmware/linux/boot_params.h"
#include "firmware/linux/bzimage.h"
#include "firmware/linux/kernel_loader.h"
#include "firmware/mp/mptable.h"
#include "vmm/base/log.h"
#include "vmm/base/mapped_file.h"
#include "vmm/base/sha256.h"
#include "vmm/image_cache/image_cache.h"
#include "vmm/machine/kernel_image.h"

namespace mini_vmm {
namespace {

namespace x86 = arch::x86_64;
namespace lb = firmware::linux_boot;

struct Initrd {
  uint64_t address = 0;
  uint64_t size = 0;
};

Result<Initrd> LoadInitrd(const GuestMemory& mem, const VmConfig& config,
                          const lb::LoadedKernel& kernel) {
  if (!config.initrd_path) return Initrd{};
  MappedFile file = TRY(MappedFile::Open(*config.initrd_path, "initrd"));
  const uint64_t address =
      TRY(lb::ChooseInitrdAddress(file.size(), kernel, x86::LowRamEnd(config.memory_bytes)));
  if (!mem.Write(GuestAddress(address), file.bytes())) {
    return Error::Invalid("the initrd does not fit in guest memory at {:#x}", address);
  }
  return Initrd{address, file.size()};
}

Result<uint64_t> WritePlatformTables(const GuestMemory& mem, const PlatformDescription& platform) {
  firmware::acpi::AcpiConfig acpi;
  acpi.num_cpus = platform.num_cpus;
  acpi.lapic_address = x86::kLapicAddress;
  acpi.ioapic_address = x86::kIoapicAddress;
  acpi.ioapic_id = platform.ioapic_id;
  acpi.virtio_mmio = platform.virtio_mmio;
  acpi.pci = platform.pci;
  const GuestAddress rsdp = TRY(firmware::acpi::WriteAcpiTables(
      mem, GuestAddress(x86::kAcpiTablesAddress), x86::kAcpiTablesSize, acpi));

  // For kernels booted with acpi=off that have an MP-table parser.
  firmware::mp::MpTableConfig mp;
  mp.num_cpus = platform.num_cpus;
  mp.ioapic_id = platform.ioapic_id;
  mp.ioapic_address = x86::kIoapicAddress;
  mp.lapic_address = x86::kLapicAddress;
  for (const auto& dev : platform.virtio_mmio) {
    if (dev.gsi >= 16) mp.extra_edge_gsis.push_back(dev.gsi);
  }
  if (platform.pci) {
    mp.pci = true;
    mp.pci_intx_gsis = platform.pci->intx_gsis;
  }
  TRY(firmware::mp::WriteMpTable(mem, GuestAddress(x86::kMpTableAddress), x86::kMpTableSize, mp));
  return rsdp.value();
}

std::vector<lb::E820Entry> E820Map(const GuestMemory& mem) {
  std::vector<lb::E820Entry> reserved;
  for (const auto& r : x86::ReservedRanges()) {
    reserved.push_back({r.address, r.size, lb::kE820Reserved});
  }
  return lb::BuildE820(mem.regions(), reserved);
}

}  // namespace

Result<BootEntry> SetUpLinuxBoot(const GuestMemory& mem, const VmConfig& config,
                                 const PlatformDescription& platform) {
  TRY(x86::WriteBootTables(mem));
  TRY(x86::WriteResetFirmware(mem));
  const uint64_t rsdp = TRY(WritePlatformTables(mem, platform));

  KernelLoadOptions load_options;
  load_options.decompress = config.kernel_decompress;
  load_options.cache_directory = image_cache::DefaultCacheDirectory();
  load_options.fast_hashing = Sha256::HardwareAccelerated();
  const lb::LoadedKernel kernel =
      TRY(LoadKernelImage(mem, config.kernel_path, load_options)).kernel;
  const Initrd initrd = TRY(LoadInitrd(mem, config, kernel));
  TRY(lb::WriteCmdline(mem, {GuestAddress(x86::kCmdlineAddress), x86::kCmdlineAreaSize},
                       platform.cmdline, lb::CmdlineLimit(kernel.header)));

  lb::BootParamsConfig params_config;
  params_config.header = kernel.header;
  params_config.cmdline_address = x86::kCmdlineAddress;
  params_config.initrd_address = initrd.address;
  params_config.initrd_size = initrd.size;
  params_config.acpi_rsdp_address = rsdp;
  params_config.e820 = E820Map(mem);
  const boot_params params = TRY(lb::BuildBootParams(params_config));
  if (!mem.WriteObj(GuestAddress(x86::kZeroPageAddress), params)) {
    return Error::Invalid("guest RAM too small for the zero page");
  }
  LOG_DEBUG("kernel entry {:#x}, occupies up to {:#x}; initrd {:#x}+{:#x}", kernel.entry,
            kernel.end, initrd.address, initrd.size);
  return BootEntry{kernel.entry, x86::kZeroPageAddress};
}

}  // namespace mini_vmm
