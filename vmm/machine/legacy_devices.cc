#include "vmm/machine/legacy_devices.h"

#include <cstdio>

#include "arch/x86_64/platform/layout.h"
#include "vmm/base/format.h"
#include "vmm/base/log.h"

namespace mini_vmm {
namespace {

// The firmware describes these ranges from the platform layout; the models
// decode exactly that many ports.
static_assert(devices::Serial::kPortCount == arch::x86_64::kCom1PortCount);
static_assert(devices::Rtc::kPortCount == arch::x86_64::kRtcPortCount);
static_assert(devices::AcpiPm::kPortCount == arch::x86_64::kAcpiPmPortCount);

void ReportBootMarker(bool boot_timer) {
  const auto elapsed = log::SinceProcessStart();
  const double ms = static_cast<double>(elapsed.count()) / 1e6;
  if (boot_timer) {
    // --boot-timer output is for scripts: one fixed-format line on stderr.
    std::fputs(Format("mini-vmm: guest boot marker after {:.1f} ms\n", ms).c_str(), stderr);
  } else {
    LOG_INFO("guest boot marker after {:.1f} ms", ms);
  }
}

Result<void> CreateSerial(const LegacyWiring& w, LegacyDevices& d) {
  EventFd irq = TRY(EventFd::Create());
  d.serial_interrupt = std::make_unique<devices::IrqFdInterrupt>(std::move(irq));
  d.serial_irqfd.emplace(
      TRY(w.irqs.ConnectIrqFd(d.serial_interrupt->eventfd(), arch::x86_64::kSerialGsi)));
  const EventFd* room = &w.console_room;
  d.serial = std::make_shared<devices::Serial>(*d.serial_interrupt, w.console_output,
                                               [room] { room->Signal(); });
  TRY(w.pio.Insert(d.serial, arch::x86_64::kCom1Port, devices::Serial::kPortCount));
  return {};
}

}  // namespace

Result<LegacyDevices> CreateLegacyDevices(const LegacyWiring& w) {
  LegacyDevices d;
  TRY(CreateSerial(w, d));

  // Each stop says which device asked: mini-vmm logs it at info level.
  StopSignal* stop = &w.stop;
  d.i8042 = std::make_shared<devices::I8042>(
      [stop] { stop->Request(StopReason::kReset, "i8042 reset line"); });
  TRY(w.pio.Insert(d.i8042, devices::I8042::kDataPort, 1));
  TRY(w.pio.Insert(d.i8042, devices::I8042::kCommandPort, 1));

  // Linux's reboot=pci, and the reset-vector stub (arch/x86_64/reset_vector.h).
  // Port 0xcf9 lies inside the PCI configuration ports: PciDevices puts it
  // on the bus with them.
  d.reset_control = std::make_shared<devices::ResetControl>(
      [stop] { stop->Request(StopReason::kReset, "reset control register, port 0xcf9"); });

  d.rtc = std::make_shared<devices::Rtc>();
  TRY(w.pio.Insert(d.rtc, arch::x86_64::kRtcPort, devices::Rtc::kPortCount));

  d.acpi_pm = std::make_shared<devices::AcpiPm>(
      [stop] { stop->Request(StopReason::kPowerOff, "ACPI S5"); },
      [stop] { stop->Request(StopReason::kReset, "ACPI reset register"); });
  TRY(w.pio.Insert(d.acpi_pm, arch::x86_64::kAcpiPmPort, devices::AcpiPm::kPortCount));

  const bool boot_timer = w.boot_timer;
  d.boot_marker =
      std::make_shared<devices::BootMarker>([boot_timer] { ReportBootMarker(boot_timer); });
  TRY(w.pio.Insert(d.boot_marker, arch::x86_64::kBootMarkerPort, 1));
  return d;
}

}  // namespace mini_vmm
