// The --vfio checks against a fake sysfs tree and /dev/vfio in a temporary
// directory: one case per row of the contract's error table that can be
// decided before a VM exists.
#include "vmm/vfio/host_check.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace mini_vmm::vfio {
namespace {

namespace fs = std::filesystem;

class FakeHost {
 public:
  FakeHost() {
    char tmpl[] = "/tmp/vfio-sysfs-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    fs::create_directories(root_ / "sys/bus/pci/devices");
    fs::create_directories(root_ / "sys/bus/pci/drivers");
    fs::create_directories(root_ / "dev/vfio");
  }
  ~FakeHost() { fs::remove_all(root_); }

  // A function, bound to `driver` ("" for none), in IOMMU `group` (-1: none).
  void AddDevice(const std::string& bdf, const std::string& driver, int group) {
    const fs::path dev = root_ / "sys/devices/pci0000:00" / bdf;
    fs::create_directories(dev);
    fs::create_directory_symlink(dev, root_ / "sys/bus/pci/devices" / bdf);
    if (!driver.empty()) {
      fs::create_directories(root_ / "sys/bus/pci/drivers" / driver);
      fs::create_directory_symlink(root_ / "sys/bus/pci/drivers" / driver, dev / "driver");
    }
    if (group >= 0) {
      const fs::path g = root_ / "sys/kernel/iommu_groups" / std::to_string(group);
      fs::create_directories(g / "devices");
      fs::create_directory_symlink(g, dev / "iommu_group");
      fs::create_directory_symlink(dev, g / "devices" / bdf);
      std::ofstream(root_ / "dev/vfio" / std::to_string(group)).put('\0');
    }
  }

  HostPaths paths() const {
    return {.sysfs = (root_ / "sys").string(),
            .dev_dir = (root_ / "dev/vfio").string(),
            .container = (root_ / "dev/vfio/vfio").string()};
  }
  fs::path root() const { return root_; }

 private:
  fs::path root_;
};

std::string ErrorOf(const FakeHost& host, std::vector<std::string> bdfs) {
  auto checked = CheckDevices(bdfs, host.paths());
  return checked.ok() ? std::string("ok") : checked.error().ToString();
}

TEST_CASE("A device bound to vfio-pci, alone in its group, passes") {
  FakeHost host;
  host.AddDevice("0000:00:04.0", "vfio-pci", 7);
  CHECK(ErrorOf(host, {"0000:00:04.0"}) == "ok");
  CHECK(ErrorOf(host, {"00:04.0"}) == "ok");
}

TEST_CASE("MalformedBdf: is not a PCI address") {
  FakeHost host;
  CHECK(ErrorOf(host, {"00:04"}) == "--vfio 00:04: \"00:04\" is not a PCI address (DDDD:BB:DD.F)");
}

TEST_CASE("NonexistentBdf: no such PCI device") {
  FakeHost host;
  CHECK(ErrorOf(host, {"0000:00:05.0"}) == "--vfio 0000:00:05.0: no such PCI device");
}

TEST_CASE("DeviceBoundToHostDriver: bound to DRIVER, not vfio-pci") {
  FakeHost host;
  host.AddDevice("0000:00:04.0", "nvme", 7);
  CHECK(ErrorOf(host, {"0000:00:04.0"}) ==
        "--vfio 0000:00:04.0: the device is bound to nvme, not vfio-pci");
}

TEST_CASE("DeviceUnbound: not bound to vfio-pci") {
  FakeHost host;
  host.AddDevice("0000:00:04.0", "", 7);
  CHECK(ErrorOf(host, {"0000:00:04.0"}) ==
        "--vfio 0000:00:04.0: the device is not bound to vfio-pci");
}

TEST_CASE("DeviceWithoutIommuGroup: has no IOMMU group") {
  FakeHost host;
  host.AddDevice("0000:00:04.0", "vfio-pci", -1);
  CHECK_THAT(ErrorOf(host, {"0000:00:04.0"}),
             Catch::StartsWith("--vfio 0000:00:04.0: the device has no IOMMU group"));
}

TEST_CASE("UnboundDeviceWithoutIommuGroup: the missing group is the cause given") {
  FakeHost host;
  host.AddDevice("0000:10:00.0", "", -1);
  CHECK_THAT(ErrorOf(host, {"0000:10:00.0"}),
             Catch::StartsWith("--vfio 0000:10:00.0: the device has no IOMMU group"));
}

TEST_CASE("GroupWithHostBoundMember: not viable, naming the member") {
  FakeHost host;
  host.AddDevice("0000:00:04.0", "vfio-pci", 7);
  host.AddDevice("0000:00:04.1", "e1000e", 7);
  const std::string error = ErrorOf(host, {"0000:00:04.0"});
  CHECK_THAT(error, Catch::StartsWith("--vfio 0000:00:04.0: IOMMU group 7 is not viable"));
  CHECK_THAT(error, Catch::Contains("0000:00:04.1 in it is bound to e1000e"));
}

TEST_CASE("GroupWithUnboundMember is viable") {
  FakeHost host;
  host.AddDevice("0000:00:04.0", "vfio-pci", 7);
  host.AddDevice("0000:00:04.1", "", 7);
  CHECK(ErrorOf(host, {"0000:00:04.0"}) == "ok");
}

TEST_CASE("SameDeviceTwice, in either spelling: is given twice") {
  FakeHost host;
  host.AddDevice("0000:00:04.0", "vfio-pci", 7);
  CHECK(ErrorOf(host, {"0000:00:04.0", "00:04.0"}) == "--vfio 00:04.0: the device is given twice");
}

TEST_CASE("GroupNodeMissing: the open error names the node") {
  FakeHost host;
  host.AddDevice("0000:00:04.0", "vfio-pci", 7);
  fs::remove(host.root() / "dev/vfio/7");
  CHECK_THAT(
      ErrorOf(host, {"0000:00:04.0"}),
      Catch::StartsWith("--vfio 0000:00:04.0: cannot open ") && Catch::Contains("No such file"));
}

}  // namespace
}  // namespace mini_vmm::vfio
