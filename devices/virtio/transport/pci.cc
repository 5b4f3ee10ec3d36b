#include "devices/virtio/transport/pci.h"

#include <linux/pci_regs.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>

#include "vmm/base/check.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio {
namespace {

using Transport = VirtioPciTransport;

// struct virtio_pci_common_cfg ends at queue_reset (virtio 1.2 §4.1.4.3).
constexpr uint64_t kCommonSize = VIRTIO_PCI_COMMON_Q_RESET + 2;
constexpr uint64_t kIsrSize = 1;

bool Inside(uint64_t offset, size_t size, uint64_t base, uint64_t length) {
  return offset >= base && offset - base < length && size <= length - (offset - base);
}

// The width of the common configuration field starting at `offset`, or 0
// if none starts there. §4.1.3.1: the driver accesses each field with its
// own width (64-bit fields as two 32-bit halves).
size_t CommonFieldWidth(uint64_t offset) {
  switch (offset) {
    case VIRTIO_PCI_COMMON_STATUS:
    case VIRTIO_PCI_COMMON_CFGGENERATION:
      return 1;
    case VIRTIO_PCI_COMMON_MSIX:
    case VIRTIO_PCI_COMMON_NUMQ:
    case VIRTIO_PCI_COMMON_Q_SELECT:
    case VIRTIO_PCI_COMMON_Q_SIZE:
    case VIRTIO_PCI_COMMON_Q_MSIX:
    case VIRTIO_PCI_COMMON_Q_ENABLE:
    case VIRTIO_PCI_COMMON_Q_NOFF:
    case VIRTIO_PCI_COMMON_Q_NDATA:
    case VIRTIO_PCI_COMMON_Q_RESET:
      return 2;
    case VIRTIO_PCI_COMMON_DFSELECT:
    case VIRTIO_PCI_COMMON_DF:
    case VIRTIO_PCI_COMMON_GFSELECT:
    case VIRTIO_PCI_COMMON_GF:
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_DESCHI:
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
    case VIRTIO_PCI_COMMON_Q_USEDLO:
    case VIRTIO_PCI_COMMON_Q_USEDHI:
      return 4;
    default:
      return 0;
  }
}

// PCI class codes by device type; drivers match on vendor/device, so this
// only helps lspci and humans.
uint32_t ClassCode(uint32_t type) {
  switch (type) {
    case VIRTIO_ID_NET:
      return 0x020000;  // Network controller, Ethernet.
    case VIRTIO_ID_BLOCK:
      return 0x018000;  // Mass storage controller, other.
    case VIRTIO_ID_CONSOLE:
      return 0x078000;  // Communication controller, other.
    default:
      return 0xff0000;  // Unassigned class.
  }
}

pci::PciHeader MakeHeader(const VirtioDevice& device) {
  const uint32_t type = device.device_type();
  return pci::PciHeader{
      .vendor_id = Transport::kVendorId,
      .device_id = static_cast<uint16_t>(Transport::kModernDeviceBase + type),
      .class_code = ClassCode(type),
      .revision = 1,  // §4.1.2.1: non-transitional devices SHOULD have revision 1 or more.
      .subsystem_vendor_id = Transport::kVendorId,
      // §4.1.2.1 leaves it free for non-transitional devices; the device
      // type, as transitional ones have it, tells lspci users something.
      .subsystem_id = static_cast<uint16_t>(type),
      .interrupt_pin = 1,  // INTA#
  };
}

// The bytes of a virtio capability after cap_vndr and cap_next.
template <typename Cap>
std::span<const uint8_t> Body(const Cap& cap) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&cap), sizeof(cap))
      .subspan(VIRTIO_PCI_CAP_LEN);
}

virtio_pci_cap MakeCap(uint8_t type, uint64_t offset, uint64_t length, size_t cap_len) {
  virtio_pci_cap cap{};
  cap.cap_len = static_cast<uint8_t>(cap_len);
  cap.cfg_type = type;
  cap.bar = Transport::kBar;
  cap.offset = static_cast<uint32_t>(offset);
  cap.length = static_cast<uint32_t>(length);
  return cap;
}

}  // namespace

VirtioPciTransport::VirtioPciTransport(std::shared_ptr<VirtioDevice> device,
                                       const GuestMemory& memory, std::vector<EventFd> queue_events,
                                       pci::MsiSink& msi, pci::IntxLine& intx)
    : config_(MakeHeader(*device)),
      msix_(static_cast<uint16_t>(queue_events.size() + 1), msi),
      interrupt_(queue_events.size(), msix_, intx),
      core_(std::move(device), memory, std::move(queue_events), interrupt_) {
  VMM_CHECK(core_.num_queues() <= kMaxQueues);
  config_.AddBar(kBar, {.kind = pci::BarKind::kMemory64, .size = kBarSize});
  AddCapabilities();
}

void VirtioPciTransport::AddCapabilities() {
  const auto common =
      MakeCap(VIRTIO_PCI_CAP_COMMON_CFG, kCommonOffset, kCommonSize, sizeof(virtio_pci_cap));
  config_.AddCapability(PCI_CAP_ID_VNDR, Body(common));
  virtio_pci_notify_cap notify{};
  notify.cap = MakeCap(VIRTIO_PCI_CAP_NOTIFY_CFG, kNotifyOffset,
                       kNotifyMultiplier * core_.num_queues(), sizeof(notify));
  notify.notify_off_multiplier = kNotifyMultiplier;
  config_.AddCapability(PCI_CAP_ID_VNDR, Body(notify));
  const auto isr = MakeCap(VIRTIO_PCI_CAP_ISR_CFG, kIsrOffset, kIsrSize, sizeof(virtio_pci_cap));
  config_.AddCapability(PCI_CAP_ID_VNDR, Body(isr));
  const auto device =
      MakeCap(VIRTIO_PCI_CAP_DEVICE_CFG, kDeviceOffset, kDeviceSize, sizeof(virtio_pci_cap));
  config_.AddCapability(PCI_CAP_ID_VNDR, Body(device));
  // §4.1.4.9: bar, offset, length and the data window are the driver's.
  virtio_pci_cfg_cap pci_cfg{};
  pci_cfg.cap = MakeCap(VIRTIO_PCI_CAP_PCI_CFG, 0, 0, sizeof(pci_cfg));
  pci_cfg_cap_ = config_.AddCapability(PCI_CAP_ID_VNDR, Body(pci_cfg));
  constexpr std::array<uint8_t, 1> kByte{0xff};
  constexpr std::array<uint8_t, 4> kDword{0xff, 0xff, 0xff, 0xff};
  config_.SetWriteMask(pci_cfg_cap_ + VIRTIO_PCI_CAP_BAR, kByte);
  config_.SetWriteMask(pci_cfg_cap_ + VIRTIO_PCI_CAP_OFFSET, kDword);
  config_.SetWriteMask(pci_cfg_cap_ + VIRTIO_PCI_CAP_LENGTH, kDword);
  config_.SetWriteMask(pci_cfg_cap_ + offsetof(virtio_pci_cfg_cap, pci_cfg_data), kDword);
  msix_.AddCapability(config_, kBar, kMsixTableOffset, kBar, kMsixPbaOffset);
}

void VirtioPciTransport::set_bar_observer(pci::BarObserver* observer) {
  std::lock_guard lock(mutex_);
  config_.set_bar_observer(observer);
}

void VirtioPciTransport::AssignBar(uint64_t address) {
  VMM_CHECK(address % kBarSize == 0);
  std::lock_guard lock(mutex_);
  // Through the guest's path, so the write masks and the observer apply.
  const auto write32 = [this](uint32_t offset, uint32_t value) {
    const std::array<uint8_t, 4> bytes = {
        static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8),
        static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 24)};
    config_.Write(offset, bytes);
  };
  const uint32_t bar = PCI_BASE_ADDRESS_0 + 4 * kBar;
  write32(bar, static_cast<uint32_t>(address));
  write32(bar + 4, static_cast<uint32_t>(address >> 32));
  const auto command = static_cast<uint16_t>(config_.command() | PCI_COMMAND_MEMORY);
  const std::array<uint8_t, 2> bytes = {static_cast<uint8_t>(command),
                                        static_cast<uint8_t>(command >> 8)};
  config_.Write(PCI_COMMAND, bytes);
}

std::vector<VirtioPciTransport::Doorbell> VirtioPciTransport::doorbells() const {
  std::vector<Doorbell> result;
  for (size_t i = 0; i < core_.num_queues(); ++i) {
    const auto queue = static_cast<uint16_t>(i);
    result.push_back({kBar, kNotifyOffset + uint64_t{kNotifyMultiplier} * queue, queue});
  }
  return result;
}

void VirtioPciTransport::Shutdown() {
  std::lock_guard lock(mutex_);
  core_.Shutdown();
}

// ---- Configuration space. ----

bool VirtioPciTransport::PciCfgTarget(uint64_t* offset, size_t* length) const {
  const uint8_t bar = config_.Get8(pci_cfg_cap_ + VIRTIO_PCI_CAP_BAR);
  *offset = config_.Get32(pci_cfg_cap_ + VIRTIO_PCI_CAP_OFFSET);
  *length = config_.Get32(pci_cfg_cap_ + VIRTIO_PCI_CAP_LENGTH);
  // §4.1.4.9: length 1, 2 or 4, offset a multiple of it, inside the BAR.
  if (bar != kBar || (*length != 1 && *length != 2 && *length != 4)) return false;
  return *offset % *length == 0 && Inside(*offset, *length, 0, kBarSize);
}

void VirtioPciTransport::ReadConfig(uint32_t offset, std::span<uint8_t> data) noexcept {
  std::lock_guard lock(mutex_);
  config_.SetInterruptStatus(interrupt_.line_asserted());
  const uint32_t window = pci_cfg_cap_ + offsetof(virtio_pci_cfg_cap, pci_cfg_data);
  if (offset < window + 4 && window < offset + data.size()) {
    // §4.1.4.9: a read of pci_cfg_data reads the selected BAR bytes.
    std::array<uint8_t, 4> bar_data{};
    uint64_t bar_offset = 0;
    size_t length = 0;
    if (PciCfgTarget(&bar_offset, &length)) {
      BarRead(bar_offset, std::span(bar_data).first(length));
    }
    for (size_t i = 0; i < 4; ++i) config_.Set8(window + static_cast<uint32_t>(i), bar_data[i]);
  }
  config_.Read(offset, data);
}

void VirtioPciTransport::WriteConfig(uint32_t offset, std::span<const uint8_t> data) noexcept {
  std::lock_guard lock(mutex_);
  config_.Write(offset, data);
  msix_.ControlWritten(config_);
  interrupt_.SetIntxGated((config_.command() & PCI_COMMAND_INTX_DISABLE) != 0 || msix_.enabled());
  const uint32_t window = pci_cfg_cap_ + offsetof(virtio_pci_cfg_cap, pci_cfg_data);
  if (offset < window + 4 && window < offset + data.size()) {
    // §4.1.4.9: a write of pci_cfg_data writes the selected BAR bytes.
    uint64_t bar_offset = 0;
    size_t length = 0;
    if (!PciCfgTarget(&bar_offset, &length)) {
      LOG_WARN_RATELIMITED("virtio-pci: pci_cfg write with a bad bar/offset/length; ignored");
      return;
    }
    std::array<uint8_t, 4> bar_data{};
    for (size_t i = 0; i < 4; ++i) bar_data[i] = config_.Get8(window + static_cast<uint32_t>(i));
    BarWrite(bar_offset, std::span<const uint8_t>(bar_data).first(length));
  }
}

// ---- BAR 0. ----

void VirtioPciTransport::Read(const devices::IoAccess& access, std::span<uint8_t> data) noexcept {
  std::lock_guard lock(mutex_);
  BarRead(access.offset, data);
}

void VirtioPciTransport::Write(const devices::IoAccess& access,
                               std::span<const uint8_t> data) noexcept {
  std::lock_guard lock(mutex_);
  BarWrite(access.offset, data);
}

void VirtioPciTransport::BarRead(uint64_t offset, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), 0);
  if (Inside(offset, data.size(), kCommonOffset, kCommonSize)) {
    CommonRead(offset - kCommonOffset, data);
  } else if (Inside(offset, data.size(), kIsrOffset, kIsrSize)) {
    data[0] = interrupt_.ReadAndClearIsr();
  } else if (Inside(offset, data.size(), kDeviceOffset, kDeviceSize)) {
    core_.ReadConfig(offset - kDeviceOffset, data);
  } else if (Inside(offset, data.size(), kMsixTableOffset, msix_.table_size())) {
    msix_.ReadTable(offset - kMsixTableOffset, data);
  } else if (Inside(offset, data.size(), kMsixPbaOffset, msix_.pba_size())) {
    msix_.ReadPba(offset - kMsixPbaOffset, data);
  }
  // Notifications are write-only; the rest of the BAR reads as zero.
}

void VirtioPciTransport::BarWrite(uint64_t offset, std::span<const uint8_t> data) {
  if (Inside(offset, data.size(), kCommonOffset, kCommonSize)) {
    CommonWrite(offset - kCommonOffset, data);
  } else if (Inside(offset, data.size(), kDeviceOffset, kDeviceSize)) {
    core_.WriteConfig(offset - kDeviceOffset, data);
  } else if (Inside(offset, data.size(), kNotifyOffset,
                    uint64_t{kNotifyMultiplier} * core_.num_queues())) {
    // Normally absorbed by KVM's ioeventfd. The address names the queue;
    // the value (its index, without VIRTIO_F_NOTIFICATION_DATA) adds nothing.
    core_.Notify(static_cast<uint32_t>((offset - kNotifyOffset) / kNotifyMultiplier));
  } else if (Inside(offset, data.size(), kMsixTableOffset, msix_.table_size())) {
    msix_.WriteTable(offset - kMsixTableOffset, data);
  } else if (Inside(offset, data.size(), kMsixPbaOffset, msix_.pba_size())) {
    msix_.WritePba(offset - kMsixPbaOffset, data);
  } else {
    LOG_DEBUG_RATELIMITED("virtio-pci: {}-byte write at BAR offset {:#x} ignored", data.size(),
                          offset);
  }
}

// ---- Common configuration (§4.1.4.3). ----

void VirtioPciTransport::CommonRead(uint64_t offset, std::span<uint8_t> data) {
  if (CommonFieldWidth(offset) != data.size()) {
    LOG_WARN_RATELIMITED("virtio-pci: {}-byte read at common config offset {:#x}; reads zero",
                         data.size(), offset);
    return;
  }
  const uint32_t value = CommonRegister(offset);
  std::memcpy(data.data(), &value, data.size());  // Little-endian host.
}

void VirtioPciTransport::CommonWrite(uint64_t offset, std::span<const uint8_t> data) {
  if (CommonFieldWidth(offset) != data.size()) {
    LOG_WARN_RATELIMITED("virtio-pci: {}-byte write at common config offset {:#x}; ignored",
                         data.size(), offset);
    return;
  }
  uint32_t value = 0;
  std::memcpy(&value, data.data(), data.size());
  SetCommonRegister(offset, value);
}

uint32_t VirtioPciTransport::CommonRegister(uint64_t offset) {
  const uint32_t queue = core_.selected_queue();
  switch (offset) {
    case VIRTIO_PCI_COMMON_DFSELECT:
      return device_feature_select_;
    case VIRTIO_PCI_COMMON_DF:
      return core_.DeviceFeatures(device_feature_select_);
    case VIRTIO_PCI_COMMON_GFSELECT:
      return driver_feature_select_;
    case VIRTIO_PCI_COMMON_GF:
      return driver_feature_select_ > 1
                 ? 0
                 : static_cast<uint32_t>(core_.driver_features() >> (32 * driver_feature_select_));
    case VIRTIO_PCI_COMMON_MSIX:
      return interrupt_.config_vector();
    case VIRTIO_PCI_COMMON_NUMQ:
      return static_cast<uint32_t>(core_.num_queues());
    case VIRTIO_PCI_COMMON_STATUS:
      return core_.status();
    case VIRTIO_PCI_COMMON_CFGGENERATION:
      return core_.config_generation() & 0xff;
    case VIRTIO_PCI_COMMON_Q_SELECT:
      return queue;
    case VIRTIO_PCI_COMMON_Q_SIZE:
      // §4.1.4.3.2: 0 for a queue that does not exist.
      return core_.SelectedQueueSize();
    case VIRTIO_PCI_COMMON_Q_MSIX:
      return interrupt_.queue_vector(queue);
    case VIRTIO_PCI_COMMON_Q_ENABLE:
      return core_.SelectedQueueReady() ? 1 : 0;
    case VIRTIO_PCI_COMMON_Q_NOFF:
      // Queue i's doorbell is at notify base + i * kNotifyMultiplier.
      return queue < core_.num_queues() ? queue : 0;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_DESCHI:
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
    case VIRTIO_PCI_COMMON_Q_USEDLO:
    case VIRTIO_PCI_COMMON_Q_USEDHI: {
      const int which = static_cast<int>((offset - VIRTIO_PCI_COMMON_Q_DESCLO) / 8);
      const bool high = (offset - VIRTIO_PCI_COMMON_Q_DESCLO) % 8 != 0;
      return static_cast<uint32_t>(core_.SelectedQueueAddress(which) >> (high ? 32 : 0));
    }
    default:
      // queue_notify_data and queue_reset: their features are not offered.
      return 0;
  }
}

void VirtioPciTransport::SetCommonRegister(uint64_t offset, uint32_t value) {
  const uint32_t queue = core_.selected_queue();
  switch (offset) {
    case VIRTIO_PCI_COMMON_DFSELECT:
      device_feature_select_ = value;
      return;
    case VIRTIO_PCI_COMMON_GFSELECT:
      driver_feature_select_ = value;
      return;
    case VIRTIO_PCI_COMMON_GF:
      core_.SetDriverFeatures(driver_feature_select_, value);
      return;
    case VIRTIO_PCI_COMMON_MSIX:
      interrupt_.SetConfigVector(static_cast<uint16_t>(value));
      return;
    case VIRTIO_PCI_COMMON_STATUS:
      WriteStatus(static_cast<uint8_t>(value));
      return;
    case VIRTIO_PCI_COMMON_Q_SELECT:
      core_.SelectQueue(value);
      return;
    case VIRTIO_PCI_COMMON_Q_SIZE:
      core_.SetQueueSize(value);
      return;
    case VIRTIO_PCI_COMMON_Q_MSIX:
      interrupt_.SetQueueVector(queue, static_cast<uint16_t>(value));
      return;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
      // §4.1.4.3.2: the driver MUST NOT write 0 to queue_enable.
      if (value == 1) core_.SetSelectedQueueReady(true);
      return;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_DESCHI:
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
    case VIRTIO_PCI_COMMON_Q_USEDLO:
    case VIRTIO_PCI_COMMON_Q_USEDHI: {
      const int which = static_cast<int>((offset - VIRTIO_PCI_COMMON_Q_DESCLO) / 8);
      const bool high = (offset - VIRTIO_PCI_COMMON_Q_DESCLO) % 8 != 0;
      core_.SetQueueAddress(which, high, value);
      return;
    }
    default:
      LOG_DEBUG_RATELIMITED("virtio-pci: write {:#x} to read-only common config offset {:#x}",
                            value, offset);
      return;
  }
}

void VirtioPciTransport::WriteStatus(uint8_t status) {
  core_.WriteStatus(status);
  if (status == 0) {  // What WriteStatus saw as a reset (§4.1.4.3.2).
    interrupt_.Reset();
    device_feature_select_ = driver_feature_select_ = 0;
  }
}

}  // namespace mini_vmm::virtio
