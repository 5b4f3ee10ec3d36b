// A host PCI function's address as the user gives it to --vfio and as
// sysfs names it: DDDD:BB:DD.F (lowercase hex; "BB:DD.F" means domain 0).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vmm/base/result.h"

namespace mini_vmm::vfio {

struct HostPciAddress {
  uint32_t domain = 0;  // 16 bits in practice; sysfs prints four digits.
  uint8_t bus = 0;
  uint8_t device = 0;    // 0-31
  uint8_t function = 0;  // 0-7

  bool operator==(const HostPciAddress&) const = default;
  // "0000:00:04.0", the name of the function's sysfs directory.
  std::string ToString() const;
};

// Accepts DDDD:BB:DD.F and BB:DD.F, hex digits of either case; anything
// else is "\"TEXT\" is not a PCI address (DDDD:BB:DD.F)".
Result<HostPciAddress> ParseHostPciAddress(std::string_view text);

}  // namespace mini_vmm::vfio
