// InterruptRelay alone: route failures, INTx connection, shutdown, MSI's
// enable, count and one-type-at-a-time rules, and hosts that allocate fewer
// vectors than asked.
#include "devices/vfio_pci/interrupt_relay.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <vector>

#include "tests/support/fake_vfio.h"

namespace mini_vmm::vfio_pci {
namespace {

using testing::FakeVectorRoutes;
using testing::FakeVfioDevice;

const pci::MsiMessage kMessage{.address = 0xfee00000, .data = 0x4021};

TEST_CASE("A vector whose KVM route failed is not given to VFIO") {
  FakeVfioDevice dev;
  FakeVectorRoutes routes;
  routes.refuse = true;
  InterruptRelay relay("t", dev, routes, 4);
  relay.UpdateRoute(1, kMessage);
  CHECK(dev.triggers.empty());
  CHECK_FALSE(relay.msix_enabled());
}

TEST_CASE("A vector number beyond the table is ignored") {
  FakeVfioDevice dev;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, 4);
  relay.UpdateRoute(9, kMessage);
  CHECK(dev.triggers.empty());
}

TEST_CASE("TableLargerThanVfioOffers: only VFIO's vectors are enabled, the rest never set") {
  FakeVfioDevice dev;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, 100);
  relay.MsixEnabled();
  REQUIRE(dev.triggers.at(VFIO_PCI_MSIX_IRQ_INDEX).size() == FakeVfioDevice::kVectors);
  const int calls = dev.set_irqs_calls;
  relay.UpdateRoute(80, kMessage);
  CHECK(dev.set_irqs_calls == calls);
  CHECK(relay.trigger_of(80) == -1);
}

TEST_CASE("Vectors unmasked later are set one at a time") {
  FakeVfioDevice dev;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, FakeVfioDevice::kVectors);
  relay.UpdateRoute(0, kMessage);
  relay.UpdateRoute(2, kMessage);
  CHECK(dev.set_irqs_calls == 2);
  CHECK(relay.trigger_of(2) == routes.TriggerFd(2));
  CHECK(relay.trigger_of(1) == -1);
}

TEST_CASE("MsiCountAboveVfio: only VFIO's MSI vectors are enabled") {
  FakeVfioDevice dev;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, 1, 32);
  relay.msi_sink().UpdateRoute(0, kMessage);
  CHECK(dev.triggers.empty());  // Recorded, not enabled: MsiEnabled() does that.
  relay.MsiEnabled(32);
  REQUIRE(dev.triggers.at(VFIO_PCI_MSI_IRQ_INDEX).size() == FakeVfioDevice::kMsiVectors);
  CHECK(relay.msi_trigger_of(0) == routes.TriggerFd(0));
  CHECK(relay.msi_trigger_of(1) >= 0);  // Parked until routed.
  CHECK(relay.msi_trigger_of(4) == -1);
}

TEST_CASE("MsiWhileMsixLive is refused by the relay too") {
  FakeVfioDevice dev;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, 4, 4);
  relay.MsixEnabled();
  relay.MsiEnabled(1);
  CHECK_FALSE(relay.msi_enabled());
  CHECK(dev.triggers.count(VFIO_PCI_MSI_IRQ_INDEX) == 0);
}

TEST_CASE("MsiRouteForVectorAboveEnabledCount is only recorded") {
  FakeVfioDevice dev;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, 1, 4);
  relay.MsiEnabled(1);
  const int calls = dev.set_irqs_calls;
  relay.msi_sink().UpdateRoute(2, kMessage);
  CHECK(dev.set_irqs_calls == calls);
  relay.MsiEnabled(4);  // Re-enabled with the new count: vector 2 goes to its route.
  CHECK(relay.msi_trigger_of(2) == routes.TriggerFd(2));
}

TEST_CASE("A parked MSI vector that was signalled reads as pending, unconsumed") {
  FakeVfioDevice dev;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, 1, 4);
  relay.MsiEnabled(2);
  const uint64_t one = 1;
  REQUIRE(::write(relay.msi_trigger_of(1), &one, sizeof(one)) == sizeof(one));
  CHECK(relay.msi_parked_pending() == 0b10);
  CHECK(relay.msi_parked_pending() == 0b10);
  relay.msi_sink().UpdateRoute(1, kMessage);
  CHECK(routes.fired == std::vector<uint16_t>{1});
  CHECK(relay.msi_parked_pending() == 0);
}

TEST_CASE("IntxConnectedWhileMsiLive waits for MSI to go") {
  FakeVfioDevice dev;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, 1, 4);
  relay.MsiEnabled(1);
  REQUIRE(relay.ConnectIntx(7, 8).ok());
  CHECK(dev.triggers.count(VFIO_PCI_INTX_IRQ_INDEX) == 0);
  relay.MsiDisabled();
  CHECK(dev.triggers.at(VFIO_PCI_INTX_IRQ_INDEX)[0] == 7);
}

TEST_CASE("INTx connects trigger and unmask; Shutdown disables it") {
  FakeVfioDevice dev;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, 1);
  REQUIRE(relay.ConnectIntx(7, 8).ok());
  CHECK(dev.triggers.at(VFIO_PCI_INTX_IRQ_INDEX)[0] == 7);
  CHECK(dev.unmask.at(VFIO_PCI_INTX_IRQ_INDEX) == 8);
  relay.Shutdown();
  CHECK(dev.triggers.empty());
  CHECK(dev.disables.at(VFIO_PCI_INTX_IRQ_INDEX) == 1);
}

void Signal(int fd) {
  const uint64_t one = 1;
  REQUIRE(::write(fd, &one, sizeof(one)) == sizeof(one));
}

TEST_CASE("HostGrantsOneOfEightMsi: MSI is enabled with 1 vector, not left to INTx") {
  FakeVfioDevice dev;
  dev.irqs_[VFIO_PCI_MSI_IRQ_INDEX].count = 8;  // MMC 3.
  dev.host_vectors[VFIO_PCI_MSI_IRQ_INDEX] = 1;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, 1, 8);
  REQUIRE(relay.ConnectIntx(7, 8).ok());
  relay.msi_sink().UpdateRoute(0, kMessage);
  relay.msi_sink().UpdateRoute(2, kMessage);
  relay.MsiEnabled(8);
  CHECK(dev.enables.at(VFIO_PCI_MSI_IRQ_INDEX) == std::vector<size_t>{8, 1});
  REQUIRE(dev.triggers.at(VFIO_PCI_MSI_IRQ_INDEX).size() == 1);
  CHECK(relay.msi_trigger_of(0) == routes.TriggerFd(0));
  CHECK(relay.msi_trigger_of(2) == -1);  // Recorded, unconnected.
  CHECK(relay.msi_enabled());
  CHECK(dev.triggers.count(VFIO_PCI_INTX_IRQ_INDEX) == 0);
}

TEST_CASE("HostGrantsThreeOfEightMsi: the retry asks for a power of two") {
  FakeVfioDevice dev;
  dev.irqs_[VFIO_PCI_MSI_IRQ_INDEX].count = 8;
  dev.host_vectors[VFIO_PCI_MSI_IRQ_INDEX] = 3;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, 1, 8);
  relay.MsiEnabled(8);
  CHECK(dev.enables.at(VFIO_PCI_MSI_IRQ_INDEX) == std::vector<size_t>{8, 2});
  CHECK(dev.triggers.at(VFIO_PCI_MSI_IRQ_INDEX).size() == 2);
}

TEST_CASE("ShortMsiGrant: later MSI writes with the same MME do not re-enable") {
  FakeVfioDevice dev;
  dev.host_vectors[VFIO_PCI_MSI_IRQ_INDEX] = 1;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, 1, 4);
  relay.MsiEnabled(4);
  relay.MsiEnabled(4);  // The guest wrote a mask bit, say.
  CHECK(dev.enables.at(VFIO_PCI_MSI_IRQ_INDEX).size() == 2);
  CHECK(dev.disables.count(VFIO_PCI_MSI_IRQ_INDEX) == 0);
}

TEST_CASE("HostGrantsFewerMsix: MSI-X gets what the host has; the rest stay unconnected") {
  FakeVfioDevice dev;
  dev.host_vectors[VFIO_PCI_MSIX_IRQ_INDEX] = 20;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, FakeVfioDevice::kVectors);
  relay.MsixEnabled();
  CHECK(dev.enables.at(VFIO_PCI_MSIX_IRQ_INDEX) ==
        std::vector<size_t>{FakeVfioDevice::kVectors, 20});
  REQUIRE(dev.triggers.at(VFIO_PCI_MSIX_IRQ_INDEX).size() == 20);
  const int calls = dev.set_irqs_calls;
  relay.UpdateRoute(30, kMessage);
  CHECK(dev.set_irqs_calls == calls);
  CHECK(relay.trigger_of(30) == -1);
  relay.UpdateRoute(19, kMessage);
  CHECK(relay.trigger_of(19) == routes.TriggerFd(19));
}

TEST_CASE("A parked MSI-X vector that was signalled reads as pending, unconsumed") {
  FakeVfioDevice dev;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, FakeVfioDevice::kVectors);
  relay.UpdateRoute(64, kMessage);
  relay.UpdateRoute(64, std::nullopt);  // Masked: parked.
  Signal(relay.trigger_of(64));
  CHECK(relay.msix_parked_pending(64, 64) == 1);
  CHECK(relay.msix_parked_pending(0, 64) == 0);
  CHECK(relay.msix_parked_pending(64, 64) == 1);
}

TEST_CASE("MsixDisableDropsParkedSignals: nothing fires after a re-enable") {
  FakeVfioDevice dev;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, 4);
  relay.UpdateRoute(1, kMessage);
  relay.UpdateRoute(1, std::nullopt);
  Signal(relay.trigger_of(1));
  relay.MsixDisabled();
  relay.MsixEnabled();
  CHECK(relay.msix_parked_pending(0, 4) == 0);
  relay.UpdateRoute(1, kMessage);
  CHECK(routes.fired.empty());
}

TEST_CASE("MmeLowered: a parked signal of a vector no longer enabled is dropped") {
  FakeVfioDevice dev;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, 1, 4);
  relay.MsiEnabled(4);
  Signal(relay.msi_trigger_of(3));  // Parked: unrouted.
  relay.MsiEnabled(2);
  CHECK(relay.msi_parked_pending() == 0);
  relay.MsiEnabled(4);
  CHECK(relay.msi_parked_pending() == 0);
  relay.msi_sink().UpdateRoute(3, kMessage);
  CHECK(routes.fired.empty());
}

TEST_CASE("ShutdownIsSticky: nothing enables an interrupt on the device afterwards") {
  FakeVfioDevice dev;
  FakeVectorRoutes routes;
  InterruptRelay relay("t", dev, routes, 4, 4);
  relay.Shutdown();
  relay.MsixEnabled();
  relay.UpdateRoute(0, kMessage);
  relay.MsiEnabled(1);
  CHECK_FALSE(relay.ConnectIntx(7, 8).ok());
  relay.MsixDisabled();
  CHECK(dev.triggers.empty());
  CHECK(dev.set_irqs_calls == 0);
}

}  // namespace
}  // namespace mini_vmm::vfio_pci
