#include "devices/virtio/transport/mmio.h"

#include <linux/virtio_mmio.h>

#include <algorithm>
#include <cstring>

#include "vmm/base/log.h"

namespace mini_vmm::virtio {
namespace {

// §4.2.2: reads of the length or base of a non-existent shared memory
// region return -1.
constexpr uint32_t kNoSharedMemory = 0xffffffff;

bool IsRegister(uint64_t offset) { return offset < VIRTIO_MMIO_CONFIG; }

}  // namespace

void MmioInterrupt::NotifyQueue(uint16_t /*queue*/) noexcept {
  status_.fetch_or(VIRTIO_MMIO_INT_VRING, std::memory_order_acq_rel);
  line_.Trigger();
}

void MmioInterrupt::NotifyConfigChange() noexcept {
  status_.fetch_or(VIRTIO_MMIO_INT_CONFIG, std::memory_order_acq_rel);
  line_.Trigger();
}

MmioTransport::MmioTransport(std::shared_ptr<VirtioDevice> device, const GuestMemory& memory,
                             std::vector<EventFd> queue_events, devices::EdgeInterrupt& line)
    : interrupt_(line), core_(std::move(device), memory, std::move(queue_events), interrupt_) {}

void MmioTransport::Read(const devices::IoAccess& access, std::span<uint8_t> data) noexcept {
  std::lock_guard lock(mutex_);
  if (!IsRegister(access.offset)) {
    core_.ReadConfig(access.offset - VIRTIO_MMIO_CONFIG, data);
    return;
  }
  // §4.2.2.2: the driver MUST use 32-bit aligned accesses for registers.
  if (data.size() != 4 || access.offset % 4 != 0) {
    std::fill(data.begin(), data.end(), 0);
    LOG_WARN_RATELIMITED("virtio-mmio: {}-byte read at register offset {:#x}; ignored", data.size(),
                         access.offset);
    return;
  }
  const uint32_t value = ReadRegister(access.offset);
  std::memcpy(data.data(), &value, sizeof(value));
}

void MmioTransport::Write(const devices::IoAccess& access, std::span<const uint8_t> data) noexcept {
  std::lock_guard lock(mutex_);
  if (!IsRegister(access.offset)) {
    core_.WriteConfig(access.offset - VIRTIO_MMIO_CONFIG, data);
    return;
  }
  if (data.size() != 4 || access.offset % 4 != 0) {
    LOG_WARN_RATELIMITED("virtio-mmio: {}-byte write at register offset {:#x}; ignored",
                         data.size(), access.offset);
    return;
  }
  uint32_t value = 0;
  std::memcpy(&value, data.data(), sizeof(value));
  WriteRegister(access.offset, value);
}

void MmioTransport::Shutdown() {
  std::lock_guard lock(mutex_);
  core_.Shutdown();
}

uint32_t MmioTransport::ReadRegister(uint64_t offset) {
  switch (offset) {
    case VIRTIO_MMIO_MAGIC_VALUE:
      return kMagic;
    case VIRTIO_MMIO_VERSION:
      return kVersion;
    case VIRTIO_MMIO_DEVICE_ID:
      return core_.device().device_type();
    case VIRTIO_MMIO_VENDOR_ID:
      return kVendorId;
    case VIRTIO_MMIO_DEVICE_FEATURES:
      return core_.DeviceFeatures(device_features_sel_);
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
      return core_.SelectedQueueMaxSize();
    case VIRTIO_MMIO_QUEUE_READY:
      return core_.SelectedQueueReady() ? 1 : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
      return interrupt_.status();
    case VIRTIO_MMIO_STATUS:
      return core_.status();
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH:
      return kNoSharedMemory;
    case VIRTIO_MMIO_CONFIG_GENERATION:
      return core_.config_generation();
    default:
      // Write-only and reserved registers read as zero.
      return 0;
  }
}

void MmioTransport::WriteRegister(uint64_t offset, uint32_t value) {
  switch (offset) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
      device_features_sel_ = value;
      return;
    case VIRTIO_MMIO_DRIVER_FEATURES:
      core_.SetDriverFeatures(driver_features_sel_, value);
      return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
      driver_features_sel_ = value;
      return;
    case VIRTIO_MMIO_QUEUE_SEL:
      core_.SelectQueue(value);
      return;
    case VIRTIO_MMIO_QUEUE_NUM:
      core_.SetQueueSize(value);
      return;
    case VIRTIO_MMIO_QUEUE_READY:
      core_.SetSelectedQueueReady(value == 1);
      return;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
      // Normally absorbed by KVM's ioeventfd; here when it did not match.
      core_.Notify(value);
      return;
    case VIRTIO_MMIO_INTERRUPT_ACK:
      interrupt_.Acknowledge(value);
      return;
    case VIRTIO_MMIO_STATUS:
      core_.WriteStatus(static_cast<uint8_t>(value));
      if (static_cast<uint8_t>(value) == 0) {  // What WriteStatus saw as a reset.
        interrupt_.Clear();
        device_features_sel_ = driver_features_sel_ = 0;
      }
      return;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
      core_.SetQueueAddress(TransportCore::kDescAddress, offset == VIRTIO_MMIO_QUEUE_DESC_HIGH,
                            value);
      return;
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
      core_.SetQueueAddress(TransportCore::kAvailAddress, offset == VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
                            value);
      return;
    case VIRTIO_MMIO_QUEUE_USED_LOW:
    case VIRTIO_MMIO_QUEUE_USED_HIGH:
      core_.SetQueueAddress(TransportCore::kUsedAddress, offset == VIRTIO_MMIO_QUEUE_USED_HIGH,
                            value);
      return;
    default:
      LOG_DEBUG_RATELIMITED("virtio-mmio: write {:#x} to read-only or reserved offset {:#x}", value,
                            offset);
      return;
  }
}

}  // namespace mini_vmm::virtio
