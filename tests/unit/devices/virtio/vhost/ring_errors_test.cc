// Ring errors the guest can cause at will are all counted, few logged.
#include "devices/virtio/vhost/ring_errors.h"

#include <catch2/catch.hpp>

namespace mini_vmm::virtio::vhost {
namespace {

TEST_CASE("a flood of ring errors is counted in full but logged a bounded number of times") {
  log::SetLevel(LogLevel::kError);  // The lines themselves are not under test.
  RingErrorLog errors("virtio-net0q0");
  int logged = 0;
  for (int i = 0; i < 10000; ++i) logged += errors.Report(1, 1) ? 1 : 0;
  log::SetLevel(LogLevel::kInfo);
  CHECK(errors.errors() == 10000);
  CHECK(logged == static_cast<int>(errors.lines()));
  // The burst, plus at most a refill or two if the loop straddled a second.
  CHECK(logged >= 10);
  CHECK(logged <= 12);
}

TEST_CASE("coalesced ring errors count every signal") {
  RingErrorLog errors("virtio-net0q0");
  errors.Report(0, 5);
  CHECK(errors.errors() == 5);
  CHECK(errors.lines() == 1);
}

}  // namespace
}  // namespace mini_vmm::virtio::vhost
