// Logging to stderr with a level and the time since process start.
//
//   LOG_INFO("guest booted in {} ms", ms);
//   LOG_WARN_RATELIMITED("virtio-blk: bad request from the guest: {}", why);
//
// Anything a guest can trigger must use a *_RATELIMITED macro: each call site
// owns a token bucket, so a hostile guest cannot make the host log without
// bound (the vhost lesson: never let a guest printk at will).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "vmm/base/format.h"

namespace mini_vmm {

enum class LogLevel : int { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3, kTrace = 4 };

namespace log {

void SetLevel(LogLevel level);
LogLevel GetLevel();
bool Enabled(LogLevel level);
// Parses "error", "warn", "info", "debug", "trace".
bool ParseLevel(std::string_view name, LogLevel* level);
void Write(LogLevel level, std::string_view message) noexcept;
// Time since the process started (main() calls MarkProcessStart early).
std::chrono::nanoseconds SinceProcessStart();
void MarkProcessStart();
// CLOCK_MONOTONIC in nanoseconds, the clock RateLimiter::Allow() uses.
int64_t MonotonicNs();

// A token bucket: at most `burst` messages at once, refilled at `per_second`.
// Thread-safe and lock-free; suppressed messages are counted and reported
// with the next message that passes.
class RateLimiter {
 public:
  constexpr RateLimiter(uint32_t burst, uint32_t per_second)
      : burst_(burst), per_second_(per_second) {}

  // Returns true if a message may be written now; *suppressed receives the
  // number of messages dropped since the last one that passed.
  bool Allow(uint64_t* suppressed) noexcept;
  // The same at a given CLOCK_MONOTONIC time, for callers that keep their
  // own clock (tests, the exit trace).
  bool AllowAt(int64_t now_ns, uint64_t* suppressed) noexcept;
  // Takes the count of messages dropped since the last one that passed
  // (for a final "N suppressed" when no message follows).
  uint64_t TakeSuppressed() noexcept { return suppressed_.exchange(0, std::memory_order_relaxed); }

 private:
  const uint32_t burst_;
  const uint32_t per_second_;
  std::atomic<int64_t> next_free_ns_{0};
  std::atomic<uint64_t> suppressed_{0};
};

template <typename... Args>
void Log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) noexcept {
  if (!Enabled(level)) return;
  try {
    Write(level, Format(format, std::forward<Args>(args)...));
  } catch (...) {
    Write(level, "(log message could not be formatted)");
  }
}

template <typename... Args>
void LogRateLimited(RateLimiter& limiter, LogLevel level, fmt::format_string<Args...> format,
                    Args&&... args) noexcept {
  if (!Enabled(level)) return;
  uint64_t suppressed = 0;
  if (!limiter.Allow(&suppressed)) return;
  try {
    std::string message = Format(format, std::forward<Args>(args)...);
    if (suppressed > 0) message += Format(" ({} similar messages suppressed)", suppressed);
    Write(level, message);
  } catch (...) {
    Write(level, "(log message could not be formatted)");
  }
}

}  // namespace log
}  // namespace mini_vmm

#define LOG_ERROR(...) ::mini_vmm::log::Log(::mini_vmm::LogLevel::kError, __VA_ARGS__)
#define LOG_WARN(...) ::mini_vmm::log::Log(::mini_vmm::LogLevel::kWarn, __VA_ARGS__)
#define LOG_INFO(...) ::mini_vmm::log::Log(::mini_vmm::LogLevel::kInfo, __VA_ARGS__)
#define LOG_DEBUG(...) ::mini_vmm::log::Log(::mini_vmm::LogLevel::kDebug, __VA_ARGS__)
#define LOG_TRACE(...) ::mini_vmm::log::Log(::mini_vmm::LogLevel::kTrace, __VA_ARGS__)

// Ten messages at once, then one per second, per call site.
#define MINI_VMM_LOG_RATELIMITED(level, ...)                                          \
  do {                                                                                \
    static ::mini_vmm::log::RateLimiter mini_vmm_call_site_limiter_(10, 1);           \
    ::mini_vmm::log::LogRateLimited(mini_vmm_call_site_limiter_, level, __VA_ARGS__); \
  } while (0)
#define LOG_WARN_RATELIMITED(...) MINI_VMM_LOG_RATELIMITED(::mini_vmm::LogLevel::kWarn, __VA_ARGS__)
#define LOG_DEBUG_RATELIMITED(...) \
  MINI_VMM_LOG_RATELIMITED(::mini_vmm::LogLevel::kDebug, __VA_ARGS__)
