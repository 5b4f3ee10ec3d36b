// ConfigurePics on a real VM (KVM tier: skipped where /dev/kvm does not open).
#include <catch2/catch.hpp>

#include "arch/x86_64/pic.h"
#include "tests/support/tiny_guest.h"

namespace mini_vmm::arch::x86_64 {
namespace {

TEST_CASE("ConfigurePics programs both in-kernel PICs of a real VM") {
  auto guest = testing::MakeTinyGuest({});

  REQUIRE(ConfigurePics(guest->vm).ok());

  auto master = guest->vm.GetPicState(KVM_IRQCHIP_PIC_MASTER);
  auto slave = guest->vm.GetPicState(KVM_IRQCHIP_PIC_SLAVE);
  REQUIRE(master.ok());
  REQUIRE(slave.ok());
  CHECK(master->irq_base == 0x08);
  CHECK(master->imr == 0xff);
  CHECK(slave->irq_base == 0x70);
  CHECK(slave->imr == 0xff);
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
