#include "vmm/gdb/listen_address.h"

#include <arpa/inet.h>

#include <charconv>

namespace mini_vmm::gdb {

std::string ListenAddress::ToString() const {
  return Format("{}.{}.{}.{}:{}", ipv4 >> 24, (ipv4 >> 16) & 0xff, (ipv4 >> 8) & 0xff, ipv4 & 0xff,
                port);
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  ListenAddress address;
  const size_t colon = text.rfind(':');
  std::string_view host = colon == std::string_view::npos ? "" : text.substr(0, colon);
  std::string_view port = colon == std::string_view::npos ? text : text.substr(colon + 1);
  uint32_t port_value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || port_value == 0 ||
      port_value > 65535) {
    return Error::Invalid("invalid --gdb port in \"{}\": expected [ADDRESS:]PORT with PORT 1-65535",
                          text);
  }
  address.port = static_cast<uint16_t>(port_value);
  if (!host.empty() && host != "localhost") {
    in_addr parsed{};
    const std::string host_string(host);
    if (::inet_pton(AF_INET, host_string.c_str(), &parsed) != 1) {
      return Error::Invalid("invalid --gdb address \"{}\": expected an IPv4 address or localhost",
                            host);
    }
    address.ipv4 = ntohl(parsed.s_addr);
  }
  return address;
}

}  // namespace mini_vmm::gdb
