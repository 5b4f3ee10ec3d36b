#include "vmm/machine/pci_devices.h"

#include <string>
#include <utility>

#include "arch/x86_64/platform/layout.h"
#include "devices/pci/config_access.h"
#include "devices/pci/intx.h"
#include "devices/virtio/transport/pci.h"
#include "vmm/base/log.h"

namespace mini_vmm {
namespace {

namespace x86 = arch::x86_64;
using virtio::VirtioPciTransport;

// Ports 0xcf8-0xcff: PCI configuration mechanism #1, except that a byte
// access to 0xcf9 is the chipset's reset control register (as on a PC's
// PIIX/ICH, where the two share the range).
class ConfigPortsWithResetControl final : public devices::BusDevice {
 public:
  ConfigPortsWithResetControl(std::shared_ptr<pci::PciConfigIo> config,
                              std::shared_ptr<devices::BusDevice> reset_control)
      : config_(std::move(config)), reset_control_(std::move(reset_control)) {}
  std::string_view name() const override { return "pci-config-io"; }
  void Read(const devices::IoAccess& access, std::span<uint8_t> data) noexcept override {
    Target(access, data.size()).Read(Narrow(access), data);
  }
  void Write(const devices::IoAccess& access, std::span<const uint8_t> data) noexcept override {
    Target(access, data.size()).Write(Narrow(access), data);
  }

 private:
  static constexpr uint64_t kResetOffset = x86::kResetControlPort - x86::kPciConfigAddressPort;
  static bool IsReset(const devices::IoAccess& access, size_t size) {
    return access.offset == kResetOffset && size == 1;
  }
  devices::BusDevice& Target(const devices::IoAccess& access, size_t size) const {
    if (IsReset(access, size)) return *reset_control_;
    return *config_;
  }
  // The reset register is a one-port device: offset 0 of its own range.
  devices::IoAccess Narrow(const devices::IoAccess& access) const {
    devices::IoAccess narrowed = access;
    if (access.offset == kResetOffset) narrowed.offset = 0;
    return narrowed;
  }

  std::shared_ptr<pci::PciConfigIo> config_;
  std::shared_ptr<devices::BusDevice> reset_control_;
};
static_assert(x86::kResetControlPort > x86::kPciConfigAddressPort &&
              x86::kResetControlPort < x86::kPciConfigAddressPort + pci::PciConfigIo::kPortCount);

// Keeps BAR 0 of one function where the guest put it: on the MMIO bus, with
// a KVM ioeventfd on each queue's doorbell. Runs on the vCPU thread that
// wrote the BAR or the command register.
class BarMapper final : public pci::BarObserver {
 public:
  BarMapper(std::string name, devices::Bus& mmio_bus, kvm::IoEvents& io_events,
            std::shared_ptr<VirtioPciTransport> transport)
      : name_(std::move(name)),
        mmio_bus_(mmio_bus),
        io_events_(io_events),
        transport_(std::move(transport)) {}

  void BarMoved(int bar, std::optional<uint64_t> old_address,
                std::optional<uint64_t> new_address) noexcept override {
    if (bar != VirtioPciTransport::kBar) return;
    Unmap();
    if (!new_address) return;
    auto mapped = Map(*new_address);
    if (!mapped.ok()) {
      // The BAR stays unmapped (accesses fault as unassigned MMIO); the
      // guest put it over something else.
      Unmap();
      LOG_WARN_RATELIMITED("{}: BAR 0 at {:#x} (from {:#x}) not mapped: {}", name_, *new_address,
                           old_address.value_or(0), mapped.error().ToString());
    }
  }

  // Drops the BAR's range and doorbells (teardown, or before a move).
  void Unmap() noexcept {
    doorbells_.clear();
    range_.reset();
  }

 private:
  Result<void> Map(uint64_t base) {
    range_.emplace(TRY(mmio_bus_.Attach(transport_, base, VirtioPciTransport::kBarSize)));
    const auto& events = transport_->queue_events();
    for (const VirtioPciTransport::Doorbell& d : transport_->doorbells()) {
      // Linux's vp_notify writes the queue index, 16 bits, at the queue's
      // own address.
      doorbells_.push_back(TRY(io_events_.RegisterIoEvent(
          events[d.queue], kvm::IoEventSpace::kMmio, base + d.offset, sizeof(uint16_t), d.queue)));
    }
    return {};
  }

  const std::string name_;
  devices::Bus& mmio_bus_;
  kvm::IoEvents& io_events_;
  std::shared_ptr<VirtioPciTransport> transport_;
  std::optional<devices::BusRegistration> range_;
  std::vector<kvm::IoEventFd> doorbells_;
};

}  // namespace

PciDevices::PciDevices(kvm::IoEvents& io_events, kvm::InterruptRouter& irqs, devices::Bus& mmio_bus,
                       devices::Bus& pio_bus, const GuestMemory& memory,
                       arch::x86_64::PlatformResources& resources)
    : io_events_(io_events),
      irqs_(irqs),
      mmio_bus_(mmio_bus),
      pio_bus_(pio_bus),
      memory_(memory),
      resources_(resources),
      root_(std::make_shared<pci::PciRootBus>()),
      intx_(irqs, x86::kPciIntxGsis) {}

Result<void> PciDevices::AttachRootBus(std::shared_ptr<devices::BusDevice> reset_control) {
  static_assert(pci::PciEcam::kWindowSize == x86::kPciEcamSize);
  ecam_.emplace(TRY(mmio_bus_.Attach(std::make_shared<pci::PciEcam>(root_), x86::kPciEcamBase,
                                     pci::PciEcam::kWindowSize)));
  auto ports = std::make_shared<ConfigPortsWithResetControl>(
      std::make_shared<pci::PciConfigIo>(root_), std::move(reset_control));
  config_ports_.emplace(TRY(
      pio_bus_.Attach(std::move(ports), x86::kPciConfigAddressPort, pci::PciConfigIo::kPortCount)));
  return {};
}

Result<void> PciDevices::Add(std::shared_ptr<virtio::VirtioDevice> device) {
  const std::string name(device->name());
  const size_t num_queues = device->queue_max_sizes().size();
  if (num_queues > VirtioPciTransport::kMaxQueues) {
    return Error::Invalid("{} has {} queues; virtio-pci takes at most {}", name, num_queues,
                          VirtioPciTransport::kMaxQueues);
  }
  std::vector<EventFd> queue_events;
  for (size_t q = 0; q < num_queues; ++q) queue_events.push_back(TRY(EventFd::Create()));

  // Held first, so released last: the interrupt objects outlive the
  // transport's use of them.
  auto msi = std::make_unique<MsiVectors>(name, irqs_, static_cast<uint16_t>(num_queues + 1));
  auto intx = std::make_unique<IntxPin>(intx_);
  auto transport = std::make_shared<VirtioPciTransport>(std::move(device), memory_,
                                                        std::move(queue_events), *msi, *intx);
  VMM_CHECK(transport->num_msix_vectors() == num_queues + 1);
  auto mapper = std::make_shared<BarMapper>(name, mmio_bus_, io_events_, transport);
  DeviceAttachment attachment(name, [transport, mapper] {
    transport->Shutdown();
    transport->set_bar_observer(nullptr);
    mapper->Unmap();
  });
  IntxPin& pin = *attachment.Hold(std::move(intx));
  attachment.Hold(std::move(msi));
  attachment.Hold(transport);
  attachment.Hold(mapper);

  const uint64_t bar = TRY(resources_.pci_mmio32.Allocate(VirtioPciTransport::kBarSize,
                                                          VirtioPciTransport::kBarSize, name));
  auto slot = root_->Add(transport);
  if (!slot.ok()) {
    resources_.pci_mmio32.Free(bar);
    return std::move(slot).error();
  }
  pin.Bind(pci::SwizzleIntxPin(*slot, 1));
  transport->set_bar_observer(mapper.get());
  transport->AssignBar(bar);
  LOG_INFO("{}: virtio-pci at 00:{:02x}.0, BAR 0 at {:#x}, INTA# on GSI {}", name, *slot, bar,
           intx_.gsi(pci::SwizzleIntxPin(*slot, 1)));
  functions_.push_back(std::move(attachment));
  return {};
}

void PciDevices::StopAll() noexcept {
  for (DeviceAttachment& f : functions_) f.Stop();
}

firmware::acpi::PciHostBridge PciDevices::AcpiDescription() const {
  firmware::acpi::PciHostBridge bridge;
  bridge.mmio64_base = resources_.pci_mmio64.base();
  bridge.mmio64_size = resources_.pci_mmio64.end() - resources_.pci_mmio64.base();
  return bridge;
}

}  // namespace mini_vmm
