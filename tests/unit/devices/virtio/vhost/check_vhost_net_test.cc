// Opening vhost-net where it does not exist: the sentences the user sees
// (vhost=on is checked before the VM exists; exit status 2 at the CLI).
#include <catch2/catch.hpp>

#include "devices/virtio/vhost/vhost_kernel.h"

namespace mini_vmm::virtio::vhost {
namespace {

TEST_CASE("vhost=on with no vhost-net device is refused with one sentence") {
  auto checked = CheckVhostNet("/nonexistent/vhost-net");
  REQUIRE_FALSE(checked.ok());
  CHECK(checked.error().ToString() ==
        "vhost=on needs \"/nonexistent/vhost-net\" (load vhost_net, or use vhost=auto), which "
        "does not open: No such file or directory");
}

TEST_CASE("opening a vhost device that does not exist names the path") {
  auto opened = VhostKernel::Open("/nonexistent/vhost-net");
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().ToString() ==
        "cannot open \"/nonexistent/vhost-net\": No such file or directory");
}

TEST_CASE("the vhost memory region limit is the kernel's, 64 unless changed") {
  CHECK(VhostMaxMemRegions() >= 1);
}

}  // namespace
}  // namespace mini_vmm::virtio::vhost
