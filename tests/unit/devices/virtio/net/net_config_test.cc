// --net parsing (one negative test per malformed value, asserting the exact
// sentence) and the sysfs checks of the host tap, against a fake sysfs.
#include "devices/virtio/net/net_config.h"

#include <linux/if_tun.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "devices/virtio/net/host_tap.h"

namespace mini_vmm::virtio::net {
namespace {

std::string ParseError(std::string_view text) {
  auto parsed = ParseNetOption(text);
  REQUIRE_FALSE(parsed.ok());
  return parsed.error().ToString();
}

TEST_CASE("The --net option: with every key parses") {
  auto parsed = ParseNetOption("tap=tap0,mac=52:54:00:AB:cd:0e,queues=4");
  REQUIRE(parsed.ok());
  CHECK(parsed->tap == "tap0");
  CHECK(parsed->mac == MacAddress{0x52, 0x54, 0x00, 0xab, 0xcd, 0x0e});
  CHECK(parsed->queue_pairs == 4);
}

TEST_CASE("The --net option: with only tap= has one queue pair and no fixed MAC") {
  auto parsed = ParseNetOption("tap=tap0");
  REQUIRE(parsed.ok());
  CHECK_FALSE(parsed->mac.has_value());
  CHECK(parsed->queue_pairs == 1);
}

TEST_CASE("FormatMac prints what ParseMac reads") {
  CHECK(FormatMac({0x52, 0x54, 0x00, 0x12, 0x34, 0x56}) == "52:54:00:12:34:56");
}

TEST_CASE("The --net option: without tap= is refused") {
  CHECK(ParseError("mac=52:54:00:12:34:56") ==
        "tap=NAME is missing (example: tap=tap0,mac=52:54:00:12:34:56,queues=2)");
}

TEST_CASE("The --net option: with an empty tap name is refused") {
  CHECK(ParseError("tap=") == "tap= is empty");
}

TEST_CASE("The --net option: with a tap name of IFNAMSIZ bytes is refused") {
  CHECK(ParseError("tap=abcdefghijklmnop") ==
        "tap name \"abcdefghijklmnop\" is longer than 15 bytes");
}

TEST_CASE("The --net option: with a slash in the tap name is refused") {
  CHECK(ParseError("tap=../eth0") == "tap name \"../eth0\" is not a valid interface name");
}

TEST_CASE("The --net option: with queues=0 is refused") {
  CHECK(ParseError("tap=tap0,queues=0") == "queues=0 is out of range: give 1 to 16 queue pairs");
}

TEST_CASE("The --net option: with more queues than the maximum is refused") {
  CHECK(ParseError("tap=tap0,queues=17") == "queues=17 is out of range: give 1 to 16 queue pairs");
}

TEST_CASE("The --net option: with a non-numeric queue count is refused") {
  CHECK(ParseError("tap=tap0,queues=2x") == "queues=2x is out of range: give 1 to 16 queue pairs");
}

TEST_CASE("The --net option: with a queue count that overflows is refused") {
  CHECK(ParseError("tap=tap0,queues=4294967298") ==
        "queues=4294967298 is out of range: give 1 to 16 queue pairs");
}

TEST_CASE("The --net option: with an unknown key is refused") {
  CHECK(ParseError("tap=tap0,vhostnet=on") ==
        "unknown key \"vhostnet\" (known: tap, mac, queues, vhost)");
}

TEST_CASE("The --net option: without vhost= uses the userspace data path") {
  auto parsed = ParseNetOption("tap=tap0");
  REQUIRE(parsed.ok());
  CHECK(parsed->vhost == VhostMode::kOff);
}

TEST_CASE("The --net option: vhost=on, off and auto parse") {
  CHECK(ParseNetOption("tap=tap0,vhost=on")->vhost == VhostMode::kOn);
  CHECK(ParseNetOption("tap=tap0,vhost=off")->vhost == VhostMode::kOff);
  CHECK(ParseNetOption("tap=tap0,vhost=auto,queues=2")->vhost == VhostMode::kAuto);
}

TEST_CASE("The --net option: with vhost=yes is refused") {
  CHECK(ParseError("tap=tap0,vhost=yes") == "vhost=yes is not one of on, off, auto");
}

TEST_CASE("The --net option: with vhost= empty is refused") {
  CHECK(ParseError("tap=tap0,vhost=") == "vhost= is not one of on, off, auto");
}

TEST_CASE("The --net option: with vhost=ON in capitals is refused") {
  CHECK(ParseError("tap=tap0,vhost=ON") == "vhost=ON is not one of on, off, auto");
}

TEST_CASE("The --net option: with an item that is not key=value is refused") {
  CHECK(ParseError("tap0") ==
        "\"tap0\" is not key=value (example: tap=tap0,mac=52:54:00:12:34:56,queues=2)");
}

TEST_CASE("A MAC with five bytes is refused") {
  CHECK(ParseError("tap=t,mac=52:54:00:12:34") ==
        "mac=52:54:00:12:34 is not a MAC address like 52:54:00:12:34:56");
}

TEST_CASE("A MAC with a non-hex digit is refused") {
  CHECK(ParseError("tap=t,mac=52:54:00:12:34:5g") ==
        "mac=52:54:00:12:34:5g is not a MAC address like 52:54:00:12:34:56");
}

TEST_CASE("A MAC with dashes is refused") {
  CHECK(ParseError("tap=t,mac=52-54-00-12-34-56") ==
        "mac=52-54-00-12-34-56 is not a MAC address like 52:54:00:12:34:56");
}

TEST_CASE("A multicast MAC is refused") {
  CHECK(ParseError("tap=t,mac=01:00:5e:00:00:01") ==
        "mac=01:00:5e:00:00:01 is a multicast address; a NIC needs a unicast one");
}

TEST_CASE("The all-zero MAC is refused") {
  CHECK(ParseError("tap=t,mac=00:00:00:00:00:00") ==
        "mac=00:00:00:00:00:00 is the all-zero address");
}

// A directory laid out like /sys/class/net.
class FakeSysfs {
 public:
  FakeSysfs() {
    char name[] = "/tmp/net-sysfs-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path_ = name;
  }
  ~FakeSysfs() { std::filesystem::remove_all(path_); }
  FakeSysfs(const FakeSysfs&) = delete;
  FakeSysfs& operator=(const FakeSysfs&) = delete;

  // An interface; with tun_flags if `flags` is given.
  void Add(const std::string& name, std::optional<std::string> flags) {
    std::filesystem::create_directory(path_ + "/" + name);
    if (flags) std::ofstream(path_ + "/" + name + "/tun_flags") << *flags << "\n";
  }
  std::string Check(const std::string& name, uint16_t queues) {
    auto checked = CheckHostTap(path_, name, queues);
    return checked.ok() ? "ok" : checked.error().ToString();
  }

 private:
  std::string path_;
};

TEST_CASE("A tap in sysfs passes the host check") {
  FakeSysfs sysfs;
  sysfs.Add("tap0", "0x1002");  // IFF_TAP | IFF_VNET_HDR
  CHECK(sysfs.Check("tap0", 1) == "ok");
}

TEST_CASE("A multiqueue tap passes the host check with queues=4") {
  FakeSysfs sysfs;
  sysfs.Add("tap0", "0x1102");
  CHECK(sysfs.Check("tap0", 4) == "ok");
}

TEST_CASE("A missing tap is refused before anything would create it") {
  FakeSysfs sysfs;
  CHECK(sysfs.Check("tap9", 1) ==
        "tap \"tap9\" does not exist (create it first, e.g. ip tuntap add dev tap9 mode tap)");
}

TEST_CASE("An interface that is not a tun/tap is refused") {
  FakeSysfs sysfs;
  sysfs.Add("eth0", std::nullopt);
  CHECK(sysfs.Check("eth0", 1) == "network interface \"eth0\" is not a tap");
}

TEST_CASE("A tun interface is refused") {
  FakeSysfs sysfs;
  sysfs.Add("tun0", "0x1001");  // IFF_TUN
  CHECK(sysfs.Check("tun0", 1) == "\"tun0\" is a tun (layer 3) interface, not a tap");
}

TEST_CASE("A single-queue tap is refused for queues=2") {
  FakeSysfs sysfs;
  sysfs.Add("tap0", "0x1002");
  CHECK(sysfs.Check("tap0", 2) ==
        "tap \"tap0\" is not multiqueue, so it cannot serve queues=2 (create it with ip tuntap "
        "add dev tap0 mode tap multi_queue)");
}

}  // namespace
}  // namespace mini_vmm::virtio::net
