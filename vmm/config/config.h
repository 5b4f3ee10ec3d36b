// VmConfig: everything the user asked for, validated once before any KVM
// call (STYLE.md: CLI -> VmConfig -> VmBuilder).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vmm/base/log.h"
#include "vmm/base/result.h"
#include "vmm/config/device_kinds.h"
#include "vmm/gdb/listen_address.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm {

// Who decompresses a bzImage's payload (--kernel-decompress). kHost
// decompresses it in mini-vmm (cached, see vmm/image_cache) and enters the
// vmlinux at its 64-bit entry: faster, but without KASLR, which the
// in-guest decompressor provides. kGuest enters the bzImage's own
// decompressor. An ELF vmlinux is loaded as it is either way.
enum class KernelDecompress { kHost, kGuest };

struct VmConfig {
  std::string kernel_path;
  std::optional<std::string> initrd_path;
  KernelDecompress kernel_decompress = KernelDecompress::kHost;
  std::string cmdline = "console=ttyS0 reboot=k panic=-1";
  uint32_t cpus = 1;
  uint64_t memory_bytes = 512ull << 20;
  GuestMemory::Backing memory_backing = GuestMemory::Backing::kPrivate;
  // Transparent huge page advice and 2 MiB alignment (not for hugetlbfs).
  bool hugepages = true;
  // Print the boot-marker time even when the log level hides info lines.
  bool boot_timer = false;
  LogLevel log_level = LogLevel::kWarn;
  std::string kvm_path = "/dev/kvm";
  // virtio devices (--disk, ...), by kind in DeviceKinds() order, then in
  // the order given (the guest sees vda, vdb, ... in that order).
  std::vector<DeviceRequest> devices;
  // --vfio BDF: host PCI functions (bound to vfio-pci) passed through to
  // the guest, as the user spelled them; on PCI bus 0 after the virtio-pci
  // functions, in this order.
  std::vector<std::string> vfio;
  // --gdb [ADDRESS:]PORT: serve the GDB remote protocol there.
  std::optional<gdb::ListenAddress> gdb;
  // --gdb-wait: hold every vCPU before its first instruction until gdb
  // resumes the guest (needs --gdb).
  bool gdb_wait = false;
};

// Checks everything that can be checked before creating the VM: the files
// exist and are readable regular files (never waiting on a FIFO), each
// device kind accepts its instances, the devices fit the platform's
// virtio-mmio slots, the memory size is sane for this
// host. Errors are one sentence naming the offending value.
Result<void> ValidateConfig(const VmConfig& config);

// What this host allows, queried before anything is created.
struct HostLimits {
  uint32_t max_vcpus = 0;   // KVM_CAP_MAX_VCPUS.
  uint64_t open_files = 0;  // RLIMIT_NOFILE, soft limit.
};

// Opens the KVM device only to ask it (nothing is created); reads rlimits.
Result<HostLimits> QueryHostLimits(const VmConfig& config);

// File descriptors mini-vmm holds at most while running `config`: a base
// (stdio, KVM, VM, eventfds, signalfd, epoll, image files while loading),
// one per vCPU, and what each device's kind says it holds.
uint64_t OpenFilesNeeded(const VmConfig& config);

// Refuses a configuration this host cannot hold (too many vCPUs for KVM,
// too few open files allowed). Like ValidateConfig, a usage error.
Result<void> ValidateHostLimits(const VmConfig& config, const HostLimits& limits);

}  // namespace mini_vmm
