// The --net device kind: parsing through the kind, and the checks
// Validate makes before any host tap is touched.
#include "devices/virtio/net/net_kind.h"

#include <catch2/catch.hpp>
#include <memory>
#include <vector>

namespace mini_vmm::virtio::net {
namespace {

std::string ValidateError(std::initializer_list<std::string_view> values) {
  std::vector<std::unique_ptr<DeviceOptions>> parsed;
  std::vector<const DeviceOptions*> instances;
  for (std::string_view value : values) {
    auto options = NetKind().Parse(value);
    REQUIRE(options.ok());
    parsed.push_back(std::move(options).value());
    instances.push_back(parsed.back().get());
  }
  auto validated = NetKind().Validate(instances);
  REQUIRE_FALSE(validated.ok());
  return validated.error().ToString();
}

TEST_CASE("The net kind is --net") { CHECK(NetKind().option() == "net"); }

TEST_CASE("The same tap for two NICs is refused") {
  CHECK(ValidateError({"tap=mvm-test0", "tap=mvm-test0,mac=52:54:00:00:00:02"}) ==
        "tap \"mvm-test0\" is given twice");
}

TEST_CASE("The same MAC for two NICs is refused") {
  CHECK(ValidateError(
            {"tap=mvm-test0,mac=52:54:00:00:00:01", "tap=mvm-test1,mac=52:54:00:00:00:01"}) ==
        "mac=52:54:00:00:00:01 is given to two NICs");
}

TEST_CASE("A tap missing from this host is refused") {
  CHECK(ValidateError({"tap=mvm-nosuch0"}) ==
        "tap \"mvm-nosuch0\" does not exist (create it first, e.g. ip tuntap add dev mvm-nosuch0 "
        "mode tap)");
}

TEST_CASE("A NIC's open files grow with its queue pairs") {
  auto one = NetKind().Parse("tap=t");
  auto four = NetKind().Parse("tap=t,queues=4");
  REQUIRE((one.ok() && four.ok()));
  CHECK(NetKind().OpenFiles(**four) > NetKind().OpenFiles(**one));
}

}  // namespace
}  // namespace mini_vmm::virtio::net
