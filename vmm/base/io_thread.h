// EnterIoThread: what a device's I/O thread (virtio-blk, virtio-net) does
// first. It names the thread, so `top -H` and crash dumps say whose it is,
// and moves it to SCHED_BATCH.
//
// Why SCHED_BATCH: a doorbell (an ioeventfd the vCPU writes) or a
// completion wakes the I/O thread. Under SCHED_OTHER a thread that sleeps
// as much as an I/O thread does preempts whatever runs on its CPU at once;
// when that is the guest's own vCPU (a one-CPU host, a pinned or
// oversubscribed microVM) the vCPU is stopped after every frame or
// request, the device finds one buffer per wakeup, and every buffer costs
// a guest interrupt. SCHED_BATCH keeps the same share of the CPU (same
// nice level, no privilege needed, and an unprivileged thread may return
// to SCHED_OTHER) but a wakeup does not preempt: the I/O thread runs when
// the vCPU halts, blocks or uses up its slice, by which time the guest has
// queued more. Where a CPU is idle the kernel wakes the thread there and
// nothing changes. Measured in bench/net and bench/blk (one-CPU nested
// host): guest interrupts per 4 KiB read fell from 1.0 to 0.1.
//
// Threading: acts on the calling thread only.
#pragma once

#include <string_view>

namespace mini_vmm {

// The kernel keeps 15 bytes of a thread's name; longer names are cut.
inline constexpr size_t kThreadNameMax = 15;

// Names the calling thread and makes it SCHED_BATCH. Neither can fail for a
// valid thread on Linux; if the policy is refused (a seccomp filter, a
// kernel without it) the thread keeps running as it was, which is slower on
// a shared CPU but correct, so this reports nothing.
void EnterIoThread(std::string_view name) noexcept;

}  // namespace mini_vmm
