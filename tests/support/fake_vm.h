// FakeVm: the narrow VM interfaces (vmm/kvm/vm_interfaces.h) without KVM.
// It records what is registered and live, so tests check what device
// wiring, the memslot follower and the interrupt router ask of KVM, and
// that dropping their handles undoes every registration. Each kind can be
// told to refuse its Nth call, to test rollback on failure.
//
//   FakeVm vm;
//   auto irq = vm.RegisterIrqFd(efd, 5);
//   CHECK(vm.live_irqfds().size() == 1);
#pragma once

#include <cerrno>
#include <map>
#include <mutex>
#include <vector>

#include "vmm/kvm/vm_interfaces.h"

namespace mini_vmm::testing {

class FakeVm final : public kvm::MemslotTable, public kvm::IoEvents, public kvm::IrqLines {
 public:
  struct IoEvent {
    int fd;
    kvm::IoEventSpace space;
    uint64_t address;
    uint32_t len;
    std::optional<uint64_t> datamatch;
  };
  struct Irq {
    int fd;
    uint32_t gsi;
    int resample_fd;  // -1 without resampling.
  };
  struct Slot {
    uint32_t slot;
    uint64_t gpa;
    uint64_t size;
    void* host;
    bool read_only;
  };

  Result<kvm::Memslot> AddMemslot(GuestAddress gpa, uint64_t size, void* host,
                                  bool read_only) override {
    std::lock_guard lock(mutex_);
    if (Refuse(refuse_memslot_)) return Error::Errno(EINVAL, "fake: memslot refused");
    const uint32_t slot = next_slot_++;
    slots_[slot] = Slot{slot, gpa.value(), size, host, read_only};
    return kvm::Memslot(slot, gpa, size, kvm::Registration([this, slot] { Erase(slots_, slot); }));
  }

  Result<kvm::IoEventFd> RegisterIoEvent(const EventFd& fd, kvm::IoEventSpace space,
                                         uint64_t address, uint32_t len,
                                         std::optional<uint64_t> datamatch) override {
    std::lock_guard lock(mutex_);
    if (Refuse(refuse_io_event_)) return Error::Errno(EINVAL, "fake: ioeventfd refused");
    const uint64_t id = next_id_++;
    io_events_[id] = IoEvent{fd.fd(), space, address, len, datamatch};
    return kvm::IoEventFd([this, id] { Erase(io_events_, id); });
  }

  Result<kvm::IrqFd> RegisterIrqFd(const EventFd& fd, uint32_t gsi,
                                   const EventFd* resample) override {
    std::lock_guard lock(mutex_);
    if (Refuse(refuse_irqfd_)) return Error::Errno(EINVAL, "fake: irqfd refused");
    const uint64_t id = next_id_++;
    irqfds_[id] = Irq{fd.fd(), gsi, resample != nullptr ? resample->fd() : -1};
    return kvm::IrqFd([this, id] { Erase(irqfds_, id); });
  }

  Result<void> SetIrqLine(uint32_t gsi, bool level) override {
    std::lock_guard lock(mutex_);
    irq_lines_.emplace_back(gsi, level);
    return {};
  }

  Result<void> SetGsiRouting(std::span<const kvm_irq_routing_entry> routes) override {
    std::lock_guard lock(mutex_);
    if (Refuse(refuse_routing_)) return Error::Errno(EINVAL, "fake: routing table refused");
    routing_tables_.emplace_back(routes.begin(), routes.end());
    return {};
  }

  // Make the `n`th next call of a kind fail (1 = the very next one).
  void RefuseMemslot(int n) { Set(refuse_memslot_, n); }
  void RefuseIoEvent(int n) { Set(refuse_io_event_, n); }
  void RefuseIrqFd(int n) { Set(refuse_irqfd_, n); }
  void RefuseRouting(int n) { Set(refuse_routing_, n); }

  std::vector<IoEvent> live_io_events() const { return Values(io_events_); }
  std::vector<Irq> live_irqfds() const { return Values(irqfds_); }
  std::vector<Slot> live_memslots() const { return Values(slots_); }
  std::vector<std::pair<uint32_t, bool>> irq_lines() const {
    std::lock_guard lock(mutex_);
    return irq_lines_;
  }
  std::vector<std::vector<kvm_irq_routing_entry>> routing_tables() const {
    std::lock_guard lock(mutex_);
    return routing_tables_;
  }

 private:
  // Counts down; true on the call that reaches zero.
  static bool Refuse(int& countdown) { return countdown > 0 && --countdown == 0; }
  void Set(int& countdown, int n) {
    std::lock_guard lock(mutex_);
    countdown = n;
  }
  template <typename Map, typename Key>
  void Erase(Map& map, Key key) {
    std::lock_guard lock(mutex_);
    map.erase(key);
  }
  template <typename Map>
  std::vector<typename Map::mapped_type> Values(const Map& map) const {
    std::lock_guard lock(mutex_);
    std::vector<typename Map::mapped_type> out;
    for (const auto& [key, value] : map) out.push_back(value);
    return out;
  }

  mutable std::mutex mutex_;
  std::map<uint32_t, Slot> slots_;
  std::map<uint64_t, IoEvent> io_events_;
  std::map<uint64_t, Irq> irqfds_;
  std::vector<std::pair<uint32_t, bool>> irq_lines_;
  std::vector<std::vector<kvm_irq_routing_entry>> routing_tables_;
  uint32_t next_slot_ = 0;
  uint64_t next_id_ = 0;
  int refuse_memslot_ = 0;
  int refuse_io_event_ = 0;
  int refuse_irqfd_ = 0;
  int refuse_routing_ = 0;
};

}  // namespace mini_vmm::testing
