#include "vmm/machine/machine.h"

#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "arch/x86_64/irq_routing.h"
#include "arch/x86_64/long_mode.h"
#include "arch/x86_64/memory_map.h"
#include "arch/x86_64/pic.h"
#include "arch/x86_64/platform/layout.h"
#include "arch/x86_64/vcpu_setup.h"
#include "vmm/base/event_loop.h"
#include "vmm/base/format.h"
#include "vmm/base/log.h"
#include "vmm/console/terminal.h"
#include "vmm/gdb/kvm/kvm_target.h"
#include "vmm/gdb/server.h"
#include "vmm/gdb/stop_mailbox.h"
#include "vmm/machine/boot_setup.h"
#include "vmm/runtime/process_signals.h"
#include "vmm/runtime/vcpu_runner.h"

namespace mini_vmm {
namespace {

namespace x86 = arch::x86_64;

Result<kvm::Vm> CreateVm(const kvm::Kvm& kvm) {
  kvm::Vm vm = TRY(kvm.CreateVm());
  TRY(vm.SetIdentityMapAddress(x86::kIdentityMapAddress));
  TRY(vm.SetTssAddress(x86::kTssAddress));
  TRY(vm.CreateIrqchip());
  TRY(x86::ConfigurePics(vm));
  TRY(vm.CreatePit2());
  return vm;
}

// Signals that stop the VM cleanly are read from a signalfd on the main
// thread; main() blocked them in every thread (vmm/process_signals.h).
Result<UniqueFd> BlockTerminationSignals() {
  const sigset_t set = TerminationSignals();
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
    return Error::Invalid("cannot block termination signals");
  }
  UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd.valid()) return Error::Errno(errno, "cannot create a signalfd");
  return fd;
}

// Only when stderr can take the line without blocking: it may be the same
// stalled pipe as stdout, and stopping must not wait for its reader.
void ReportDroppedOutput(uint64_t dropped) {
  if (dropped == 0) return;
  pollfd stderr_fd{.fd = STDERR_FILENO, .events = POLLOUT, .revents = 0};
  if (::poll(&stderr_fd, 1, 0) != 1 || (stderr_fd.revents & POLLOUT) == 0) return;
  LOG_WARN("{} bytes of guest console output were dropped: stdout was full or closed", dropped);
}

}  // namespace

Machine::Machine(const VmConfig& config, kvm::Kvm kvm, kvm::Vm vm, GuestMemory memory, EventFd stop,
                 EventFd console_room, std::unique_ptr<VfioHost> vfio_host)
    : config_(config),
      kvm_(std::move(kvm)),
      vm_(std::move(vm)),
      memory_(std::move(memory)),
      vfio_host_(std::move(vfio_host)),
      resources_(arch::x86_64::CreatePlatformResources(config.memory_bytes)),
      stop_(std::move(stop)),
      console_room_(std::move(console_room)),
      console_output_(STDOUT_FILENO) {}

Machine::~Machine() {
  // Members go in reverse declaration order, but a device thread may still
  // complete a request and raise its interrupt: stop them all first.
  if (vfio_) vfio_->StopAll();
  if (pci_) pci_->StopAll();
  if (virtio_) virtio_->StopAll();
  if (vfio_host_) memory_map_.RemoveListener(&vfio_host_->dma());
}

Result<std::unique_ptr<Machine>> Machine::Create(const VmConfig& config) {
  // Passed-through devices first: their errors come before any VM exists.
  std::unique_ptr<VfioHost> vfio_host;
  if (!config.vfio.empty()) {
    vfio_host = TRY(VfioHost::Open(config.vfio, x86::RamLayout(config.memory_bytes), {}));
  }
  kvm::Kvm kvm = TRY(kvm::Kvm::Open(config.kvm_path));
  if (config.cpus > static_cast<uint32_t>(kvm.max_vcpus())) {
    return Error::Invalid("--cpus {} is more than this host's KVM supports ({})", config.cpus,
                          kvm.max_vcpus());
  }
  kvm::Vm vm = TRY(CreateVm(kvm));
  const auto layout = x86::RamLayout(config.memory_bytes);
  GuestMemory memory =
      TRY(GuestMemory::Create(layout, GuestMemory::Options{.backing = config.memory_backing,
                                                           .hugepages = config.hugepages}));
  std::unique_ptr<Machine> machine(new Machine(config, std::move(kvm), std::move(vm),
                                               std::move(memory), TRY(EventFd::Create()),
                                               TRY(EventFd::Create()), std::move(vfio_host)));
  // The router replaces KVM's default routing with the platform's pins.
  TRY(machine->irqs_.CommitFixed());
  TRY(machine->MapMemory());
  TRY(machine->CreateDevices());

  const BootEntry boot = TRY(SetUpLinuxBoot(machine->memory_, config, machine->DescribePlatform()));
  TRY(machine->CreateVcpus(boot.entry, boot.boot_params));
  return machine;
}

Result<void> Machine::MapMemory() {
  TRY(memory_map_.AddListener(&memslots_));
  for (const GuestRegion& region : memory_.regions()) {
    TRY(memory_map_.Add(
        {.start = region.start(), .size = region.size(), .host = region.host_address()}));
  }
  if (vfio_host_) {
    // Every RAM region DMA-mapped for the devices, and kept so.
    if (auto mapped = memory_map_.AddListener(&vfio_host_->dma()); !mapped.ok()) {
      return Error::Invalid("--vfio {}: {}", vfio_host_->first(), mapped.error().ToString());
    }
  }
  return {};
}

Result<void> Machine::CreateDevices() {
  legacy_.emplace(TRY(CreateLegacyDevices(
      LegacyWiring{irqs_, pio_bus_, stop_, console_output_, console_room_, config_.boot_timer})));
  virtio_.emplace(vm_, irqs_, mmio_bus_, memory_, resources_);
  // Every machine has PCI bus 0 (the host bridge), whether or not a device
  // sits on it: guests expect a PC to have one.
  pci_.emplace(vm_, irqs_, mmio_bus_, pio_bus_, memory_, resources_);
  TRY(pci_->AttachRootBus(legacy_->reset_control));
  TRY(CreateVirtioDevices());
  TRY(CreateVfioDevices());
  return {};
}

Result<void> Machine::CreateVfioDevices() {
  if (!vfio_host_) return {};
  vfio_.emplace(VfioWiring{.pci = *pci_,
                           .irqs = irqs_,
                           .mmio_bus = mmio_bus_,
                           .pio_bus = pio_bus_,
                           .memory_map = memory_map_,
                           .resources = resources_});
  for (auto& device : vfio_host_->devices()) TRY(vfio_->Add(*device));
  return {};
}

Result<void> Machine::CreateVirtioDevices() {
  // Instances are numbered per kind (virtio-blk0, virtio-blk1, ...).
  std::map<const virtio::DeviceKind*, size_t> count;
  for (const DeviceRequest& request : config_.devices) {
    auto device = TRY(request.kind->Create(*request.options, count[request.kind]++));
    if (request.transport == VirtioTransport::kPci) {
      TRY(pci_->Add(std::move(device)));
    } else {
      TRY(virtio_->Add(std::move(device)));
    }
  }
  return {};
}

PlatformDescription Machine::DescribePlatform() const {
  PlatformDescription platform;
  platform.cmdline = config_.cmdline;
  // Without ACPI there is no DSDT to announce virtio-mmio devices in; kernels
  // built with VIRTIO_MMIO_CMDLINE_DEVICES take them from the command line
  // (QEMU microvm does the same). With ACPI they would be announced twice.
  const std::string mmio = virtio_->KernelParameters();
  if (!mmio.empty() && HasKernelParameter(config_.cmdline, "acpi=off")) {
    platform.cmdline += " " + mmio;
  }
  platform.num_cpus = config_.cpus;
  // The IOAPIC's ID follows the CPUs' APIC IDs, as on real boards.
  platform.ioapic_id = static_cast<uint8_t>(config_.cpus);
  platform.virtio_mmio = virtio_->AcpiDescriptions();
  platform.pci = pci_->AcpiDescription();
  return platform;
}

Result<void> Machine::CreateVcpus(uint64_t entry, uint64_t boot_params) {
  const auto cpuid = TRY(kvm_.GetSupportedCpuid());
  const auto msrs = TRY(kvm_.GetMsrIndexList());
  const bool tsc_deadline = kvm_.CheckExtension(KVM_CAP_TSC_DEADLINE_TIMER) > 0;
  vcpus_.reserve(config_.cpus);
  for (uint32_t i = 0; i < config_.cpus; ++i) {
    kvm::Vcpu vcpu = TRY(vm_.CreateVcpu(i));
    TRY(x86::ConfigureVcpu(vcpu, x86::VcpuSetup{.index = i,
                                                .num_cpus = config_.cpus,
                                                .supported_cpuid = cpuid,
                                                .supported_msrs = msrs,
                                                .tsc_deadline = tsc_deadline}));
    // Only the boot CPU starts running; KVM keeps the others waiting for
    // the guest's INIT/SIPI.
    if (i == 0) TRY(x86::EnterLongMode(vcpu, entry, boot_params));
    vcpus_.push_back(std::move(vcpu));
  }
  return {};
}

void Machine::ReportRamResidency() const {
  auto residency = memory_.MeasureResidency();
  if (!residency.ok()) {
    LOG_DEBUG("{}", residency.error().ToString());
    return;
  }
  const uint64_t resident = residency->resident_bytes;
  LOG_INFO("guest RAM: {} of {} MiB resident, {} MiB of it ({}%) on huge pages", resident >> 20,
           memory_.total_size() >> 20, residency->huge_bytes >> 20,
           resident == 0 ? 0 : residency->huge_bytes * 100 / resident);
}

Result<StopReason> Machine::Run(gdb::GdbServer* gdb) {
  UniqueFd signals = TRY(BlockTerminationSignals());
  console::RawTerminal terminal = TRY(console::RawTerminal::Enter(STDIN_FILENO));
  EventLoop loop = TRY(EventLoop::Create());
  TRY(loop.Add(stop_.event().fd(), [&loop] { loop.Quit(); }));
  TRY(loop.Add(signals.get(), [this, &signals] {
    signalfd_siginfo info{};
    if (::read(signals.get(), &info, sizeof(info)) == sizeof(info)) {
      stop_.Request(StopReason::kUserQuit, Format("signal {}", info.ssi_signo));
    }
  }));
  console::StdioConsole console(STDIN_FILENO, *legacy_->serial, console_room_, stop_);
  TRY(console.Attach(loop));

  // Building the VM (parsing, ACPI and boot tables, loading images) left
  // free heap pages behind; give them back before the VM settles in.
  ::malloc_trim(0);
  // The GDB stub's target; debug exits reach it on the vCPU threads.
  std::optional<gdb::StopMailbox> gdb_stops;
  std::optional<gdb::KvmTarget> gdb_target;
  std::function<void(uint32_t, const kvm::DebugExit&)> on_debug;
  if (gdb != nullptr) {
    gdb_stops.emplace(TRY(EventFd::Create()));
    gdb_target.emplace(vcpus_, memory_, stop_, *gdb_stops);
    on_debug = [&gdb_target](uint32_t vcpu, const kvm::DebugExit& exit) {
      gdb_target->OnDebugExit(vcpu, exit);
    };
  }
  VcpuRunner runner(VcpuRunner::Environment{pio_bus_, mmio_bus_, memory_, stop_, on_debug});
  if (gdb_target) gdb_target->SetRunner(runner);
  TRY(console_output_.Start());
  std::vector<std::unique_ptr<RunnableVcpu>> runnable;
  for (kvm::Vcpu& vcpu : vcpus_) runnable.push_back(std::make_unique<KvmVcpu>(vcpu));
  TRY(runner.Start(std::move(runnable), gdb != nullptr && config_.gdb_wait));
  if (gdb != nullptr) {
    TRY(gdb->Start(*gdb_target, *gdb_stops));
    if (config_.gdb_wait) {
      LOG_WARN("gdb: the guest waits for gdb on {}", gdb->address().ToString());
    }
  }
  Result<void> served = loop.Run();
  if (gdb != nullptr) {
    runner.ReleasePaused();  // A stub blocked in PauseAll() returns ...
    gdb->Stop();             // ... so its thread can be joined.
  }
  runner.StopAll();
  ReportDroppedOutput(console_output_.Stop());
  ReportRamResidency();
  if (!served.ok()) return std::move(served).error();
  return stop_.reason();
}

}  // namespace mini_vmm
