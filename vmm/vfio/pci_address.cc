#include "vmm/vfio/pci_address.h"

#include <charconv>

namespace mini_vmm::vfio {
namespace {

// Exactly `digits` hex digits, at most `max`.
bool ParseHex(std::string_view text, size_t digits, uint32_t max, uint32_t* out) {
  if (text.size() != digits) return false;
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return false;
  *out = value;
  return true;
}

}  // namespace

std::string HostPciAddress::ToString() const {
  return Format("{:04x}:{:02x}:{:02x}.{:x}", domain, bus, device, function);
}

Result<HostPciAddress> ParseHostPciAddress(std::string_view text) {
  const auto invalid = [text] {
    return Error::Invalid("\"{}\" is not a PCI address (DDDD:BB:DD.F)", text);
  };
  std::string_view rest = text;
  uint32_t domain = 0;
  // Two colons: a domain is given.
  if (rest.find(':') != rest.rfind(':')) {
    const size_t colon = rest.find(':');
    if (!ParseHex(rest.substr(0, colon), 4, 0xffff, &domain)) return invalid();
    rest = rest.substr(colon + 1);
  }
  const size_t colon = rest.find(':');
  const size_t dot = rest.find('.');
  if (colon == std::string_view::npos || dot == std::string_view::npos || dot < colon) {
    return invalid();
  }
  uint32_t bus = 0;
  uint32_t device = 0;
  uint32_t function = 0;
  if (!ParseHex(rest.substr(0, colon), 2, 0xff, &bus) ||
      !ParseHex(rest.substr(colon + 1, dot - colon - 1), 2, 0x1f, &device) ||
      !ParseHex(rest.substr(dot + 1), 1, 7, &function)) {
    return invalid();
  }
  return HostPciAddress{.domain = domain,
                        .bus = static_cast<uint8_t>(bus),
                        .device = static_cast<uint8_t>(device),
                        .function = static_cast<uint8_t>(function)};
}

}  // namespace mini_vmm::vfio
