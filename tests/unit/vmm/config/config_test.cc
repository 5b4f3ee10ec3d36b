// ValidateConfig and ValidateHostLimits: one negative case per bad input,
// asserting the exact sentence the user sees. Files are made in a temporary
// directory; a FIFO that made validation wait for a writer would hang the
// test, so those cases run on a helper thread that a writer unblocks.
#include "vmm/config/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "devices/virtio/blk/disk_kind.h"
#include "tests/support/fake_kernel_images.h"

namespace mini_vmm {
namespace {

DeviceRequest Disk(std::string path, bool read_only) {
  return {.kind = &virtio::blk::DiskKind(),
          .options = std::make_shared<virtio::blk::DiskSpec>(virtio::blk::DiskConfig{
              .path = std::move(path), .read_only = read_only, .serial = {}})};
}

class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/mini-vmm-config-test.XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path_ = name;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string File(const std::string& name, const std::vector<uint8_t>& bytes) const {
    const std::string path = path_ + "/" + name;
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  std::string Fifo(const std::string& name) const {
    const std::string path = path_ + "/" + name;
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    return path;
  }

 private:
  std::string path_;
};

// The error ValidateConfig reports, or "" if it accepts. If validation is
// still waiting after 5 s (blocked on a FIFO), a writer opened on `fifo`
// releases it and the test fails.
std::string ValidationError(const VmConfig& config, const std::string& fifo = "") {
  auto result = std::async(std::launch::async, [&] { return ValidateConfig(config); });
  if (result.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    const int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    result.wait();
    if (writer >= 0) ::close(writer);
    FAIL("ValidateConfig waited on a FIFO");
  }
  Result<void> valid = result.get();
  return valid.ok() ? "" : valid.error().ToString();
}

VmConfig ConfigWithKernel(const TempDir& dir) {
  VmConfig config;
  config.kernel_path = dir.File("vmlinux", testing::ValidElfKernel().Build());
  config.memory_bytes = 64 << 20;
  return config;
}

TEST_CASE("ValidateConfig: accepts a valid kernel", "[config]") {
  TempDir dir;
  CHECK(ValidationError(ConfigWithKernel(dir)) == "");
}

TEST_CASE("ValidateConfig: BzImagePayloadUnknownToHost, refused before the VM", "[config]") {
  TempDir dir;
  VmConfig config = ConfigWithKernel(dir);
  config.kernel_path =
      dir.File("bzImage", testing::BzImageWithPayload(std::vector<uint8_t>(64, 0xab)).Build());
  CHECK(ValidationError(config) ==
        "kernel image \"" + config.kernel_path +
            "\": the bzImage's payload is in no compression format mini-vmm knows; boot it with "
            "--kernel-decompress=guest");
  config.kernel_decompress = KernelDecompress::kGuest;
  CHECK(ValidationError(config).empty());
}

TEST_CASE("ValidateConfig: KernelIsFifo", "[config]") {
  TempDir dir;
  VmConfig config = ConfigWithKernel(dir);
  config.kernel_path = dir.Fifo("kernel");

  CHECK(ValidationError(config, config.kernel_path) ==
        "kernel image \"" + config.kernel_path + "\" is a FIFO, not a regular file");
}

TEST_CASE("ValidateConfig: InitrdIsFifo", "[config]") {
  TempDir dir;
  VmConfig config = ConfigWithKernel(dir);
  config.initrd_path = dir.Fifo("initrd");

  CHECK(ValidationError(config, *config.initrd_path) ==
        "initrd \"" + *config.initrd_path + "\" is a FIFO, not a regular file");
}

TEST_CASE("ValidateConfig: ReadOnlyDiskIsFifo", "[config]") {
  TempDir dir;
  VmConfig config = ConfigWithKernel(dir);
  const std::string fifo = dir.Fifo("disk");
  config.devices.push_back(Disk(fifo, true));

  CHECK(ValidationError(config, fifo) ==
        "disk image \"" + fifo + "\" is a FIFO, not a regular file or block device");
}

TEST_CASE("ValidateConfig: WritableDiskIsFifo", "[config]") {
  TempDir dir;
  VmConfig config = ConfigWithKernel(dir);
  const std::string fifo = dir.Fifo("disk");
  config.devices.push_back(Disk(fifo, false));

  CHECK(ValidationError(config, fifo) ==
        "disk image \"" + fifo + "\" is a FIFO, not a regular file or block device");
}

TEST_CASE("ValidateConfig: KernelIsCharacterDevice", "[config]") {
  TempDir dir;
  VmConfig config = ConfigWithKernel(dir);
  config.kernel_path = "/dev/null";

  CHECK(ValidationError(config) ==
        "kernel image \"/dev/null\" is a character device, not a regular file");
}

TEST_CASE("ValidateConfig: MoreDisksThanVirtioMmioSlots", "[config]") {
  TempDir dir;
  VmConfig config = ConfigWithKernel(dir);
  const std::string image = dir.File("disk.img", std::vector<uint8_t>(4096));
  for (int i = 0; i < 15; ++i) config.devices.push_back(Disk(image, true));

  CHECK(ValidationError(config) ==
        "15 virtio devices are given on virtio-mmio; the machine has 14 virtio-mmio slots "
        "(transport=pci takes up to 31 more)");
}

TEST_CASE("ValidateConfig: as many disks as slots are accepted", "[config]") {
  TempDir dir;
  VmConfig config = ConfigWithKernel(dir);
  const std::string image = dir.File("disk.img", std::vector<uint8_t>(4096));
  for (int i = 0; i < 14; ++i) config.devices.push_back(Disk(image, true));

  CHECK(ValidationError(config) == "");
}

TEST_CASE("ValidateConfig: CmdlineLongerThanKernelAccepts", "[config]") {
  TempDir dir;
  VmConfig config = ConfigWithKernel(dir);
  config.cmdline = std::string(2048, 'a');  // An ELF vmlinux takes 2047.

  CHECK(ValidationError(config) ==
        "the kernel command line is 2048 bytes; this kernel accepts at most 2047");
}

constexpr HostLimits kRoomyHost{.max_vcpus = 1024, .open_files = 1024};

std::string HostLimitError(const VmConfig& config, const HostLimits& limits) {
  Result<void> fits = ValidateHostLimits(config, limits);
  return fits.ok() ? "" : fits.error().ToString();
}

TEST_CASE("ValidateConfig: VfioAddressMalformed, one sentence naming it", "[config]") {
  TempDir dir;
  VmConfig config = ConfigWithKernel(dir);
  config.vfio = {"00:04"};
  CHECK(ValidationError(config) == "--vfio 00:04: \"00:04\" is not a PCI address (DDDD:BB:DD.F)");
}

TEST_CASE("ValidateConfig: VfioDeviceAbsent (no such function on this host)", "[config]") {
  TempDir dir;
  VmConfig config = ConfigWithKernel(dir);
  config.vfio = {"ffff:ff:1f.7"};
  CHECK(ValidationError(config) == "--vfio ffff:ff:1f.7: no such PCI device");
}

TEST_CASE("OpenFilesNeeded counts a passed-through device's eventfds", "[config]") {
  VmConfig config;
  const uint64_t without = OpenFilesNeeded(config);
  config.vfio = {"0000:00:04.0"};
  CHECK(OpenFilesNeeded(config) > without + 2 * 65);
}

TEST_CASE("ValidateHostLimits: accepts what fits", "[config]") {
  VmConfig config;
  config.cpus = 8;
  CHECK(HostLimitError(config, kRoomyHost) == "");
}

TEST_CASE("ValidateHostLimits: CpusAboveKvmMaxVcpus", "[config]") {
  VmConfig config;
  config.cpus = 9;

  CHECK(HostLimitError(config, {.max_vcpus = 8, .open_files = 1024}) ==
        "--cpus 9 is more than this host's KVM supports (8)");
}

TEST_CASE("ValidateHostLimits: OpenFileLimitBelowWhatDevicesNeed", "[config]") {
  VmConfig config;
  config.cpus = 2;
  for (int i = 0; i < 3; ++i) config.devices.push_back(Disk("unused.img", false));
  REQUIRE(OpenFilesNeeded(config) == 16 + 2 + 3 * 8);

  CHECK(HostLimitError(config, {.max_vcpus = 1024, .open_files = 41}) ==
        "this configuration (--cpus 2, 3 virtio devices) needs up to 42 open files, more "
        "than this process's limit of 41 (RLIMIT_NOFILE; raise it with ulimit -n)");
  CHECK(HostLimitError(config, {.max_vcpus = 1024, .open_files = 42}) == "");
}

}  // namespace
TEST_CASE("OpenFilesNeeded counts the GDB stub's descriptors", "[config]") {
  VmConfig config;
  const uint64_t without = OpenFilesNeeded(config);
  config.gdb = gdb::ListenAddress{};
  CHECK(OpenFilesNeeded(config) == without + 6);
}

}  // namespace mini_vmm
