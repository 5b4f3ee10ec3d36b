#include "vmm/machine/virtio_mmio_devices.h"

#include <linux/virtio_mmio.h>

#include "arch/x86_64/platform/layout.h"
#include "arch/x86_64/platform_resources.h"
#include "vmm/base/format.h"

namespace mini_vmm {
namespace {

namespace x86 = arch::x86_64;

}  // namespace

Result<void> VirtioMmioDevices::Add(std::shared_ptr<virtio::VirtioDevice> device) {
  const std::string name(device->name());
  if (slots_.size() >= x86::kMaxVirtioMmioDevices) {
    return Error::Invalid("too many virtio devices (at most {})", x86::kMaxVirtioMmioDevices);
  }
  const uint64_t window = virtio::MmioTransport::kWindowSize;
  const uint64_t base = TRY(resources_.mmio_devices.Allocate(window, window, name));
  auto gsi = resources_.gsis.Allocate(1, 1, name);
  if (!gsi.ok()) {
    resources_.mmio_devices.Free(base);
    return std::move(gsi).error();
  }
  auto attached = Attach(std::move(device), base, static_cast<uint32_t>(*gsi));
  if (!attached.ok()) {
    // Nothing of the device stays: its registrations went with the
    // attachment; give its window and GSI back too.
    resources_.gsis.Free(*gsi);
    resources_.mmio_devices.Free(base);
    return std::move(attached).error();
  }
  slots_.push_back(Slot{base, static_cast<uint32_t>(*gsi), std::move(*attached)});
  return {};
}

Result<DeviceAttachment> VirtioMmioDevices::Attach(std::shared_ptr<virtio::VirtioDevice> device,
                                                   uint64_t base, uint32_t gsi) {
  const std::string name(device->name());
  std::vector<EventFd> queue_events;
  for (size_t q = 0; q < device->queue_max_sizes().size(); ++q) {
    queue_events.push_back(TRY(EventFd::Create()));
  }
  // Held first, so released last: the line outlives the transport's use.
  auto interrupt = std::make_unique<devices::IrqFdInterrupt>(TRY(EventFd::Create()));
  auto transport = std::make_shared<virtio::MmioTransport>(std::move(device), memory_,
                                                           std::move(queue_events), *interrupt);
  DeviceAttachment attachment(name, [transport] { transport->Shutdown(); });
  auto& line = attachment.Hold(std::move(interrupt));
  attachment.Hold(TRY(irqs_.ConnectIrqFd(line->eventfd(), gsi)));
  attachment.Hold(transport);
  const auto& events = transport->queue_events();
  for (size_t q = 0; q < events.size(); ++q) {
    attachment.Hold(
        TRY(io_events_.RegisterIoEvent(events[q], kvm::IoEventSpace::kMmio,
                                       base + VIRTIO_MMIO_QUEUE_NOTIFY, sizeof(uint32_t), q)));
  }
  attachment.Hold(TRY(mmio_bus_.Attach(transport, base, virtio::MmioTransport::kWindowSize)));
  return attachment;
}

void VirtioMmioDevices::StopAll() noexcept {
  for (Slot& slot : slots_) slot.attachment.Stop();
}

std::vector<firmware::acpi::VirtioMmioDevice> VirtioMmioDevices::AcpiDescriptions() const {
  std::vector<firmware::acpi::VirtioMmioDevice> out;
  for (const auto& slot : slots_) {
    out.push_back({slot.base, virtio::MmioTransport::kWindowSize, slot.gsi});
  }
  return out;
}

std::string VirtioMmioDevices::KernelParameters() const {
  std::string out;
  for (const auto& slot : slots_) {
    if (!out.empty()) out += ' ';
    out += Format("virtio_mmio.device={}K@{:#x}:{}", virtio::MmioTransport::kWindowSize >> 10,
                  slot.base, slot.gsi);
  }
  return out;
}

bool HasKernelParameter(std::string_view cmdline, std::string_view param) {
  size_t pos = 0;
  while ((pos = cmdline.find(param, pos)) != std::string_view::npos) {
    const bool starts = pos == 0 || cmdline[pos - 1] == ' ';
    const size_t end = pos + param.size();
    const bool ends = end == cmdline.size() || cmdline[end] == ' ';
    if (starts && ends) return true;
    pos = end;
  }
  return false;
}

}  // namespace mini_vmm
