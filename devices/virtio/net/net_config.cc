#include "devices/virtio/net/net_config.h"

#include <net/if.h>

#include <charconv>

#include "vmm/base/key_value.h"

namespace mini_vmm::virtio::net {
namespace {

constexpr std::string_view kExample = "tap=tap0,mac=52:54:00:12:34:56,queues=2";

Result<void> CheckTapName(std::string_view name) {
  if (name.empty()) return Error::Invalid("tap= is empty");
  if (name.size() >= IFNAMSIZ) {
    return Error::Invalid("tap name \"{}\" is longer than {} bytes", name, IFNAMSIZ - 1);
  }
  // What the kernel's dev_valid_name() refuses; also keeps the name safe to
  // put in a /sys path.
  if (name == "." || name == ".." || name.find_first_of("/: \t\n") != std::string_view::npos) {
    return Error::Invalid("tap name \"{}\" is not a valid interface name", name);
  }
  return {};
}

Result<uint16_t> ParseQueuePairs(std::string_view value) {
  unsigned n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size() || n < 1 || n > kMaxQueuePairs) {
    return Error::Invalid("queues={} is out of range: give 1 to {} queue pairs", value,
                          kMaxQueuePairs);
  }
  return static_cast<uint16_t>(n);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<VhostMode> ParseVhostMode(std::string_view value) {
  if (value == "off") return VhostMode::kOff;
  if (value == "on") return VhostMode::kOn;
  if (value == "auto") return VhostMode::kAuto;
  return Error::Invalid("vhost={} is not one of on, off, auto", value);
}

Result<void> ApplyKey(std::string_view key, std::string_view value, NetConfig& net) {
  if (key == "tap") {
    TRY(CheckTapName(value));
    net.tap = std::string(value);
  } else if (key == "mac") {
    net.mac = TRY(ParseMac(value));
  } else if (key == "queues") {
    net.queue_pairs = TRY(ParseQueuePairs(value));
  } else if (key == "vhost") {
    net.vhost = TRY(ParseVhostMode(value));
  } else {
    return Error::Invalid("unknown key \"{}\" (known: tap, mac, queues, vhost)", key);
  }
  return {};
}

}  // namespace

Result<MacAddress> ParseMac(std::string_view text) {
  MacAddress mac{};
  // "xx:xx:xx:xx:xx:xx": 17 characters, a colon after every byte but the last.
  bool well_formed = text.size() == 3 * mac.size() - 1;
  for (size_t i = 0; well_formed && i < mac.size(); ++i) {
    const int high = HexDigit(text[3 * i]);
    const int low = HexDigit(text[3 * i + 1]);
    const bool separator_ok = i + 1 == mac.size() || text[3 * i + 2] == ':';
    well_formed = high >= 0 && low >= 0 && separator_ok;
    if (well_formed) mac[i] = static_cast<uint8_t>(high << 4 | low);
  }
  if (!well_formed) {
    return Error::Invalid("mac={} is not a MAC address like 52:54:00:12:34:56", text);
  }
  if ((mac[0] & 0x01) != 0) {
    return Error::Invalid("mac={} is a multicast address; a NIC needs a unicast one", text);
  }
  if (mac == MacAddress{}) return Error::Invalid("mac={} is the all-zero address", text);
  return mac;
}

std::string FormatMac(const MacAddress& mac) {
  return Format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3], mac[4],
                mac[5]);
}

Result<NetConfig> ParseNetOption(std::string_view text) {
  NetConfig net;
  bool have_tap = false;
  const KeyValueHandler apply = [&](std::string_view key, std::string_view value) {
    have_tap = have_tap || key == "tap";
    return ApplyKey(key, value, net);
  };
  TRY(ForEachKeyValue(text, kExample, apply));
  if (!have_tap) return Error::Invalid("tap=NAME is missing (example: {})", kExample);
  return net;
}

}  // namespace mini_vmm::virtio::net
