#include "vmm/gdb/listen_address.h"

#include <catch2/catch.hpp>

namespace mini_vmm::gdb {
namespace {

TEST_CASE("An address and a port") {
  auto address = ParseListenAddress("10.0.2.15:1234");
  REQUIRE(address.ok());
  CHECK(address->ipv4 == 0x0a00020f);
  CHECK(address->port == 1234);
  CHECK(address->ToString() == "10.0.2.15:1234");
}

TEST_CASE("A port alone, or after a colon, listens on loopback") {
  CHECK(ParseListenAddress("1234")->ToString() == "127.0.0.1:1234");
  CHECK(ParseListenAddress(":1234")->ToString() == "127.0.0.1:1234");
  CHECK(ParseListenAddress("localhost:65535")->ToString() == "127.0.0.1:65535");
}

TEST_CASE("BadPortZero") {
  auto address = ParseListenAddress("127.0.0.1:0");
  REQUIRE_FALSE(address.ok());
  CHECK(address.error().ToString() ==
        "invalid --gdb port in \"127.0.0.1:0\": expected [ADDRESS:]PORT with PORT 1-65535");
}

TEST_CASE("BadPortTooLarge") { CHECK_FALSE(ParseListenAddress("65536").ok()); }

TEST_CASE("BadPortTrailing") { CHECK_FALSE(ParseListenAddress("1234x").ok()); }

TEST_CASE("BadPortEmpty") {
  CHECK_FALSE(ParseListenAddress("127.0.0.1:").ok());
  CHECK_FALSE(ParseListenAddress("").ok());
}

TEST_CASE("BadPortNegative") { CHECK_FALSE(ParseListenAddress("-1").ok()); }

TEST_CASE("BadHostName") {
  auto address = ParseListenAddress("gdb.example:1234");
  REQUIRE_FALSE(address.ok());
  CHECK(address.error().ToString() ==
        "invalid --gdb address \"gdb.example\": expected an IPv4 address or localhost");
}

TEST_CASE("BadHostIpv6") { CHECK_FALSE(ParseListenAddress("::1:1234").ok()); }

}  // namespace
}  // namespace mini_vmm::gdb
