#include "arch/x86_64/irq_routing.h"

#include "arch/x86_64/platform/layout.h"

namespace mini_vmm::arch::x86_64 {
namespace {

constexpr uint32_t kPicCascadePin = 2;
constexpr uint32_t kPitGsi = 0;
constexpr uint32_t kPitIoapicPin = 2;

kvm_irq_routing_entry IrqchipRoute(uint32_t gsi, uint32_t chip, uint32_t pin) {
  kvm_irq_routing_entry e{};
  e.gsi = gsi;
  e.type = KVM_IRQ_ROUTING_IRQCHIP;
  e.u.irqchip.irqchip = chip;
  e.u.irqchip.pin = pin;
  return e;
}

}  // namespace

std::vector<kvm_irq_routing_entry> LegacyIrqRoutes() {
  std::vector<kvm_irq_routing_entry> routes;
  for (uint32_t gsi = 0; gsi < 8; ++gsi) {
    if (gsi != kPicCascadePin) routes.push_back(IrqchipRoute(gsi, KVM_IRQCHIP_PIC_MASTER, gsi));
  }
  for (uint32_t gsi = 8; gsi < 16; ++gsi) {
    routes.push_back(IrqchipRoute(gsi, KVM_IRQCHIP_PIC_SLAVE, gsi - 8));
  }
  for (uint32_t gsi = 0; gsi < kIoapicPins; ++gsi) {
    if (gsi == kPitGsi) {
      routes.push_back(IrqchipRoute(gsi, KVM_IRQCHIP_IOAPIC, kPitIoapicPin));
    } else if (gsi != kPicCascadePin) {
      routes.push_back(IrqchipRoute(gsi, KVM_IRQCHIP_IOAPIC, gsi));
    }
  }
  return routes;
}

}  // namespace mini_vmm::arch::x86_64
