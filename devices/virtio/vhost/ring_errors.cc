#include "devices/virtio/vhost/ring_errors.h"

namespace mini_vmm::virtio::vhost {

bool RingErrorLog::Report(uint16_t queue, uint64_t count) noexcept {
  errors_.fetch_add(count, std::memory_order_relaxed);
  uint64_t suppressed = 0;
  if (!limiter_.Allow(&suppressed)) return false;
  lines_.fetch_add(1, std::memory_order_relaxed);
  log::Log(LogLevel::kWarn,
           "{}: vhost-net stopped on a bad ring entry in queue {} ({} errors so far, {} not "
           "logged); the driver must reset the device",
           device_, queue, errors(), suppressed);
  return true;
}

}  // namespace mini_vmm::virtio::vhost
