// The device registration point: kinds are listed once, each under its
// own option, and a request keeps the kind that parsed it.
#include "vmm/config/device_kinds.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "devices/virtio/blk/disk_kind.h"

namespace mini_vmm {
namespace {

TEST_CASE("Every device kind has its own option and a line of help") {
  std::set<std::string> options;
  for (const virtio::DeviceKind* kind : DeviceKinds()) {
    CHECK(options.insert(std::string(kind->option())).second);
    CHECK_FALSE(kind->help().empty());
  }
  CHECK(options.contains("disk"));
  CHECK(options.contains("net"));
}

TEST_CASE("ParseDeviceRequest keeps the kind and what it parsed") {
  auto request = ParseDeviceRequest(virtio::blk::DiskKind(), "path=a.img,readonly=on");
  REQUIRE(request.ok());
  CHECK(request->kind == &virtio::blk::DiskKind());
  const auto& disk = static_cast<const virtio::blk::DiskSpec&>(*request->options).config;
  CHECK(disk.path == "a.img");
  CHECK(disk.read_only);
}

TEST_CASE("ParseDeviceRequest: BadValue is the kind's own sentence") {
  auto request = ParseDeviceRequest(virtio::blk::DiskKind(), "readonly=on");
  REQUIRE_FALSE(request.ok());
  CHECK(request.error().ToString() ==
        virtio::blk::ParseDiskOption("readonly=on").error().ToString());
}

TEST_CASE("ParseDeviceRequest: virtio-mmio unless transport= says otherwise") {
  CHECK(ParseDeviceRequest(virtio::blk::DiskKind(), "path=a.img")->transport ==
        VirtioTransport::kMmio);
  CHECK(ParseDeviceRequest(virtio::blk::DiskKind(), "path=a.img,transport=pci")->transport ==
        VirtioTransport::kPci);
  CHECK(ParseDeviceRequest(virtio::blk::DiskKind(), "transport=pci,path=a.img")->transport ==
        VirtioTransport::kPci);
  CHECK(ParseDeviceRequest(virtio::blk::DiskKind(), "transport=pci,path=a.img,transport=mmio")
            ->transport == VirtioTransport::kMmio);
}

TEST_CASE("ParseDeviceRequest: the kind parses everything but transport=, in order") {
  auto request =
      ParseDeviceRequest(virtio::blk::DiskKind(), "transport=pci,path=a.img,serial=x,readonly=on");
  REQUIRE(request.ok());
  const auto& disk = static_cast<const virtio::blk::DiskSpec&>(*request->options).config;
  CHECK(disk.path == "a.img");
  CHECK(disk.serial == "x");
  CHECK(disk.read_only);
}

TEST_CASE("ParseDeviceRequest: UnknownTransport names it and the known ones") {
  auto request = ParseDeviceRequest(virtio::blk::DiskKind(), "path=a.img,transport=isa");
  REQUIRE_FALSE(request.ok());
  CHECK(request.error().ToString() == "transport \"isa\" does not exist (known: mmio, pci)");
}

TEST_CASE("ParseDeviceRequest: EmptyTransport is unknown too") {
  auto request = ParseDeviceRequest(virtio::blk::DiskKind(), "path=a.img,transport=");
  REQUIRE_FALSE(request.ok());
  CHECK(request.error().ToString() == "transport \"\" does not exist (known: mmio, pci)");
}

}  // namespace
}  // namespace mini_vmm
