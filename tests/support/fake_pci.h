// Fakes for the PCI interrupt interfaces: an MsiSink that records route
// updates and fires, and an IntxLine that keeps its level and counts
// edges. Catch2-free, so the fuzzers use them too. Not thread-safe by
// themselves; MsixVectors calls its sink under its own lock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "devices/pci/intx.h"
#include "devices/pci/msix.h"

namespace mini_vmm::testing {

class RecordingMsiSink final : public pci::MsiSink {
 public:
  void UpdateRoute(uint16_t vector, std::optional<pci::MsiMessage> message) noexcept override {
    routes[vector] = message;
    ++route_updates;
  }
  void Fire(uint16_t vector) noexcept override {
    const auto route = routes.find(vector);
    if (route == routes.end() || !route->second.has_value()) ++fired_without_route;
    fired.push_back(vector);
  }

  int DirectEventFd(uint16_t vector) const noexcept override {
    const auto fd = direct_fds.find(vector);
    return fd == direct_fds.end() ? -1 : fd->second;
  }

  // The last route of each vector told (nullopt: masked or disabled).
  std::map<uint16_t, std::optional<pci::MsiMessage>> routes;
  // What DirectEventFd answers per vector (as if each had an irqfd).
  std::map<uint16_t, int> direct_fds;
  int route_updates = 0;
  std::vector<uint16_t> fired;
  int fired_without_route = 0;  // Fires of a vector that had no route: a bug.
};

class FakeIntxLine final : public pci::IntxLine {
 public:
  void Assert() noexcept override {
    if (!level) ++assertions;
    level = true;
  }
  void Deassert() noexcept override { level = false; }

  bool level = false;
  int assertions = 0;  // Rising edges.
};

}  // namespace mini_vmm::testing
