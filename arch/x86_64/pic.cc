#include "arch/x86_64/pic.h"

namespace mini_vmm::arch::x86_64 {

kvm_pic_state FirmwarePicState(Pic pic, const kvm_pic_state& current) {
  kvm_pic_state state = current;
  state.irq_base = pic == Pic::kMaster ? kMasterPicVectorBase : kSlavePicVectorBase;
  state.imr = kPicAllMasked;
  // Nothing pending or in service: the OS starts from a quiet controller.
  state.irr = 0;
  state.isr = 0;
  state.last_irr = 0;
  // ICW1 asked for an ICW4 (8086 mode, normal EOI), and initialisation is
  // complete: the next port write is an OCW, not the middle of a sequence.
  state.init4 = 1;
  state.init_state = 0;
  state.auto_eoi = 0;
  return state;
}

Result<void> ConfigurePics(kvm::Vm& vm) {
  for (const Pic pic : {Pic::kMaster, Pic::kSlave}) {
    const uint32_t chip = static_cast<uint32_t>(pic);
    const kvm_pic_state current = TRY(vm.GetPicState(chip));
    TRY(vm.SetPicState(chip, FirmwarePicState(pic, current)));
  }
  return {};
}

}  // namespace mini_vmm::arch::x86_64
