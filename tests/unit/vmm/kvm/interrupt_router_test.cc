#include "vmm/kvm/interrupt_router.h"

#include <catch2/catch.hpp>
#include <optional>
#include <vector>

#include "tests/support/fake_vm.h"

namespace mini_vmm::kvm {
namespace {

kvm_irq_routing_entry IoapicPin(uint32_t gsi) {
  kvm_irq_routing_entry e{};
  e.gsi = gsi;
  e.type = KVM_IRQ_ROUTING_IRQCHIP;
  e.u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
  e.u.irqchip.pin = gsi;
  return e;
}

struct RouterTest {
  testing::FakeVm kvm;
  InterruptRouter router{kvm, {IoapicPin(4), IoapicPin(8)}, GsiRange{24, 27}};
};

TEST_CASE_METHOD(RouterTest, "CommitFixed hands KVM the fixed routes alone") {
  REQUIRE(router.CommitFixed().ok());
  REQUIRE(kvm.routing_tables().size() == 1);
  REQUIRE(kvm.routing_tables()[0].size() == 2);
  CHECK(kvm.routing_tables()[0][0].gsi == 4);
  CHECK(kvm.routing_tables()[0][1].gsi == 8);
}

TEST_CASE_METHOD(RouterTest, "AddMsi takes the first free GSI and commits fixed plus MSI") {
  auto route = router.AddMsi({.address = 0xfee0'1000, .data = 0x4041});
  REQUIRE(route.ok());
  CHECK(route->gsi() == 24);
  const auto table = kvm.routing_tables().back();
  REQUIRE(table.size() == 3);
  CHECK(table[2].gsi == 24);
  CHECK(table[2].type == KVM_IRQ_ROUTING_MSI);
  CHECK(table[2].u.msi.address_lo == 0xfee0'1000);
  CHECK(table[2].u.msi.address_hi == 0);
  CHECK(table[2].u.msi.data == 0x4041);
}

TEST_CASE_METHOD(RouterTest, "Update rewrites the route in place") {
  auto route = router.AddMsi({.address = 0xfee0'0000, .data = 1});
  REQUIRE(route.ok());
  REQUIRE(route->Update({.address = 0x1'fee0'2000, .data = 2}).ok());
  const auto table = kvm.routing_tables().back();
  REQUIRE(table.size() == 3);
  CHECK(table[2].u.msi.address_lo == 0xfee0'2000);
  CHECK(table[2].u.msi.address_hi == 1);
  CHECK(table[2].u.msi.data == 2);
}

TEST_CASE_METHOD(RouterTest, "An unchanged Update costs no commit") {
  auto route = router.AddMsi({.address = 0xfee0'0000, .data = 1});
  REQUIRE(route.ok());
  const size_t commits = kvm.routing_tables().size();
  REQUIRE(route->Update({.address = 0xfee0'0000, .data = 1}).ok());
  CHECK(kvm.routing_tables().size() == commits);
}

TEST_CASE_METHOD(RouterTest, "Dropping a route removes it and frees its GSI for reuse") {
  {
    auto first = router.AddMsi({.address = 0xfee0'0000, .data = 1});
    REQUIRE(first.ok());
  }
  CHECK(kvm.routing_tables().back().size() == 2);
  CHECK(router.msi_routes() == 0);
  auto again = router.AddMsi({.address = 0xfee0'0000, .data = 2});
  REQUIRE(again.ok());
  CHECK(again->gsi() == 24);
}

TEST_CASE_METHOD(RouterTest, "A hole left by a removed route is filled first") {
  auto a = router.AddMsi({.address = 0xfee0'0000, .data = 1});
  std::optional<MsiRoute> b(std::move(router.AddMsi({.address = 0xfee0'0000, .data = 2})).value());
  auto c = router.AddMsi({.address = 0xfee0'0000, .data = 3});
  REQUIRE((a.ok() && c.ok()));
  CHECK(c->gsi() == 26);
  b.reset();
  auto d = router.AddMsi({.address = 0xfee0'0000, .data = 4});
  REQUIRE(d.ok());
  CHECK(d->gsi() == 25);
}

TEST_CASE_METHOD(RouterTest, "GsiExhausted: a fourth route in a three-GSI range is refused") {
  auto a = router.AddMsi({});
  auto b = router.AddMsi({});
  auto c = router.AddMsi({});
  REQUIRE((a.ok() && b.ok() && c.ok()));
  auto d = router.AddMsi({});
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().ToString() == "no GSI left for another MSI route (all 3 in use)");
  CHECK(router.msi_routes() == 3);
}

TEST_CASE_METHOD(RouterTest, "KvmRefusesAdd: a refused table leaves no route behind") {
  kvm.RefuseRouting(1);
  auto route = router.AddMsi({.address = 0xfee0'0000, .data = 1});
  REQUIRE_FALSE(route.ok());
  CHECK(route.error().errno_value() == EINVAL);
  CHECK(router.msi_routes() == 0);
}

TEST_CASE_METHOD(RouterTest, "KvmRefusesUpdate: the route keeps its old message") {
  auto route = router.AddMsi({.address = 0xfee0'0000, .data = 1});
  REQUIRE(route.ok());
  kvm.RefuseRouting(1);
  CHECK_FALSE(route->Update({.address = 0xfee0'0000, .data = 9}).ok());
  auto other = router.AddMsi({.address = 0xfee0'0000, .data = 2});
  REQUIRE(other.ok());
  CHECK(kvm.routing_tables().back()[2].u.msi.data == 1);
}

TEST_CASE_METHOD(RouterTest, "committed() is the last table KVM accepted") {
  auto route = router.AddMsi({.address = 0xfee0'0000, .data = 7});
  REQUIRE(route.ok());
  const auto committed = router.committed();
  REQUIRE(committed.size() == 3);
  CHECK(committed[2].u.msi.data == 7);
}

TEST_CASE_METHOD(RouterTest, "ConnectIrqFd registers an irqfd on a fixed route") {
  auto efd = EventFd::Create();
  REQUIRE(efd.ok());
  auto irq = router.ConnectIrqFd(*efd, 4);
  REQUIRE(irq.ok());
  const auto irqfds = kvm.live_irqfds();
  REQUIRE(irqfds.size() == 1);
  CHECK(irqfds[0].gsi == 4);
  CHECK(irqfds[0].fd == efd->fd());
  CHECK(irqfds[0].resample_fd == -1);
}

TEST_CASE_METHOD(RouterTest, "ConnectIrqFd registers an irqfd on a live MSI route") {
  auto efd = EventFd::Create();
  REQUIRE(efd.ok());
  auto route = router.AddMsi({.address = 0xfee0'0000, .data = 1});
  REQUIRE(route.ok());
  auto irq = router.ConnectIrqFd(*efd, route->gsi());
  REQUIRE(irq.ok());
  CHECK(kvm.live_irqfds().at(0).gsi == 24);
}

TEST_CASE_METHOD(RouterTest, "UnroutedGsi: an irqfd on a GSI with no route is refused") {
  auto efd = EventFd::Create();
  REQUIRE(efd.ok());
  auto irq = router.ConnectIrqFd(*efd, 5);
  REQUIRE_FALSE(irq.ok());
  CHECK(irq.error().ToString() == "GSI 5 has no route for an irqfd");
  CHECK(kvm.live_irqfds().empty());
}

TEST_CASE_METHOD(RouterTest, "RemovedMsiRoute: its GSI takes no irqfd any more") {
  auto efd = EventFd::Create();
  REQUIRE(efd.ok());
  uint32_t gsi = 0;
  {
    auto route = router.AddMsi({.address = 0xfee0'0000, .data = 1});
    REQUIRE(route.ok());
    gsi = route->gsi();
  }
  CHECK_FALSE(router.ConnectIrqFd(*efd, gsi).ok());
}

TEST_CASE_METHOD(RouterTest, "Dropping the IrqFd deassigns it") {
  auto efd = EventFd::Create();
  REQUIRE(efd.ok());
  { auto irq = router.ConnectIrqFd(*efd, 8); }
  CHECK(kvm.live_irqfds().empty());
}

TEST_CASE_METHOD(RouterTest, "SetLevel drives a fixed line and refuses an unrouted one") {
  REQUIRE(router.SetLevel(8, true).ok());
  CHECK(kvm.irq_lines() == std::vector<std::pair<uint32_t, bool>>{{8, true}});
  CHECK_FALSE(router.SetLevel(9, true).ok());
}

}  // namespace
}  // namespace mini_vmm::kvm
