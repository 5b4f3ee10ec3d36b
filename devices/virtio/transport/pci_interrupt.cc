#include "devices/virtio/transport/pci_interrupt.h"

#include <linux/virtio_pci.h>

#include <algorithm>
#include <utility>

namespace mini_vmm::virtio {
namespace {

// §4.1.4.5: bit 0 of the ISR is the queue interrupt (the header names only
// the configuration bit).
constexpr uint8_t kIsrQueue = 0x1;
constexpr uint8_t kIsrConfig = VIRTIO_PCI_ISR_CONFIG;

}  // namespace

VirtioPciInterrupt::VirtioPciInterrupt(size_t num_queues, pci::MsixVectors& msix,
                                       pci::IntxLine& intx)
    : msix_(msix),
      intx_(intx),
      config_vector_(VIRTIO_MSI_NO_VECTOR),
      queue_vectors_(num_queues, VIRTIO_MSI_NO_VECTOR) {
  // A mask, an unmask or MSI-X enable changes which queues vhost may
  // interrupt directly.
  msix_.set_deliverability_listener([this] { TellDirectListener(std::nullopt); });
}

int VirtioPciInterrupt::DirectQueueEventFd(uint16_t queue) const noexcept {
  uint16_t vector = VIRTIO_MSI_NO_VECTOR;
  {
    std::lock_guard lock(mutex_);
    if (queue < queue_vectors_.size()) vector = queue_vectors_[queue];
  }
  return vector == VIRTIO_MSI_NO_VECTOR ? -1 : msix_.DirectEventFd(vector);
}

void VirtioPciInterrupt::SetDirectListener(DirectListener listener) {
  std::lock_guard lock(mutex_);
  direct_listener_ = std::move(listener);
}

void VirtioPciInterrupt::TellDirectListener(std::optional<size_t> queue) {
  DirectListener listener;
  size_t num_queues = 0;
  {
    std::lock_guard lock(mutex_);
    if (!direct_listener_) return;
    // A copy: the listener runs without our lock, and the device may
    // remove it meanwhile only from this same (transport-locked) thread.
    listener = direct_listener_;
    num_queues = queue_vectors_.size();
  }
  const size_t first = queue.value_or(0);
  const size_t end = queue ? std::min(*queue + 1, num_queues) : num_queues;
  for (size_t q = first; q < end; ++q) {
    const auto index = static_cast<uint16_t>(q);
    listener(index, DirectQueueEventFd(index));
  }
}

void VirtioPciInterrupt::NotifyQueue(uint16_t queue) noexcept {
  std::lock_guard lock(mutex_);
  if (queue >= queue_vectors_.size()) return;
  Raise(kIsrQueue, queue_vectors_[queue]);
}

void VirtioPciInterrupt::NotifyConfigChange() noexcept {
  std::lock_guard lock(mutex_);
  Raise(kIsrConfig, config_vector_);
}

void VirtioPciInterrupt::Raise(uint8_t isr_bit, uint16_t vector) noexcept {
  if (msix_.enabled()) {
    // A masked vector is left pending in the PBA by MsixVectors.
    if (vector != VIRTIO_MSI_NO_VECTOR) msix_.Trigger(vector);
    return;
  }
  isr_ = static_cast<uint8_t>(isr_ | isr_bit);
  UpdateLine();
}

void VirtioPciInterrupt::UpdateLine() noexcept {
  const bool level = isr_ != 0 && !intx_gated_;
  if (level == line_) return;
  line_ = level;
  if (level) {
    intx_.Assert();
  } else {
    intx_.Deassert();
  }
}

uint8_t VirtioPciInterrupt::ReadAndClearIsr() {
  std::lock_guard lock(mutex_);
  const uint8_t bits = isr_;
  isr_ = 0;
  UpdateLine();
  return bits;
}

bool VirtioPciInterrupt::line_asserted() const {
  std::lock_guard lock(mutex_);
  return line_;
}

void VirtioPciInterrupt::SetIntxGated(bool gated) {
  std::lock_guard lock(mutex_);
  intx_gated_ = gated;
  UpdateLine();
}

uint16_t VirtioPciInterrupt::Checked(uint16_t vector) const {
  return vector < msix_.num_vectors() ? vector : uint16_t{VIRTIO_MSI_NO_VECTOR};
}

void VirtioPciInterrupt::SetConfigVector(uint16_t vector) {
  std::lock_guard lock(mutex_);
  config_vector_ = Checked(vector);
}

uint16_t VirtioPciInterrupt::config_vector() const {
  std::lock_guard lock(mutex_);
  return config_vector_;
}

void VirtioPciInterrupt::SetQueueVector(size_t queue, uint16_t vector) {
  {
    std::lock_guard lock(mutex_);
    if (queue >= queue_vectors_.size()) return;
    queue_vectors_[queue] = Checked(vector);
  }
  TellDirectListener(queue);
}

uint16_t VirtioPciInterrupt::queue_vector(size_t queue) const {
  std::lock_guard lock(mutex_);
  return queue < queue_vectors_.size() ? queue_vectors_[queue] : uint16_t{VIRTIO_MSI_NO_VECTOR};
}

void VirtioPciInterrupt::Reset() {
  {
    std::lock_guard lock(mutex_);
    isr_ = 0;
    UpdateLine();
    config_vector_ = VIRTIO_MSI_NO_VECTOR;
    std::fill(queue_vectors_.begin(), queue_vectors_.end(), uint16_t{VIRTIO_MSI_NO_VECTOR});
  }
  TellDirectListener(std::nullopt);
}

}  // namespace mini_vmm::virtio
