#include "vmm/machine/pci_interrupts.h"

#include <utility>

namespace mini_vmm {

MsiVectors::MsiVectors(std::string name, kvm::InterruptRouter& router, uint16_t num_vectors)
    : name_(std::move(name)), router_(router), vectors_(num_vectors) {}

Result<void> MsiVectors::Connect(Vector& v, const kvm::MsiMessage& message) {
  if (v.route) return v.route->Update(message);
  if (!v.fd) v.fd.emplace(TRY(EventFd::Create()));
  kvm::MsiRoute route = TRY(router_.AddMsi(message));
  v.irqfd.emplace(TRY(router_.ConnectIrqFd(*v.fd, route.gsi())));
  v.route.emplace(std::move(route));
  return {};
}

void MsiVectors::UpdateRoute(uint16_t vector, std::optional<pci::MsiMessage> message) noexcept {
  // A masked or disabled vector keeps its route: MsixVectors does not fire
  // it, and unmasking it again costs no routing-table commit.
  if (!message) return;
  std::lock_guard lock(mutex_);
  if (vector >= vectors_.size()) return;
  Vector& v = vectors_[vector];
  auto connected = Connect(v, kvm::MsiMessage{.address = message->address, .data = message->data});
  if (!connected.ok()) {
    // The vector stays undeliverable (no irqfd); the guest's driver times
    // out on it rather than the host failing.
    LOG_WARN_RATELIMITED("{}: MSI/MSI-X vector {} gets no route: {}", name_, vector,
                         connected.error().ToString());
  }
}

void MsiVectors::Fire(uint16_t vector) noexcept {
  std::lock_guard lock(mutex_);
  if (vector >= vectors_.size() || !vectors_[vector].irqfd) return;
  vectors_[vector].fd->Signal();
}

int MsiVectors::DirectEventFd(uint16_t vector) const noexcept {
  std::lock_guard lock(mutex_);
  if (vector >= vectors_.size() || !vectors_[vector].irqfd) return -1;
  return vectors_[vector].fd->fd();
}

const EventFd* MsiVectors::eventfd(uint16_t vector) const {
  std::lock_guard lock(mutex_);
  if (vector >= vectors_.size() || !vectors_[vector].irqfd) return nullptr;
  return &*vectors_[vector].fd;
}

size_t MsiVectors::routes() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const Vector& v : vectors_) n += v.route ? 1u : 0u;
  return n;
}

void IntxPins::Set(uint8_t line, bool asserted) noexcept {
  const size_t i = line % gsis_.size();
  std::lock_guard lock(mutex_);
  uint32_t& count = asserting_[i];
  if (asserted) {
    if (count++ != 0) return;
  } else {
    if (count == 0 || --count != 0) return;
  }
  auto set = router_.SetLevel(gsis_[i], asserted);
  if (!set.ok()) {
    LOG_WARN_RATELIMITED("PCI INTx GSI {}: {}", gsis_[i], set.error().ToString());
  }
}

uint32_t IntxPins::asserting(uint8_t line) const {
  std::lock_guard lock(mutex_);
  return asserting_[line % gsis_.size()];
}

void IntxPin::Bind(uint8_t line) {
  std::lock_guard lock(mutex_);
  VMM_CHECK(!asserted_);
  line_ = line;
}

void IntxPin::Assert() noexcept {
  std::lock_guard lock(mutex_);
  if (asserted_) return;
  asserted_ = true;
  pins_.Set(line_, true);
}

void IntxPin::Deassert() noexcept {
  std::lock_guard lock(mutex_);
  if (!asserted_) return;
  asserted_ = false;
  pins_.Set(line_, false);
}

}  // namespace mini_vmm
