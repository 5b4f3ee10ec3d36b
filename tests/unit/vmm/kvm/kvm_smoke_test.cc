// KVM tier: Kvm, Vm and Vcpu against the real /dev/kvm, with tiny real-mode
// guests (tests/support/tiny_guest.h). Reported as skipped where /dev/kvm
// does not open (tests/support/kvm_main.cc).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/fake_guest_memory.h"
#include "tests/support/tiny_guest.h"
#include "vmm/base/event_fd.h"
#include "vmm/kvm/kvm.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/kvm/vm.h"

namespace mini_vmm::kvm {
namespace {

using testing::kTinyGuestCodeAddress;
using testing::MakeGuestMemory;
using testing::MakeTinyGuest;
using testing::OpenKvm;
using testing::RunUntilExit;
using testing::RunUntilIoExit;

// --- Kvm ---------------------------------------------------------------------

TEST_CASE("Kvm reports the vCPU mapping size, vCPU limit and capabilities") {
  Kvm kvm = OpenKvm();

  CHECK(kvm.vcpu_mmap_size() >= sizeof(kvm_run));
  CHECK(kvm.max_vcpus() >= 1);
  CHECK(kvm.CheckExtension(KVM_CAP_IRQCHIP) > 0);
  CHECK(kvm.CheckExtension(-1) == 0);
}

TEST_CASE("Kvm::GetSupportedCpuid includes the basic leaf 0") {
  Kvm kvm = OpenKvm();

  auto cpuid = kvm.GetSupportedCpuid();

  INFO((cpuid.ok() ? std::string() : cpuid.error().ToString()));
  REQUIRE(cpuid.ok());
  CHECK(std::any_of(cpuid->begin(), cpuid->end(),
                    [](const kvm_cpuid_entry2& e) { return e.function == 0; }));
}

TEST_CASE("Kvm::GetMsrIndexList includes IA32_TSC") {
  Kvm kvm = OpenKvm();

  auto msrs = kvm.GetMsrIndexList();

  INFO((msrs.ok() ? std::string() : msrs.error().ToString()));
  REQUIRE(msrs.ok());
  CHECK(std::find(msrs->begin(), msrs->end(), 0x10u) != msrs->end());
}

// --- Port I/O -----------------------------------------------------------------

TEST_CASE("A guest OUT reaches userspace as an IoExit write with the byte") {
  constexpr uint8_t kCode[] = {
      0xb0, 0x42,  // mov al, 0x42
      0xe6, 0x10,  // out 0x10, al
      0xf4,        // hlt
  };
  auto guest = MakeTinyGuest(kCode);

  IoExit io = RunUntilIoExit(guest->vcpu);

  CHECK(io.port == 0x10);
  CHECK(io.is_write);
  CHECK(io.size == 1);
  CHECK(io.count == 1);
  REQUIRE(io.data.size() == 1);
  CHECK(io.data[0] == 0x42);
}

// KVM completes an OUT that exited to userspace (advancing RIP) only on the
// next KVM_RUN (Linux 4.20+, x86.c complete_fast_pio_out): in between, the
// registers show RIP still at the OUT. Crash dumps taken at a PIO exit show
// that instruction.
TEST_CASE("After an OUT exit the registers show AL, and RIP at the OUT until the next run") {
  constexpr uint8_t kCode[] = {
      0xb0, 0x42,  // mov al, 0x42
      0xe6, 0x10,  // out 0x10, al
      0xe6, 0x11,  // out 0x11, al
  };
  auto guest = MakeTinyGuest(kCode);
  (void)RunUntilIoExit(guest->vcpu);

  auto at_first_out = guest->vcpu.GetRegs();
  (void)RunUntilIoExit(guest->vcpu);
  auto at_second_out = guest->vcpu.GetRegs();

  REQUIRE(at_first_out.ok());
  CHECK((at_first_out->rax & 0xff) == 0x42);
  CHECK(at_first_out->rip == kTinyGuestCodeAddress + 2);
  REQUIRE(at_second_out.ok());
  CHECK(at_second_out->rip == kTinyGuestCodeAddress + 4);
}

TEST_CASE("A value filled into an IN exit is what the guest reads") {
  constexpr uint8_t kCode[] = {
      0xe4, 0x11,  // in al, 0x11
      0xe6, 0x12,  // out 0x12, al
      0xf4,        // hlt
  };
  auto guest = MakeTinyGuest(kCode);
  IoExit in = RunUntilIoExit(guest->vcpu);
  REQUIRE(in.port == 0x11);
  REQUIRE_FALSE(in.is_write);
  REQUIRE(in.data.size() == 1);
  in.data[0] = 0x5a;

  IoExit out = RunUntilIoExit(guest->vcpu);

  CHECK(out.port == 0x12);
  CHECK(out.is_write);
  REQUIRE(out.data.size() == 1);
  CHECK(out.data[0] == 0x5a);
}

// --- MMIO ---------------------------------------------------------------------

// The MMIO guests first point DS at guest-physical 0x20000, past RAM.
TEST_CASE("A guest write outside every memslot reaches userspace as an MmioExit") {
  constexpr uint8_t kCode[] = {
      0xb8, 0x00, 0x20,              // mov ax, 0x2000
      0x8e, 0xd8,                    // mov ds, ax
      0xc6, 0x06, 0x10, 0x00, 0x77,  // mov byte [0x0010], 0x77
      0xe6, 0x13,                    // out 0x13, al
      0xf4,                          // hlt
  };
  auto guest = MakeTinyGuest(kCode);

  std::optional<VcpuExit> exit = RunUntilExit(guest->vcpu);

  REQUIRE(exit.has_value());
  REQUIRE(std::holds_alternative<MmioExit>(*exit));
  const MmioExit& mmio = std::get<MmioExit>(*exit);
  CHECK(mmio.address == 0x20010);
  CHECK(mmio.is_write);
  REQUIRE(mmio.data.size() == 1);
  CHECK(mmio.data[0] == 0x77);
}

TEST_CASE("A value filled into an MMIO read exit is what the guest reads") {
  constexpr uint8_t kCode[] = {
      0xb8, 0x00, 0x20,  // mov ax, 0x2000
      0x8e, 0xd8,        // mov ds, ax
      0xa0, 0x10, 0x00,  // mov al, [0x0010]
      0xe6, 0x13,        // out 0x13, al
      0xf4,              // hlt
  };
  auto guest = MakeTinyGuest(kCode);
  std::optional<VcpuExit> exit = RunUntilExit(guest->vcpu);
  REQUIRE(exit.has_value());
  REQUIRE(std::holds_alternative<MmioExit>(*exit));
  MmioExit read = std::get<MmioExit>(*exit);
  REQUIRE_FALSE(read.is_write);
  REQUIRE(read.data.size() == 1);
  read.data[0] = 0x99;

  IoExit out = RunUntilIoExit(guest->vcpu);

  CHECK(out.port == 0x13);
  REQUIRE(out.data.size() == 1);
  CHECK(out.data[0] == 0x99);
}

TEST_CASE("A guest write to a memslot added later lands in its memory without an exit") {
  constexpr uint8_t kCode[] = {
      0xb8, 0x00, 0x20,              // mov ax, 0x2000
      0x8e, 0xd8,                    // mov ds, ax
      0xc6, 0x06, 0x10, 0x00, 0x77,  // mov byte [0x0010], 0x77
      0xe6, 0x13,                    // out 0x13, al
      0xf4,                          // hlt
  };
  auto guest = MakeTinyGuest(kCode);
  GuestMemory extra = MakeGuestMemory(0x20000, 0x1000);
  auto slot =
      guest->vm.AddMemslot(GuestAddress(0x20000), 0x1000, extra.regions()[0].host_address());
  REQUIRE(slot.ok());

  IoExit out = RunUntilIoExit(guest->vcpu);

  CHECK(out.port == 0x13);
  CHECK(slot->slot() == 1);
  CHECK(extra.ReadObj<uint8_t>(GuestAddress(0x20010)) == uint8_t{0x77});
}

// --- ioeventfd ----------------------------------------------------------------

TEST_CASE("A PIO ioeventfd absorbs matching guest writes without exits and counts them") {
  constexpr uint8_t kCode[] = {
      0xb9, 0x0a, 0x00,  // mov cx, 10
      0xb0, 0x07,        // mov al, 7
      0xe6, 0x30,        // again: out 0x30, al
      0xe2, 0xfc,        // loop again
      0xe6, 0x31,        // out 0x31, al
      0xf4,              // hlt
  };
  auto guest = MakeTinyGuest(kCode);
  auto efd = EventFd::Create();
  REQUIRE(efd.ok());
  auto doorbell = guest->vm.RegisterIoEvent(*efd, IoEventSpace::kPio, 0x30, 1, uint64_t{7});
  REQUIRE(doorbell.ok());

  IoExit io = RunUntilIoExit(guest->vcpu);

  CHECK(io.port == 0x31);
  CHECK(efd->Consume() == 10);
}

TEST_CASE("A PIO ioeventfd with datamatch lets a write of another value exit") {
  constexpr uint8_t kCode[] = {
      0xb0, 0x08,  // mov al, 8
      0xe6, 0x30,  // out 0x30, al
      0xf4,        // hlt
  };
  auto guest = MakeTinyGuest(kCode);
  auto efd = EventFd::Create();
  REQUIRE(efd.ok());
  auto doorbell = guest->vm.RegisterIoEvent(*efd, IoEventSpace::kPio, 0x30, 1, uint64_t{7});
  REQUIRE(doorbell.ok());

  IoExit io = RunUntilIoExit(guest->vcpu);

  CHECK(io.port == 0x30);
  REQUIRE(io.data.size() == 1);
  CHECK(io.data[0] == 8);
  CHECK(efd->Consume() == 0);
}

TEST_CASE("A destroyed IoEventFd no longer absorbs guest writes") {
  constexpr uint8_t kCode[] = {
      0xb0, 0x07,  // mov al, 7
      0xe6, 0x30,  // out 0x30, al
      0xf4,        // hlt
  };
  auto guest = MakeTinyGuest(kCode);
  auto efd = EventFd::Create();
  REQUIRE(efd.ok());
  {
    auto doorbell = guest->vm.RegisterIoEvent(*efd, IoEventSpace::kPio, 0x30, 1, uint64_t{7});
    REQUIRE(doorbell.ok());
  }

  IoExit io = RunUntilIoExit(guest->vcpu);

  CHECK(io.port == 0x30);
  CHECK(efd->Consume() == 0);
}

// --- Memslots -----------------------------------------------------------------

TEST_CASE("A memslot destroyed and added again serves the guest, under the same slot number") {
  constexpr uint8_t kCode[] = {
      0xb0, 0x42, 0xe6, 0x10,  // mov al, 0x42; out 0x10, al
      0xb0, 0x43, 0xe6, 0x10,  // mov al, 0x43; out 0x10, al
      0xf4,                    // hlt
  };
  auto guest = MakeTinyGuest(kCode);
  IoExit first = RunUntilIoExit(guest->vcpu);
  REQUIRE(first.data[0] == 0x42);
  guest->ram.reset();
  auto again = guest->vm.AddMemslot(GuestAddress(0), testing::kTinyGuestRamSize,
                                    guest->mem.regions()[0].host_address());
  REQUIRE(again.ok());
  guest->ram.emplace(std::move(*again));

  IoExit second = RunUntilIoExit(guest->vcpu);

  CHECK(guest->ram->slot() == 0);
  CHECK(second.port == 0x10);
  REQUIRE(second.data.size() == 1);
  CHECK(second.data[0] == 0x43);
}

TEST_CASE("A failed AddMemslot gives its slot number back") {
  Kvm kvm = OpenKvm();
  auto vm = kvm.CreateVm();
  REQUIRE(vm.ok());
  GuestMemory mem = MakeGuestMemory(0, 0x2000);
  // KVM refuses a size that is not a multiple of the page size.
  auto bad = vm->AddMemslot(GuestAddress(0), 0x1001, mem.regions()[0].host_address());
  REQUIRE_FALSE(bad.ok());

  auto good = vm->AddMemslot(GuestAddress(0), 0x2000, mem.regions()[0].host_address());

  REQUIRE(good.ok());
  CHECK(good->slot() == 0);
}

TEST_CASE("AddMemslot beyond the slot table fails naming the limit") {
  Kvm kvm = OpenKvm();
  auto vm = kvm.CreateVm();
  REQUIRE(vm.ok());
  constexpr uint64_t kPages = 33;
  GuestMemory mem = MakeGuestMemory(0, kPages * 0x1000);
  std::vector<Memslot> slots;
  for (uint64_t page = 0; page < kPages - 1; ++page) {
    auto slot = vm->AddMemslot(GuestAddress(page * 0x1000), 0x1000,
                               mem.regions()[0].host_address() + page * 0x1000);
    REQUIRE(slot.ok());
    slots.push_back(std::move(*slot));
  }

  auto one_too_many = vm->AddMemslot(GuestAddress((kPages - 1) * 0x1000), 0x1000,
                                     mem.regions()[0].host_address() + (kPages - 1) * 0x1000);

  REQUIRE_FALSE(one_too_many.ok());
  CHECK(one_too_many.error().ToString() == "all 32 KVM memory slots are in use");
}

// --- irqfd --------------------------------------------------------------------

TEST_CASE("RegisterIrqFd refuses the same eventfd twice while the first is registered") {
  auto guest = MakeTinyGuest({});
  auto efd = EventFd::Create();
  REQUIRE(efd.ok());
  auto irq = guest->vm.RegisterIrqFd(*efd, 5);
  REQUIRE(irq.ok());

  auto twice = guest->vm.RegisterIrqFd(*efd, 5);

  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().errno_value() == EBUSY);
  CHECK(twice.error().context() == "cannot register an irqfd for GSI 5");
}

TEST_CASE("A destroyed IrqFd deregisters, so the eventfd can be registered again") {
  auto guest = MakeTinyGuest({});
  auto efd = EventFd::Create();
  REQUIRE(efd.ok());
  {
    auto irq = guest->vm.RegisterIrqFd(*efd, 5);
    REQUIRE(irq.ok());
  }

  auto again = guest->vm.RegisterIrqFd(*efd, 5);

  CHECK(again.ok());
}

// --- Exit requests ------------------------------------------------------------

TEST_CASE("RequestExit makes the next Run return InterruptedExit without entering the guest") {
  constexpr uint8_t kCode[] = {0xb0, 0x42, 0xe6, 0x10, 0xf4};  // mov al,0x42; out 0x10,al; hlt
  auto guest = MakeTinyGuest(kCode);
  guest->vcpu.RequestExit();

  VcpuExit exit = guest->vcpu.Run();

  CHECK(std::holds_alternative<InterruptedExit>(exit));
}

TEST_CASE("ClearExitRequest lets the guest run again") {
  constexpr uint8_t kCode[] = {0xb0, 0x42, 0xe6, 0x10, 0xf4};  // mov al,0x42; out 0x10,al; hlt
  auto guest = MakeTinyGuest(kCode);
  guest->vcpu.RequestExit();
  REQUIRE(std::holds_alternative<InterruptedExit>(guest->vcpu.Run()));
  guest->vcpu.ClearExitRequest();

  IoExit io = RunUntilIoExit(guest->vcpu);

  CHECK(io.port == 0x10);
}

// --- vCPU state ---------------------------------------------------------------

TEST_CASE("Vcpu::SetCpuid accepts KVM's own supported CPUID table") {
  auto guest = MakeTinyGuest({});
  auto supported = guest->kvm.GetSupportedCpuid();
  INFO((supported.ok() ? std::string() : supported.error().ToString()));
  REQUIRE(supported.ok());

  auto set = guest->vcpu.SetCpuid(*supported);

  INFO((set.ok() ? std::string() : set.error().ToString()));
  CHECK(set.ok());
}

TEST_CASE("An MSR written with Vcpu::SetMsrs reads back with Vcpu::GetMsrs") {
  auto guest = MakeTinyGuest({});
  constexpr uint32_t kSysenterCs = 0x174;
  const kvm_msr_entry written{kSysenterCs, 0, 0x10};
  auto set = guest->vcpu.SetMsrs({&written, 1});
  INFO((set.ok() ? std::string() : set.error().ToString()));
  REQUIRE(set.ok());

  auto read = guest->vcpu.GetMsrs(std::vector<uint32_t>{kSysenterCs});

  INFO((read.ok() ? std::string() : read.error().ToString()));
  REQUIRE(read.ok());
  REQUIRE(read->size() == 1);
  CHECK((*read)[0].index == kSysenterCs);
  CHECK((*read)[0].data == 0x10);
}

TEST_CASE("Vcpu::Translate maps a real-mode linear address to itself") {
  auto guest = MakeTinyGuest({});

  auto tr = guest->vcpu.Translate(0x1234);

  REQUIRE(tr.ok());
  CHECK(tr->valid == 1);
  CHECK(tr->physical_address == 0x1234);
}

TEST_CASE("A LAPIC register set with Vcpu::SetLapic reads back with Vcpu::GetLapic") {
  auto guest = MakeTinyGuest({});
  auto lapic = guest->vcpu.GetLapic();
  REQUIRE(lapic.ok());
  constexpr size_t kTaskPriority = 0x80;
  lapic->regs[kTaskPriority] = 0x20;
  REQUIRE(guest->vcpu.SetLapic(*lapic).ok());

  auto again = guest->vcpu.GetLapic();

  REQUIRE(again.ok());
  CHECK(again->regs[kTaskPriority] == 0x20);
}

TEST_CASE("The boot vCPU starts runnable") {
  auto guest = MakeTinyGuest({});

  auto mp = guest->vcpu.GetMpState();

  REQUIRE(mp.ok());
  CHECK(mp->mp_state == KVM_MP_STATE_RUNNABLE);
}

}  // namespace
}  // namespace mini_vmm::kvm
