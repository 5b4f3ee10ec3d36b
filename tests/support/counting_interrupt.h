// Counting fakes for edge-triggered interrupt lines.
#pragma once

#include <atomic>

#include "devices/bus/interrupt.h"

namespace mini_vmm::testing {

// Counts edges.
class CountingInterrupt final : public devices::EdgeInterrupt {
 public:
  void Trigger() noexcept override { ++count; }
  int count = 0;
};

// Counts edges; safe to trigger from several threads.
class AtomicCountingInterrupt final : public devices::EdgeInterrupt {
 public:
  void Trigger() noexcept override { count.fetch_add(1, std::memory_order_relaxed); }
  std::atomic<int> count{0};
};

}  // namespace mini_vmm::testing
