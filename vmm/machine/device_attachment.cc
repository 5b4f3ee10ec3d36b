#include "vmm/machine/device_attachment.h"

namespace mini_vmm {

DeviceAttachment::~DeviceAttachment() {
  Stop();
  while (!held_.empty()) held_.pop_back();
}

void DeviceAttachment::Stop() noexcept {
  if (!stop_) return;
  auto stop = std::exchange(stop_, nullptr);
  stop();
}

}  // namespace mini_vmm
