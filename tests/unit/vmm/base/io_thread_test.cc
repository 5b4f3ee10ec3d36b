#include "vmm/base/io_thread.h"

#include <pthread.h>
#include <sched.h>

#include <array>
#include <catch2/catch.hpp>
#include <string>
#include <thread>

namespace mini_vmm {
namespace {

struct ThreadState {
  int policy = -1;
  std::string name;
};

ThreadState StateAfterEnter(std::string_view name) {
  ThreadState state;
  std::thread([&] {
    EnterIoThread(name);
    state.policy = ::sched_getscheduler(0);
    std::array<char, 64> buffer{};
    ::pthread_getname_np(::pthread_self(), buffer.data(), buffer.size());
    state.name = buffer.data();
  }).join();
  return state;
}

TEST_CASE("EnterIoThread makes the calling thread SCHED_BATCH and names it", "[io_thread]") {
  const ThreadState state = StateAfterEnter("virtio-blk0");

  CHECK(state.policy == SCHED_BATCH);
  CHECK(state.name == "virtio-blk0");
}

TEST_CASE("EnterIoThread cuts a long name to the kernel's 15 bytes", "[io_thread]") {
  const ThreadState state = StateAfterEnter("virtio-net12-q15-and-more");

  CHECK(state.name == "virtio-net12-q1");
}

TEST_CASE("EnterIoThread leaves other threads alone", "[io_thread]") {
  StateAfterEnter("io");

  CHECK(::sched_getscheduler(0) == SCHED_OTHER);
}

}  // namespace
}  // namespace mini_vmm
