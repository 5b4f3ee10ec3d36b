// Machine: one running mini-vmm guest. Create() builds everything from a
// validated VmConfig (KVM VM, guest RAM, devices, firmware, vCPUs); Run()
// starts the vCPU threads, serves the console on this thread, and returns
// why the guest stopped once every vCPU thread has been joined.
//
//   auto machine = TRY(Machine::Create(config));
//   StopReason why = TRY(machine->Run());
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "arch/x86_64/irq_routing.h"
#include "arch/x86_64/platform/layout.h"
#include "arch/x86_64/platform_resources.h"
#include "devices/bus/bus.h"
#include "vmm/base/event_fd.h"
#include "vmm/base/result.h"
#include "vmm/config/config.h"
#include "vmm/console/console_output.h"
#include "vmm/console/stdio_console.h"
#include "vmm/kvm/interrupt_router.h"
#include "vmm/kvm/kvm.h"
#include "vmm/kvm/memslot_sync.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/kvm/vm.h"
#include "vmm/machine/boot_setup.h"
#include "vmm/machine/legacy_devices.h"
#include "vmm/machine/pci_devices.h"
#include "vmm/machine/vfio_devices.h"
#include "vmm/machine/vfio_host.h"
#include "vmm/machine/virtio_mmio_devices.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/memory/memory_map.h"
#include "vmm/runtime/stop_signal.h"

namespace mini_vmm {

namespace gdb {
class GdbServer;
}

class Machine {
 public:
  // `config` must have passed ValidateConfig().
  static Result<std::unique_ptr<Machine>> Create(const VmConfig& config);

  // MSI routes get GSIs above the IOAPIC's pins, below this bound (KVM
  // allows 4096 routes on x86; a thousand vectors is plenty for now).
  static constexpr uint32_t kMaxMsiGsi = 1024;

  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;
  // Stops every device (threads joined) before any member goes.
  ~Machine();

  // With `gdb` (listening, owned by the caller), the GDB stub serves the
  // guest while it runs, and config.gdb_wait holds the vCPUs until gdb
  // resumes them.
  Result<StopReason> Run(gdb::GdbServer* gdb = nullptr);
  std::string stop_detail() const { return stop_.detail(); }

 private:
  Machine(const VmConfig& config, kvm::Kvm kvm, kvm::Vm vm, GuestMemory memory, EventFd stop,
          EventFd console_room, std::unique_ptr<VfioHost> vfio_host);

  Result<void> MapMemory();
  Result<void> CreateDevices();
  Result<void> CreateVirtioDevices();
  Result<void> CreateVfioDevices();
  PlatformDescription DescribePlatform() const;
  Result<void> CreateVcpus(uint64_t entry, uint64_t boot_params);
  // Logs (info) how much of guest RAM the host backed, and with huge pages.
  void ReportRamResidency() const;

  VmConfig config_;
  kvm::Kvm kvm_;
  kvm::Vm vm_;
  // Owns KVM's GSI routing table; every irqfd is connected through it.
  kvm::InterruptRouter irqs_{vm_,
                             arch::x86_64::LegacyIrqRoutes(),
                             {.first = arch::x86_64::kIoapicPins, .end = kMaxMsiGsi}};
  GuestMemory memory_;
  // Guest-physical regions and who follows them; after memory_, so KVM
  // forgets the slots before the mappings go.
  MemoryMap memory_map_;
  kvm::MemslotSync memslots_{vm_};
  // --vfio: container, groups, devices and their DMA mappings (following
  // memory_map_, removed from it in ~Machine); after memory_, so DMA is
  // unmapped before guest RAM.
  std::unique_ptr<VfioHost> vfio_host_;
  arch::x86_64::PlatformResources resources_;
  devices::Bus pio_bus_{"port I/O"};
  devices::Bus mmio_bus_{"MMIO"};
  StopSignal stop_;
  EventFd console_room_;
  console::ConsoleOutput console_output_;
  std::optional<LegacyDevices> legacy_;
  // After memory_: device I/O threads stop before guest RAM is unmapped.
  std::optional<VirtioMmioDevices> virtio_;
  std::optional<PciDevices> pci_;
  std::optional<VfioDevices> vfio_;
  std::vector<kvm::Vcpu> vcpus_;
};

}  // namespace mini_vmm
