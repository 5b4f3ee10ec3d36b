#include "vmm/base/log.h"

#include <catch2/catch.hpp>

namespace mini_vmm::log {
namespace {

TEST_CASE("RateLimiter lets a burst through, then suppresses and counts") {
  RateLimiter limiter(3, 1);
  uint64_t suppressed = 0;
  CHECK(limiter.Allow(&suppressed));
  CHECK(limiter.Allow(&suppressed));
  CHECK(limiter.Allow(&suppressed));
  CHECK_FALSE(limiter.Allow(&suppressed));
  CHECK_FALSE(limiter.Allow(&suppressed));
  CHECK(suppressed == 0);
}

TEST_CASE("RateLimiter bounds a flood to its burst") {
  RateLimiter limiter(10, 1);
  uint64_t suppressed = 0;
  int allowed = 0;
  for (int i = 0; i < 100000; ++i) allowed += limiter.Allow(&suppressed) ? 1 : 0;
  // A flood within one second gets the burst and at most one refill.
  CHECK(allowed >= 10);
  CHECK(allowed <= 11);
}

TEST_CASE("ParseLevel accepts the documented names only") {
  LogLevel level = LogLevel::kError;
  CHECK(ParseLevel("debug", &level));
  CHECK(level == LogLevel::kDebug);
  CHECK_FALSE(ParseLevel("verbose", &level));
  CHECK(level == LogLevel::kDebug);
}

}  // namespace
}  // namespace mini_vmm::log
