// Where the GDB stub listens: `--gdb [ADDRESS:]PORT`. The address is an
// IPv4 address or `localhost`; without one, the loopback address, so the
// stub is not reachable from the network unless the user says so (anyone
// who reaches it can read and write all of guest memory).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vmm/base/result.h"

namespace mini_vmm::gdb {

struct ListenAddress {
  uint32_t ipv4 = 0x7f000001;  // Host byte order.
  uint16_t port = 0;
  std::string ToString() const;
  bool operator==(const ListenAddress&) const = default;
};

// Parses "127.0.0.1:1234", "localhost:1234", ":1234" or "1234". Errors are
// one sentence naming the value.
Result<ListenAddress> ParseListenAddress(std::string_view text);

}  // namespace mini_vmm::gdb
