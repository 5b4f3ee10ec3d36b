// The KVM tier: a one-vCPU VM in 16-bit real mode running a few
// hand-assembled bytes, for tests of the KVM API wrappers and of code that
// needs a real vCPU. Only for tests built with mini_vmm_kvm_test()
// (tests/CMakeLists.txt): their main (tests/support/kvm_main.cc) reports the
// whole executable as skipped where /dev/kvm does not open, so here a KVM
// failure is a test failure.
//
//   constexpr uint8_t kCode[] = {0xb0, 0x42, 0xe6, 0x10};  // mov al,0x42; out 0x10,al
//   auto guest = MakeTinyGuest(kCode);
//   auto exit = RunUntilExit(guest->vcpu);
//
// With the in-kernel irqchip a guest HLT waits inside KVM, so tiny guests
// end with an OUT to a port the test watches. RunUntilExit() kicks the vCPU
// out of KVM_RUN every 50 ms and gives up after kMaxRunCalls calls, so a
// broken guest fails the test instead of hanging it.
#pragma once

#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "tests/support/fake_guest_memory.h"
#include "vmm/kvm/kvm.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/kvm/vm.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::testing {

inline constexpr uint64_t kTinyGuestRamSize = 0x10000;  // 64 KiB at guest-physical 0.
inline constexpr uint64_t kTinyGuestCodeAddress = 0x1000;
// Outside guest RAM and below 4 GiB, where KVM wants them on Intel.
inline constexpr uint64_t kTinyGuestTssAddress = 0xfffb'd000;
inline constexpr int kMaxRunCalls = 100;

struct TinyGuest {
  kvm::Kvm kvm;
  kvm::Vm vm;
  GuestMemory mem;
  // Declared after `mem`, so it leaves KVM before the mapping goes.
  std::optional<kvm::Memslot> ram;
  kvm::Vcpu vcpu;
};

// Opens /dev/kvm; fails the test if it does not open (kvm_main.cc has
// already checked that it does).
inline kvm::Kvm OpenKvm() {
  auto kvm = kvm::Kvm::Open();
  INFO((kvm.ok() ? std::string() : kvm.error().ToString()));
  REQUIRE(kvm.ok());
  return std::move(kvm).value();
}

// A VM with an in-kernel irqchip, kTinyGuestRamSize bytes of RAM in memslot
// 0 holding `code` at kTinyGuestCodeAddress, and vCPU 0 about to execute it
// in real mode (CS base 0, selector 0).
// Never null: any failure fails the test.
inline std::unique_ptr<TinyGuest> MakeTinyGuest(std::span<const uint8_t> code) {
  kvm::Kvm kvm = OpenKvm();
  auto vm = kvm.CreateVm();
  REQUIRE(vm.ok());
  REQUIRE(vm->SetTssAddress(kTinyGuestTssAddress).ok());
  REQUIRE(vm->CreateIrqchip().ok());

  GuestMemory mem = MakeGuestMemory(0, kTinyGuestRamSize);
  REQUIRE(mem.Write(GuestAddress(kTinyGuestCodeAddress), code));
  auto ram = vm->AddMemslot(GuestAddress(0), kTinyGuestRamSize, mem.regions()[0].host_address());
  REQUIRE(ram.ok());

  auto vcpu = vm->CreateVcpu(0);
  REQUIRE(vcpu.ok());
  auto sregs = vcpu->GetSregs();
  REQUIRE(sregs.ok());
  sregs->cs.base = 0;
  sregs->cs.selector = 0;
  REQUIRE(vcpu->SetSregs(*sregs).ok());
  kvm_regs regs{};
  regs.rip = kTinyGuestCodeAddress;
  regs.rflags = 0x2;  // Bit 1 is reserved and reads as 1.
  REQUIRE(vcpu->SetRegs(regs).ok());

  return std::unique_ptr<TinyGuest>(new TinyGuest{std::move(kvm), std::move(*vm), std::move(mem),
                                                  std::move(*ram), std::move(*vcpu)});
}

// Sends a signal to the calling thread every 50 ms while it exists, so
// KVM_RUN returns EINTR even if the guest never exits.
class RunWatchdog {
 public:
  RunWatchdog() {
    struct sigaction action {};
    action.sa_handler = [](int) {};
    sigemptyset(&action.sa_mask);
    REQUIRE(::sigaction(SIGRTMIN, &action, nullptr) == 0);  // No SA_RESTART.
    sigevent event{};
    event.sigev_notify = SIGEV_THREAD_ID;  // glibc 2.36 lacks sigev_notify_thread_id.
    event.sigev_signo = SIGRTMIN;
    event._sigev_un._tid = static_cast<pid_t>(::syscall(SYS_gettid));
    REQUIRE(::timer_create(CLOCK_MONOTONIC, &event, &timer_) == 0);
    itimerspec period{};
    period.it_interval.tv_nsec = 50'000'000;
    period.it_value.tv_nsec = 50'000'000;
    REQUIRE(::timer_settime(timer_, 0, &period, nullptr) == 0);
  }
  ~RunWatchdog() { ::timer_delete(timer_); }
  RunWatchdog(const RunWatchdog&) = delete;
  RunWatchdog& operator=(const RunWatchdog&) = delete;

 private:
  timer_t timer_{};
};

// Runs the vCPU until an exit other than InterruptedExit; nullopt if none
// came in kMaxRunCalls calls of Run().
inline std::optional<kvm::VcpuExit> RunUntilExit(kvm::Vcpu& vcpu) {
  RunWatchdog watchdog;
  for (int i = 0; i < kMaxRunCalls; ++i) {
    kvm::VcpuExit exit = vcpu.Run();
    if (!std::holds_alternative<kvm::InterruptedExit>(exit)) return exit;
  }
  return std::nullopt;
}

// The IoExit that RunUntilExit() returns; fails the test on any other exit.
inline kvm::IoExit RunUntilIoExit(kvm::Vcpu& vcpu) {
  std::optional<kvm::VcpuExit> exit = RunUntilExit(vcpu);
  REQUIRE(exit.has_value());
  REQUIRE(std::holds_alternative<kvm::IoExit>(*exit));
  return std::get<kvm::IoExit>(*exit);
}

}  // namespace mini_vmm::testing
