#include "vmm/machine.h"

#include <malloc.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include "arch/x86_64/irq_routing.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/long_mode.h"
#include "arch/x86_64/memory_map.h"
#include "arch/x86_64/pic.h"
#include "arch/x86_64/vcpu_setup.h"
#include "devices/virtio/blk/block_device.h"
#include "vmm/base/event_loop.h"
#include "vmm/base/format.h"
#include "vmm/base/log.h"
#include "vmm/boot_setup.h"
#include "vmm/console/terminal.h"
#include "vmm/vcpu_runner.h"

namespace mini_vmm {
namespace {

namespace x86 = arch::x86_64;

Result<kvm::Vm> CreateVm(const kvm::Kvm& kvm) {
  kvm::Vm vm = TRY(kvm.CreateVm());
  TRY(vm.SetIdentityMapAddress(x86::kIdentityMapAddress));
  TRY(vm.SetTssAddress(x86::kTssAddress));
  TRY(vm.CreateIrqchip());
  TRY(x86::ConfigurePics(vm));
  TRY(vm.SetGsiRouting(x86::LegacyIrqRoutes()));
  TRY(vm.CreatePit2());
  return vm;
}

// Signals that stop the VM cleanly are read from a signalfd on the main
// thread, so they are blocked everywhere (vCPU threads inherit the mask).
Result<UniqueFd> BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
    return Error::Invalid("cannot block termination signals");
  }
  UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd.valid()) return Error::Errno(errno, "cannot create a signalfd");
  return fd;
}

}  // namespace

Machine::Machine(const VmConfig& config, kvm::Kvm kvm, kvm::Vm vm, GuestMemory memory, EventFd stop,
                 EventFd console_room)
    : config_(config),
      kvm_(std::move(kvm)),
      vm_(std::move(vm)),
      memory_(std::move(memory)),
      stop_(std::move(stop)),
      console_room_(std::move(console_room)),
      console_output_(STDOUT_FILENO) {}

Result<std::unique_ptr<Machine>> Machine::Create(const VmConfig& config) {
  kvm::Kvm kvm = TRY(kvm::Kvm::Open(config.kvm_path));
  if (config.cpus > static_cast<uint32_t>(kvm.max_vcpus())) {
    return Error::Invalid("--cpus {} is more than this host's KVM supports ({})", config.cpus,
                          kvm.max_vcpus());
  }
  kvm::Vm vm = TRY(CreateVm(kvm));
  const auto layout = x86::RamLayout(config.memory_bytes);
  GuestMemory memory =
      TRY(GuestMemory::Create(layout, GuestMemory::Options{.hugepages = config.hugepages}));
  std::unique_ptr<Machine> machine(new Machine(config, std::move(kvm), std::move(vm),
                                               std::move(memory), TRY(EventFd::Create()),
                                               TRY(EventFd::Create())));
  TRY(machine->MapMemory());
  TRY(machine->CreateDevices());

  const BootEntry boot = TRY(SetUpLinuxBoot(machine->memory_, config, machine->DescribePlatform()));
  TRY(machine->CreateVcpus(boot.entry, boot.boot_params));
  return machine;
}

Result<void> Machine::MapMemory() {
  for (const GuestRegion& region : memory_.regions()) {
    memslots_.push_back(TRY(vm_.AddMemslot(region.start(), region.size(), region.host_address())));
  }
  return {};
}

Result<void> Machine::CreateDevices() {
  legacy_.emplace(TRY(CreateLegacyDevices(
      LegacyWiring{vm_, pio_bus_, stop_, console_output_, console_room_, config_.boot_timer})));
  virtio_.emplace(vm_, mmio_bus_, memory_);
  TRY(CreateDisks());
  return {};
}

Result<void> Machine::CreateDisks() {
  for (size_t i = 0; i < config_.disks.size(); ++i) {
    const cli::DiskConfig& disk = config_.disks[i];
    virtio::blk::DiskImage image = TRY(virtio::blk::DiskImage::Open(
        {.path = disk.path, .read_only = disk.read_only, .serial = disk.serial}));
    auto device = TRY(virtio::blk::BlockDevice::Create(std::move(image),
                                                       {.name = "virtio-blk" + std::to_string(i)}));
    TRY(virtio_->Add(std::move(device)));
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

Result<StopReason> Machine::Run() {
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
  VcpuRunner runner(VcpuRunner::Environment{pio_bus_, mmio_bus_, memory_, stop_});
  TRY(runner.Start(vcpus_));
  Result<void> served = loop.Run();
  runner.StopAll();
  if (!served.ok()) return std::move(served).error();
  return stop_.reason();
}

}  // namespace mini_vmm
