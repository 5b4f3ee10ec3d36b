// The PC legacy devices of every mini-vmm guest, wired to the port I/O bus
// and to KVM: COM1 (IRQ 4 through an irqfd), the i8042 reset line, the
// reset control register (port 0xCF9), the CMOS RTC, the ACPI power device
// and the boot-marker port.
#pragma once

#include <memory>
#include <optional>

#include "devices/bus/bus.h"
#include "devices/bus/interrupt.h"
#include "devices/legacy/acpi_pm.h"
#include "devices/legacy/boot_marker.h"
#include "devices/legacy/i8042.h"
#include "devices/legacy/reset_control.h"
#include "devices/legacy/rtc.h"
#include "devices/legacy/serial.h"
#include "vmm/base/event_fd.h"
#include "vmm/base/result.h"
#include "vmm/config/config.h"
#include "vmm/kvm/interrupt_router.h"
#include "vmm/runtime/stop_signal.h"

namespace mini_vmm {

struct LegacyDevices {
  // Declaration order is destruction order in reverse: the irqfd goes
  // before the eventfd it refers to, devices before their interrupt.
  std::unique_ptr<devices::IrqFdInterrupt> serial_interrupt;
  std::optional<kvm::IrqFd> serial_irqfd;
  std::shared_ptr<devices::Serial> serial;
  std::shared_ptr<devices::I8042> i8042;
  std::shared_ptr<devices::ResetControl> reset_control;
  std::shared_ptr<devices::Rtc> rtc;
  std::shared_ptr<devices::AcpiPm> acpi_pm;
  std::shared_ptr<devices::BootMarker> boot_marker;
};

struct LegacyWiring {
  kvm::InterruptRouter& irqs;
  devices::Bus& pio;
  StopSignal& stop;
  devices::ByteSink& console_output;
  const EventFd& console_room;  // Signalled when the UART has room for input.
  bool boot_timer;              // Print the boot-marker time regardless of log level.
};

Result<LegacyDevices> CreateLegacyDevices(const LegacyWiring& wiring);

}  // namespace mini_vmm
