// StopMailbox: stops of several vCPUs posted at once, from their own
// threads, all reach the stub, oldest first.
#include "vmm/gdb/stop_mailbox.h"

#include <poll.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

namespace mini_vmm::gdb {
namespace {

using Reason = StopEvent::Reason;

StopMailbox MakeMailbox(uint32_t vcpus) { return StopMailbox(EventFd::Create().value(), vcpus); }

bool Readable(const StopMailbox& mailbox) {
  pollfd p{mailbox.fd(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST_CASE("StopMailbox keeps the stops of two vCPUs, oldest first") {
  StopMailbox mailbox = MakeMailbox(2);
  mailbox.Post({1, Reason::kStep});
  mailbox.Post({0, Reason::kHardwareBreakpoint, 0x1000, 2});

  CHECK(Readable(mailbox));
  const std::vector<StopEvent> stops = mailbox.TakeAll();
  REQUIRE(stops.size() == 2);
  CHECK(stops[0].vcpu == 1);
  CHECK(stops[0].reason == Reason::kStep);
  CHECK(stops[1].vcpu == 0);
  CHECK(stops[1].slot == 2);
  CHECK_FALSE(Readable(mailbox));
  CHECK(mailbox.TakeAll().empty());
}

TEST_CASE("StopMailbox keeps the first stop of a vCPU that posts twice") {
  StopMailbox mailbox = MakeMailbox(2);
  mailbox.Post({0, Reason::kStep});
  mailbox.Post({0, Reason::kSoftwareBreakpoint, 0x2000});

  const std::vector<StopEvent> stops = mailbox.TakeAll();
  REQUIRE(stops.size() == 1);
  CHECK(stops[0].reason == Reason::kStep);
}

TEST_CASE("StopMailbox drops a stop of a vCPU it has no room for") {
  StopMailbox mailbox = MakeMailbox(2);
  mailbox.Post({2, Reason::kStep});
  CHECK(mailbox.TakeAll().empty());
}

TEST_CASE("StopMailbox takes a vCPU's next stop after the last was taken") {
  StopMailbox mailbox = MakeMailbox(1);
  mailbox.Post({0, Reason::kStep});
  REQUIRE(mailbox.TakeAll().size() == 1);
  mailbox.Post({0, Reason::kPaused});
  const std::vector<StopEvent> stops = mailbox.TakeAll();
  REQUIRE(stops.size() == 1);
  CHECK(stops[0].reason == Reason::kPaused);
}

TEST_CASE("StopMailbox loses none of the stops vCPU threads race to post") {
  constexpr uint32_t kVcpus = 4;
  StopMailbox mailbox = MakeMailbox(kVcpus);
  std::atomic<bool> go{false};
  std::vector<std::thread> vcpus;
  for (uint32_t i = 0; i < kVcpus; ++i) {
    vcpus.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      mailbox.Post({i, i % 2 == 0 ? Reason::kStep : Reason::kHardwareBreakpoint});
    });
  }
  go = true;
  for (std::thread& t : vcpus) t.join();

  const std::vector<StopEvent> stops = mailbox.TakeAll();
  REQUIRE(stops.size() == kVcpus);
  std::vector<bool> seen(kVcpus);
  for (const StopEvent& stop : stops) seen.at(stop.vcpu) = true;
  CHECK(seen == std::vector<bool>(kVcpus, true));
}

}  // namespace
}  // namespace mini_vmm::gdb
