#include "vmm/base/event_fd.h"

#include <catch2/catch.hpp>

namespace mini_vmm {
namespace {

TEST_CASE("EventFd counts signals and resets on Consume") {
  auto efd = EventFd::Create();
  REQUIRE(efd.ok());
  CHECK(efd->Consume() == 0);
  efd->Signal();
  efd->Signal();
  CHECK(efd->Consume() == 2);
  CHECK(efd->Consume() == 0);
}

}  // namespace
}  // namespace mini_vmm
