#include "arch/x86_64/pic.h"

#include <catch2/catch.hpp>


namespace mini_vmm::arch::x86_64 {
namespace {

// KVM's power-on PIC (kvm_pic_reset): everything zero except the ELCR
// mask, which says which lines may be level-triggered.
kvm_pic_state PowerOnState(uint8_t elcr_mask) {
  kvm_pic_state state{};
  state.elcr_mask = elcr_mask;
  return state;
}

TEST_CASE("The master PIC's vectors start at 0x08, where a BIOS puts them") {
  const kvm_pic_state state = FirmwarePicState(Pic::kMaster, PowerOnState(0xf8));

  CHECK(state.irq_base == 0x08);
}

TEST_CASE("The slave PIC's vectors start at 0x70, where a BIOS puts them") {
  const kvm_pic_state state = FirmwarePicState(Pic::kSlave, PowerOnState(0xde));

  CHECK(state.irq_base == 0x70);
}

TEST_CASE("Every line of both PICs is masked") {
  const kvm_pic_state master = FirmwarePicState(Pic::kMaster, PowerOnState(0xf8));
  const kvm_pic_state slave = FirmwarePicState(Pic::kSlave, PowerOnState(0xde));

  CHECK(master.imr == 0xff);
  CHECK(slave.imr == 0xff);
}

TEST_CASE("A PIC with requests pending or in service is left quiet") {
  kvm_pic_state busy = PowerOnState(0xf8);
  busy.irr = 0x10;
  busy.last_irr = 0x10;
  busy.isr = 0x01;

  const kvm_pic_state state = FirmwarePicState(Pic::kMaster, busy);

  CHECK(state.irr == 0);
  CHECK(state.last_irr == 0);
  CHECK(state.isr == 0);
}

TEST_CASE("A PIC caught in the middle of an ICW sequence is left initialised") {
  kvm_pic_state midway = PowerOnState(0xf8);
  midway.init_state = 2;
  midway.auto_eoi = 1;

  const kvm_pic_state state = FirmwarePicState(Pic::kMaster, midway);

  CHECK(state.init_state == 0);
  CHECK(state.init4 == 1);
  CHECK(state.auto_eoi == 0);
}

TEST_CASE("KVM's ELCR mask and trigger modes are kept") {
  kvm_pic_state current = PowerOnState(0xde);
  current.elcr = 0x0c;

  const kvm_pic_state state = FirmwarePicState(Pic::kSlave, current);

  CHECK(state.elcr_mask == 0xde);
  CHECK(state.elcr == 0x0c);
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
