#include "vmm/gdb/kvm/kvm_registers.h"

#include <catch2/catch.hpp>

namespace mini_vmm::gdb {
namespace {

KvmRegisterState Sample() {
  KvmRegisterState state;
  state.regs.rax = 1;
  state.regs.rsp = 0xffffc90000003f00;
  state.regs.r15 = 15;
  state.regs.rip = 0xffffffff81000000;
  state.regs.rflags = 0x246;
  state.sregs.cs.selector = 0x10;
  state.sregs.gs.selector = 0x18;
  state.sregs.fs.base = 0x7f0000001000;
  state.sregs.gs.base = 0xffff888000000000;
  state.sregs.cr0 = 0x80050033;
  state.sregs.cr2 = 0xdead000;
  state.sregs.cr3 = 0x1000;
  state.sregs.cr4 = 0x3406f0;
  state.sregs.cr8 = 1;
  state.sregs.efer = 0xd01;
  state.kernel_gs_base = 0x1234;
  state.fpu.fcw = 0x37f;
  state.fpu.ftwx = 0x81;  // st0 and st7 in use.
  state.fpu.fpr[7][9] = 0x40;
  state.fpu.xmm[15][0] = 0xaa;
  state.fpu.mxcsr = 0x1f80;
  return state;
}

TEST_CASE("KVM's registers land in gdb's numbering") {
  const RegisterFile file = ToRegisterFile(Sample());
  CHECK(file.Get(Register::kRax) == 1);
  CHECK(file.Get(Register::kRsp) == 0xffffc90000003f00);
  CHECK(file.Get(Register::kR15) == 15);
  CHECK(file.Get(Register::kRip) == 0xffffffff81000000);
  CHECK(file.Get(Register::kEflags) == 0x246);
  CHECK(file.Get(Register::kCs) == 0x10);
  CHECK(file.Get(Register::kGs) == 0x18);
  CHECK(file.Get(Register::kFsBase) == 0x7f0000001000);
  CHECK(file.Get(Register::kGsBase) == 0xffff888000000000);
  CHECK(file.Get(Register::kKernelGsBase) == 0x1234);
  CHECK(file.Get(Register::kCr0) == 0x80050033);
  CHECK(file.Get(Register::kCr2) == 0xdead000);
  CHECK(file.Get(Register::kCr3) == 0x1000);
  CHECK(file.Get(Register::kCr4) == 0x3406f0);
  CHECK(file.Get(Register::kCr8) == 1);
  CHECK(file.Get(Register::kEfer) == 0xd01);
  CHECK(file.Get(Register::kFctrl) == 0x37f);
  CHECK(file.Bytes(Register::kSt7)[9] == 0x40);
  CHECK(file.Bytes(Register::kXmm15)[0] == 0xaa);
  CHECK(file.Get(Register::kMxcsr) == 0x1f80);
  CHECK(file.Get(Register::kOrigRax) == ~uint64_t{0});
}

TEST_CASE("The abridged x87 tag becomes the full tag word") {
  // st0 and st7 valid (00), the rest empty (11).
  CHECK(ToRegisterFile(Sample()).Get(Register::kFtag) == 0x3ffc);
}

TEST_CASE("gdb's registers go back into KVM's structures") {
  KvmRegisterState state = Sample();
  RegisterFile file = ToRegisterFile(state);
  file.Set(Register::kRbx, 0xb);
  file.Set(Register::kRip, 0xffffffff81000010);
  file.Set(Register::kCr3, 0x2000);
  file.Set(Register::kKernelGsBase, 0x5678);
  file.Set(Register::kFtag, 0xfffc);  // Only st0 in use.
  FromRegisterFile(file, state);
  CHECK(state.regs.rbx == 0xb);
  CHECK(state.regs.rip == 0xffffffff81000010);
  CHECK(state.sregs.cr3 == 0x2000);
  CHECK(state.kernel_gs_base == 0x5678);
  CHECK(state.fpu.ftwx == 0x01);
  CHECK(state.fpu.xmm[15][0] == 0xaa);
}

TEST_CASE("Selectors gdb writes are not applied") {
  KvmRegisterState state = Sample();
  RegisterFile file = ToRegisterFile(state);
  file.Set(Register::kCs, 0x33);
  FromRegisterFile(file, state);
  CHECK(state.sregs.cs.selector == 0x10);
}

TEST_CASE("A round trip changes nothing gdb can see") {
  KvmRegisterState state = Sample();
  const RegisterFile before = ToRegisterFile(state);
  FromRegisterFile(before, state);
  CHECK(ToRegisterFile(state) == before);
}

}  // namespace
}  // namespace mini_vmm::gdb
