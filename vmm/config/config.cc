#include "vmm/config/config.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "arch/x86_64/platform/layout.h"
#include "firmware/linux/boot_params.h"
#include "firmware/linux/bzimage_payload.h"
#include "firmware/linux/kernel_loader.h"
#include "vmm/base/mapped_file.h"
#include "vmm/base/unique_fd.h"
#include "vmm/config/boot_regions.h"
#include "vmm/kvm/kvm.h"
#include "vmm/vfio/host_check.h"

namespace mini_vmm {
namespace {

constexpr uint64_t kMiB = 1 << 20;
// Below this not even the boot structures and a kernel's first megabytes
// fit; the kernel loader reports precisely what a given kernel needs.
constexpr uint64_t kMinMemory = 16 * kMiB;

// MemTotal from /proc/meminfo, in bytes; 0 if unknown.
uint64_t HostMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemTotal:") return kib * 1024;
  }
  return 0;
}

Result<void> ValidateDevices(const std::vector<DeviceRequest>& devices) {
  constexpr size_t kMmioSlots = arch::x86_64::kMaxVirtioMmioDevices;
  // Slot 0 of PCI bus 0 is the host bridge.
  constexpr size_t kPciSlots = arch::x86_64::kPciDevices - 1;
  size_t mmio = 0;
  size_t pci = 0;
  for (const DeviceRequest& device : devices) {
    ++(device.transport == VirtioTransport::kPci ? pci : mmio);
  }
  if (mmio > kMmioSlots) {
    return Error::Invalid(
        "{} virtio devices are given on virtio-mmio; the machine has {} virtio-mmio slots "
        "(transport=pci takes up to {} more)",
        mmio, kMmioSlots, kPciSlots);
  }
  if (pci > kPciSlots) {
    return Error::Invalid("{} virtio devices are given on virtio-pci; PCI bus 0 has {} free slots",
                          pci, kPciSlots);
  }
  for (const virtio::DeviceKind* kind : DeviceKinds()) {
    std::vector<const virtio::DeviceOptions*> instances;
    for (const DeviceRequest& device : devices) {
      if (device.kind == kind) instances.push_back(device.options.get());
    }
    TRY(kind->Validate(instances));
  }
  return {};
}

// --vfio devices: the host checks (vfio/host_check.h), and room on bus 0
// beside the virtio-pci functions.
Result<void> ValidateVfio(const VmConfig& config) {
  if (config.vfio.empty()) return {};
  TRY(vfio::CheckDevices(config.vfio, vfio::HostPaths{}));
  constexpr size_t kPciSlots = arch::x86_64::kPciDevices - 1;
  size_t pci = config.vfio.size();
  for (const DeviceRequest& device : config.devices) {
    if (device.transport == VirtioTransport::kPci) ++pci;
  }
  if (pci > kPciSlots) {
    return Error::Invalid("--vfio {}: {} PCI functions are given; PCI bus 0 has {} free slots",
                          config.vfio.back(), pci, kPciSlots);
  }
  return {};
}

// The user's command line against the kernel's limit and the area
// mini-vmm reserves; what the platform appends (acpi=off boots) is checked
// again when it is written.
Result<void> CheckCmdline(const std::string& cmdline, std::span<const uint8_t> kernel) {
  const uint32_t limit = TRY(firmware::linux_boot::KernelCmdlineLimit(kernel));
  return firmware::linux_boot::CheckCmdlineFits(cmdline.size(), arch::x86_64::kCmdlineAreaSize,
                                                limit);
}

}  // namespace

Result<void> ValidateConfig(const VmConfig& config) {
  {
    MappedFile kernel = TRY(MappedFile::Open(config.kernel_path, "kernel image"));
    auto format = firmware::linux_boot::CheckKernelImage(kernel.bytes(), BootStructureRegions());
    if (!format.ok()) {
      return Error::Invalid("kernel image \"{}\": {}", config.kernel_path,
                            format.error().ToString());
    }
    TRY(CheckCmdline(config.cmdline, kernel.bytes()));
    if (*format == firmware::linux_boot::KernelFormat::kBzImage &&
        config.kernel_decompress == KernelDecompress::kHost) {
      const auto bz = TRY(firmware::linux_boot::ParseBzImage(kernel.bytes()));
      if (auto payload = firmware::linux_boot::CheckPayloadFormat(bz); !payload.ok()) {
        return Error::Invalid("kernel image \"{}\": {}", config.kernel_path,
                              payload.error().ToString());
      }
    }
  }
  if (config.initrd_path) TRY(CheckReadableFile(*config.initrd_path, "initrd"));
  if (config.memory_bytes < kMinMemory) {
    return Error::Invalid("--memory {} MiB is too small: a Linux guest needs at least {} MiB",
                          config.memory_bytes / kMiB, kMinMemory / kMiB);
  }
  if (config.memory_bytes % kMiB != 0) {
    return Error::Invalid("--memory must be a whole number of MiB");
  }
  TRY(ValidateDevices(config.devices));
  TRY(ValidateVfio(config));
  const uint64_t host = HostMemoryBytes();
  if (host != 0 && config.memory_bytes > host) {
    return Error::Invalid("--memory {} MiB is more than this host's {} MiB of RAM",
                          config.memory_bytes / kMiB, host / kMiB);
  }
  return {};
}

Result<HostLimits> QueryHostLimits(const VmConfig& config) {
  const kvm::Kvm kvm = TRY(kvm::Kvm::Open(config.kvm_path));
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) {
    return Error::Errno(errno, "cannot read the open-file limit");
  }
  return HostLimits{static_cast<uint32_t>(kvm.max_vcpus()), files.rlim_cur};
}

uint64_t OpenFilesNeeded(const VmConfig& config) {
  constexpr uint64_t kBase = 16;
  constexpr uint64_t kPerVcpu = 1;
  uint64_t needed = kBase + kPerVcpu * config.cpus;
  for (const DeviceRequest& device : config.devices) {
    // virtio-pci adds an eventfd per MSI-X vector (one per queue, plus one):
    // at most as many again as the device holds.
    const uint64_t transport = device.transport == VirtioTransport::kPci ? 2 : 1;
    needed += transport * device.kind->OpenFiles(*device.options);
  }
  // A passed-through function: its device, group and container fds, and up
  // to two eventfds per MSI-X vector (a KVM irqfd's and a parked one) plus
  // INTx's two; an NVMe has 65 vectors.
  constexpr uint64_t kPerVfioDevice = 140;
  needed += kPerVfioDevice * config.vfio.size();
  // The GDB stub: listening socket, one client (a second is accepted only
  // to be closed), its epoll, the stop mailbox and shutdown eventfds.
  constexpr uint64_t kGdbStub = 6;
  if (config.gdb) needed += kGdbStub;
  return needed;
}

Result<void> ValidateHostLimits(const VmConfig& config, const HostLimits& limits) {
  if (config.cpus > limits.max_vcpus) {
    return Error::Invalid("--cpus {} is more than this host's KVM supports ({})", config.cpus,
                          limits.max_vcpus);
  }
  const uint64_t needed = OpenFilesNeeded(config);
  if (needed > limits.open_files) {
    return Error::Invalid(
        "this configuration (--cpus {}, {} virtio devices) needs up to {} open files, more "
        "than this process's limit of {} (RLIMIT_NOFILE; raise it with ulimit -n)",
        config.cpus, config.devices.size(), needed, limits.open_files);
  }
  return {};
}

}  // namespace mini_vmm
