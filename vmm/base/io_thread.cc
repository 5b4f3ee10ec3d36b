#include "vmm/base/io_thread.h"

#include <pthread.h>
#include <sched.h>

#include <string>

namespace mini_vmm {

void EnterIoThread(std::string_view name) noexcept {
  const std::string short_name(name.substr(0, kThreadNameMax));
  ::pthread_setname_np(::pthread_self(), short_name.c_str());
  const sched_param param{};  // SCHED_BATCH takes priority 0.
  ::sched_setscheduler(0, SCHED_BATCH, &param);
}

}  // namespace mini_vmm
