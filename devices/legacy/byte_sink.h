// ByteSink: where a character device's output goes (the VM's stdout, a log
// file, a test recorder).
#pragma once

#include <cstdint>
#include <span>

namespace mini_vmm::devices {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Called from vCPU threads, without any device lock held, once per
  // transmitted chunk (today: once per byte). Must not throw, and must not
  // wait for whoever reads the output (a stalled reader would stall the
  // vCPU, and stopping the VM with it); a sink that cannot take the bytes
  // drops them (the guest has no way to be told).
  virtual void WriteBytes(std::span<const uint8_t> bytes) noexcept = 0;
};

}  // namespace mini_vmm::devices
