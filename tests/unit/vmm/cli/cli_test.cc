#include "vmm/cli/cli.h"

#include <catch2/catch.hpp>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

namespace mini_vmm::cli {
namespace {

struct Parsed {
  ParsedCommandLine result;
  std::string out;
  std::string err;
};

// Parses `mini-vmm <args...>` with captured output streams.
Parsed Parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"mini-vmm"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::ostringstream out;
  std::ostringstream err;
  ParsedCommandLine result = ParseCommandLine(static_cast<int>(argv.size()), argv.data(), out, err);
  return {std::move(result), out.str(), err.str()};
}

// Every usage error is one line: the problem, then where to look.
constexpr const char* kHint = " (see mini-vmm run --help)\n";

// --- Valid command lines ----------------------------------------------------

TEST_CASE("A full run command line becomes a VmConfig") {
  Parsed p = Parse({"run", "--kernel", "bzImage", "--initrd", "initrd.img", "--cmdline",
                    "console=ttyS0 quiet", "--cpus", "2", "--memory", "1G", "--no-hugepages",
                    "--boot-timer", "--log-level", "debug", "--kvm-device", "/tmp/kvm",
                    "--kernel-decompress", "guest"});

  REQUIRE(p.result.run);
  CHECK(p.out.empty());
  CHECK(p.err.empty());
  const VmConfig& c = p.result.config;
  CHECK(c.kernel_path == "bzImage");
  CHECK(c.initrd_path == std::optional<std::string>("initrd.img"));
  CHECK(c.cmdline == "console=ttyS0 quiet");
  CHECK(c.cpus == 2);
  CHECK(c.memory_bytes == (uint64_t{1} << 30));
  CHECK_FALSE(c.hugepages);
  CHECK(c.boot_timer);
  CHECK(c.log_level == LogLevel::kDebug);
  CHECK(c.kvm_path == "/tmp/kvm");
  CHECK(c.kernel_decompress == KernelDecompress::kGuest);
}

TEST_CASE("The --vfio option is repeatable and kept as spelled, checked later by ValidateConfig") {
  Parsed p = Parse({"run", "--kernel", "bzImage", "--vfio", "0000:00:04.0", "--vfio", "05.0"});
  REQUIRE(p.result.run);
  CHECK(p.result.config.vfio == std::vector<std::string>{"0000:00:04.0", "05.0"});
}

TEST_CASE("A run command line with only --kernel gets the documented defaults") {
  Parsed p = Parse({"run", "--kernel", "vmlinux"});

  REQUIRE(p.result.run);
  const VmConfig& c = p.result.config;
  CHECK(c.kernel_path == "vmlinux");
  CHECK_FALSE(c.initrd_path.has_value());
  CHECK(c.cmdline == "console=ttyS0 reboot=k panic=-1");
  CHECK(c.cpus == 1);
  CHECK(c.memory_bytes == (uint64_t{512} << 20));
  CHECK(c.hugepages);
  CHECK_FALSE(c.boot_timer);
  CHECK(c.log_level == LogLevel::kWarn);
  CHECK(c.kvm_path == "/dev/kvm");
  CHECK(c.kernel_decompress == KernelDecompress::kHost);
}

TEST_CASE("The vCPU count may be the maximum of 254") {
  Parsed p = Parse({"run", "--kernel", "k", "--cpus", "254"});

  REQUIRE(p.result.run);
  CHECK(p.result.config.cpus == 254);
}

// --- Help and version -------------------------------------------------------

TEST_CASE("run --help prints the options and an example, and exits 0 without running") {
  Parsed p = Parse({"run", "--help"});

  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitOk);
  CHECK(p.err.empty());
  CHECK_THAT(p.out, Catch::Contains("--kernel"));
  CHECK_THAT(p.out, Catch::Contains("mini-vmm run --kernel images/out/vmlinuz"));
}

TEST_CASE("Help without a subcommand prints the example and exits 0 without running") {
  Parsed p = Parse({"--help"});

  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitOk);
  CHECK(p.err.empty());
  CHECK_THAT(p.out, Catch::Contains("mini-vmm run --kernel images/out/vmlinuz"));
}

TEST_CASE("The version flag prints the version and exits 0 without running") {
  Parsed p = Parse({"--version"});

  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitOk);
  CHECK(p.out == "mini-vmm 0.1.0\n");
  CHECK(p.err.empty());
}

// --- Bad command lines: exit code 2, one message and the --help hint -------

TEST_CASE("BadNoSubcommand: no subcommand is a usage error") {
  Parsed p = Parse({});

  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitUsage);
  CHECK(p.out.empty());
  CHECK(p.err == std::string("mini-vmm: A subcommand is required") + kHint);
}

TEST_CASE("BadMissingKernel: run without --kernel is a usage error") {
  Parsed p = Parse({"run"});

  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitUsage);
  CHECK(p.err == std::string("mini-vmm: --kernel is required") + kHint);
}

TEST_CASE("BadUnknownOption: an unknown option is a usage error naming it") {
  Parsed p = Parse({"run", "--kernel", "k", "--frobnicate"});

  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitUsage);
  CHECK(p.err ==
        std::string("mini-vmm: The following argument was not expected: --frobnicate") + kHint);
}

TEST_CASE("BadUnknownOptionWithoutKernel: the unknown option is reported, not --kernel") {
  Parsed p = Parse({"run", "--frobnicate"});

  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitUsage);
  CHECK(p.err ==
        std::string("mini-vmm: The following argument was not expected: --frobnicate") + kHint);
}

TEST_CASE("BadCpusZero: --cpus 0 is a usage error giving the range") {
  Parsed p = Parse({"run", "--kernel", "k", "--cpus", "0"});

  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitUsage);
  CHECK(p.err ==
        std::string("mini-vmm: --cpus: the number of vCPUs must be between 1 and 254, not \"0\"") +
            kHint);
}

TEST_CASE("BadCpusTooMany: --cpus 255 is a usage error giving the range") {
  Parsed p = Parse({"run", "--kernel", "k", "--cpus", "255"});

  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitUsage);
  CHECK(p.err == std::string("mini-vmm: --cpus: the number of vCPUs must be between 1 and 254, "
                             "not \"255\"") +
                     kHint);
}

TEST_CASE("BadCpusNotANumber: --cpus abc is a usage error giving the range") {
  Parsed p = Parse({"run", "--kernel", "k", "--cpus", "abc"});

  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitUsage);
  CHECK(p.err == std::string("mini-vmm: --cpus: the number of vCPUs must be between 1 and 254, "
                             "not \"abc\"") +
                     kHint);
}

TEST_CASE("BadCpusTrailingText: --cpus 2x is a usage error") {
  Parsed p = Parse({"run", "--kernel", "k", "--cpus", "2x"});

  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitUsage);
}

TEST_CASE("BadMemory: --memory bogus is a usage error with examples") {
  Parsed p = Parse({"run", "--kernel", "k", "--memory", "bogus"});

  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitUsage);
  CHECK(p.err == std::string("mini-vmm: --memory: \"bogus\" is not a size (examples: 512M, 2G, "
                             "1024)") +
                     kHint);
}

TEST_CASE("BadLogLevel: --log-level bogus is a usage error listing the levels") {
  Parsed p = Parse({"run", "--kernel", "k", "--log-level", "bogus"});

  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitUsage);
  CHECK(p.err == std::string("mini-vmm: --log-level: \"bogus\" is not a log level (error, warn, "
                             "info, debug, trace)") +
                     kHint);
}

TEST_CASE("The option --kernel-decompress=host is accepted in the = form") {
  Parsed p = Parse({"run", "--kernel", "k", "--kernel-decompress=host"});
  REQUIRE(p.result.run);
  CHECK(p.result.config.kernel_decompress == KernelDecompress::kHost);
}

TEST_CASE("BadKernelDecompress: --kernel-decompress bogus is a usage error naming the choices") {
  Parsed p = Parse({"run", "--kernel", "k", "--kernel-decompress", "bogus"});

  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitUsage);
  CHECK(p.err ==
        std::string("mini-vmm: --kernel-decompress: \"bogus\" is neither host nor guest") + kHint);
}

// --- The GDB stub -------------------------------------------------------------

TEST_CASE("The option --gdb with an address and --gdb-wait reach the VmConfig") {
  Parsed p = Parse({"run", "--kernel", "bzImage", "--gdb", "127.0.0.1:1234", "--gdb-wait"});
  REQUIRE(p.result.run);
  REQUIRE(p.result.config.gdb.has_value());
  CHECK(p.result.config.gdb->ipv4 == 0x7f000001);
  CHECK(p.result.config.gdb->port == 1234);
  CHECK(p.result.config.gdb_wait);
}

TEST_CASE("The option --gdb with a port only listens on loopback") {
  Parsed p = Parse({"run", "--kernel", "bzImage", "--gdb", "1234"});
  REQUIRE(p.result.run);
  CHECK(p.result.config.gdb->ToString() == "127.0.0.1:1234");
  CHECK_FALSE(p.result.config.gdb_wait);
}

TEST_CASE("Without --gdb there is no stub") {
  Parsed p = Parse({"run", "--kernel", "bzImage"});
  REQUIRE(p.result.run);
  CHECK_FALSE(p.result.config.gdb.has_value());
}

TEST_CASE("BadGdbAddress: a host name is a usage error in one sentence") {
  Parsed p = Parse({"run", "--kernel", "bzImage", "--gdb", "example.com:1234"});
  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitUsage);
  CHECK(p.err == std::string("mini-vmm: --gdb: invalid --gdb address \"example.com\": expected an "
                             "IPv4 address or localhost") +
                     kHint);
}

TEST_CASE("BadGdbPort: port 0 is a usage error") {
  Parsed p = Parse({"run", "--kernel", "bzImage", "--gdb", "127.0.0.1:0"});
  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitUsage);
}

TEST_CASE("BadGdbWait: --gdb-wait without --gdb is a usage error") {
  Parsed p = Parse({"run", "--kernel", "bzImage", "--gdb-wait"});
  CHECK_FALSE(p.result.run);
  CHECK(p.result.exit_code == kExitUsage);
}

}  // namespace
}  // namespace mini_vmm::cli
