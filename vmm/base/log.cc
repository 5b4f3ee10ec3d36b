#include "vmm/base/log.h"

#include <unistd.h>

#include <array>
#include <cstring>

namespace mini_vmm::log {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kWarn)};
std::atomic<int64_t> g_start_ns{0};

constexpr std::array<std::string_view, 5> kLevelNames = {"error", "warn", "info", "debug", "trace"};

}  // namespace

int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void SetLevel(LogLevel level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }
LogLevel GetLevel() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }
bool Enabled(LogLevel level) {
  return static_cast<int>(level) <= g_level.load(std::memory_order_relaxed);
}

bool ParseLevel(std::string_view name, LogLevel* level) {
  for (size_t i = 0; i < kLevelNames.size(); ++i) {
    if (kLevelNames[i] == name) {
      *level = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

void MarkProcessStart() {
  int64_t expected = 0;
  g_start_ns.compare_exchange_strong(expected, MonotonicNs());
}

std::chrono::nanoseconds SinceProcessStart() {
  MarkProcessStart();
  return std::chrono::nanoseconds(MonotonicNs() - g_start_ns.load());
}

void Write(LogLevel level, std::string_view message) noexcept {
  const double seconds = static_cast<double>(SinceProcessStart().count()) / 1e9;
  char prefix[64];
  const int n = std::snprintf(prefix, sizeof(prefix), "[%10.6f] mini-vmm: %s: ", seconds,
                              kLevelNames[static_cast<size_t>(level)].data());
  // One write(2) per line so lines from different threads do not interleave.
  // The console keeps output post-processing on in raw mode, so "\n" is enough.
  std::string line;
  try {
    line.reserve(static_cast<size_t>(n) + message.size() + 1);
    line.append(prefix, static_cast<size_t>(n > 0 ? n : 0));
    line.append(message);
    line.append("\n");
  } catch (...) {
    return;
  }
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t w = ::write(STDERR_FILENO, p, left);
    // EINTR is given up on, not retried: a write blocked on a stalled
    // stderr reader is interrupted only by a thread kick (vmm/base/
    // thread_kick.h, installed without SA_RESTART), which means "stop now".
    // Retrying would undo the kick and keep a vCPU thread from ever being
    // joined. The rest of the line is lost, as it would be with no reader.
    if (w <= 0) return;
    p += w;
    left -= static_cast<size_t>(w);
  }
}

bool RateLimiter::Allow(uint64_t* suppressed) noexcept {
  return AllowAt(MonotonicNs(), suppressed);
}

bool RateLimiter::AllowAt(int64_t now, uint64_t* suppressed) noexcept {
  // GCRA: each message costs one emission interval; up to `burst_` intervals
  // may be borrowed ahead of now.
  const int64_t interval = 1'000'000'000 / static_cast<int64_t>(per_second_ ? per_second_ : 1);
  int64_t next = next_free_ns_.load(std::memory_order_relaxed);
  for (;;) {
    const int64_t base = next < now ? now : next;
    if (base - now > interval * static_cast<int64_t>(burst_ ? burst_ - 1 : 0)) {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (next_free_ns_.compare_exchange_weak(next, base + interval, std::memory_order_relaxed)) {
      *suppressed = suppressed_.exchange(0, std::memory_order_relaxed);
      return true;
    }
  }
}

}  // namespace mini_vmm::log
