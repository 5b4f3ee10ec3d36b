#include "vmm/cli/cli.h"

#include <CLI/CLI.hpp>
#include <string>

#include "vmm/cli/memory_option.h"
#include "vmm/cli/size.h"
#include "vmm/config/device_kinds.h"
#include "vmm/gdb/listen_address.h"

namespace mini_vmm::cli {
namespace {

constexpr const char* kVersion = "mini-vmm 0.1.0";
constexpr uint32_t kMaxCpus = 254;  // xAPIC IDs; the MP table and MADT use 8-bit IDs.

constexpr const char* kFooter = R"(Examples:
  mini-vmm run --kernel images/out/vmlinuz --initrd images/out/initramfs.cpio.gz \
      --cmdline "console=ttyS0 quiet" --cpus 2 --memory 512M
  mini-vmm run --kernel bzImage --disk path=rootfs.img \
      --disk path=data.img,readonly=on,serial=data0 --cmdline "console=ttyS0 root=/dev/vda"

The serial console is on this terminal (raw mode while it runs). Press
Ctrl-A x to quit, Ctrl-A Ctrl-A to send Ctrl-A to the guest.
Exit status: 0 when the guest powers off or reboots, 1 when it crashes or
mini-vmm fails, 2 for a bad command line.)";

std::string CheckMemory(const std::string& text) {
  auto memory = ParseMemoryOption(text);
  return memory.ok() ? std::string() : memory.error().ToString();
}

std::string CheckCpus(const std::string& text) {
  try {
    size_t used = 0;
    const long n = std::stol(text, &used);
    if (used == text.size() && n >= 1 && n <= kMaxCpus) return {};
  } catch (const std::exception&) {
  }
  return "the number of vCPUs must be between 1 and " + std::to_string(kMaxCpus) + ", not \"" +
         text + "\"";
}

std::string CheckLogLevel(const std::string& text) {
  LogLevel level;
  if (log::ParseLevel(text, &level)) return {};
  return "\"" + text + "\" is not a log level (error, warn, info, debug, trace)";
}

std::string CheckKernelDecompress(const std::string& text) {
  if (text == "host" || text == "guest") return {};
  return "\"" + text + "\" is neither host nor guest";
}

std::string CheckGdbAddress(const std::string& text) {
  auto address = gdb::ParseListenAddress(text);
  return address.ok() ? std::string() : address.error().ToString();
}

struct RawOptions {
  // Per DeviceKinds() entry, its option's values.
  std::vector<std::vector<std::string>> devices{DeviceKinds().size()};
  std::string memory = "512M";
  std::string cpus = "1";
  std::string log_level = "warn";
  std::string kernel_decompress = "host";
  bool no_hugepages = false;
  std::string gdb;
};

void AddRunOptions(CLI::App& run, VmConfig& config, RawOptions& raw) {
  run.add_option("--kernel", config.kernel_path,
                 "Linux kernel: a bzImage or an uncompressed ELF vmlinux (required)")
      ->type_name("PATH");
  run.add_option("--initrd", config.initrd_path, "initramfs or initrd image")->type_name("PATH");
  run.add_option("--kernel-decompress", raw.kernel_decompress,
                 "who decompresses a bzImage: host (mini-vmm, cached; no KASLR) or guest (the "
                 "kernel's own decompressor; KASLR)")
      ->type_name("host|guest")
      ->check(CLI::Validator(CheckKernelDecompress, ""))
      ->capture_default_str();
  run.add_option("--cmdline", config.cmdline, "kernel command line")
      ->type_name("TEXT")
      ->capture_default_str();
  run.add_option("--cpus", raw.cpus, "number of vCPUs (1-254)")
      ->type_name("N")
      ->check(CLI::Validator(CheckCpus, ""))
      ->capture_default_str();
  run.add_option("--memory", raw.memory,
                 "guest RAM: SIZE[,shared=on|off][,hugetlb=on|off]; a bare number is MiB")
      ->type_name("SIZE")
      ->check(CLI::Validator(CheckMemory, ""))
      ->capture_default_str();
  run.add_flag("--no-hugepages", raw.no_hugepages,
               "back guest RAM with 4 KiB pages only (no transparent huge page advice)");
  run.add_flag("--boot-timer", config.boot_timer,
               "print the time from start to the guest's boot marker (port 0x3f0, value 123)");
  run.add_option("--log-level", raw.log_level, "error, warn, info, debug or trace")
      ->type_name("LEVEL")
      ->check(CLI::Validator(CheckLogLevel, ""))
      ->capture_default_str();
  for (size_t i = 0; i < DeviceKinds().size(); ++i) {
    const virtio::DeviceKind& kind = *DeviceKinds()[i];
    // transport= is every kind's (ParseDeviceRequest takes it out).
    run.add_option("--" + std::string(kind.option()), raw.devices[i],
                   std::string(kind.help()) + "; transport=mmio|pci (default mmio)")
        ->type_name("SPEC")
        ->check(CLI::Validator(
            [&kind](const std::string& text) {
              auto device = ParseDeviceRequest(kind, text);
              return device.ok() ? std::string() : device.error().ToString();
            },
            ""));
  }
  run.add_option("--vfio", config.vfio,
                 "pass the host PCI function BDF (DDDD:BB:DD.F, bound to vfio-pci) through to "
                 "the guest; repeatable")
      ->type_name("BDF");
  CLI::Option* gdb =
      run.add_option("--gdb", raw.gdb,
                     "serve gdb's remote protocol on [ADDRESS:]PORT (default address 127.0.0.1)")
          ->type_name("ADDR:PORT")
          ->check(CLI::Validator(CheckGdbAddress, ""));
  run.add_flag("--gdb-wait", config.gdb_wait,
               "hold every vCPU before its first instruction until gdb continues")
      ->needs(gdb);
  run.add_option("--kvm-device", config.kvm_path, "KVM device node")
      ->type_name("PATH")
      ->capture_default_str();
}

void ApplyRawOptions(const RawOptions& raw, VmConfig& config) {
  for (size_t i = 0; i < DeviceKinds().size(); ++i) {
    for (const std::string& text : raw.devices[i]) {
      config.devices.push_back(*ParseDeviceRequest(*DeviceKinds()[i], text));
    }
  }
  const MemoryConfig memory = *ParseMemoryOption(raw.memory);
  config.memory_bytes = memory.bytes;
  config.memory_backing = memory.backing;
  config.cpus = static_cast<uint32_t>(std::stoul(raw.cpus));
  config.hugepages = !raw.no_hugepages;
  config.kernel_decompress =
      raw.kernel_decompress == "guest" ? KernelDecompress::kGuest : KernelDecompress::kHost;
  log::ParseLevel(raw.log_level, &config.log_level);
  if (!raw.gdb.empty()) config.gdb = *gdb::ParseListenAddress(raw.gdb);
}

}  // namespace

ParsedCommandLine ParseCommandLine(int argc, const char* const* argv, std::ostream& out,
                                   std::ostream& err) {
  CLI::App app{"mini-vmm: a small, fast KVM virtual machine monitor that boots Linux kernels.",
               "mini-vmm"};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);
  app.footer(kFooter);
  CLI::App* run = app.add_subcommand("run", "boot a Linux kernel in a new VM");
  run->footer(kFooter);

  ParsedCommandLine parsed;
  RawOptions raw;
  AddRunOptions(*run, parsed.config, raw);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    // Top-level help shows the subcommand's options too: there is only one.
    out << (run->parsed() ? run->help() : app.help("", CLI::AppFormatMode::All));
    return parsed;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return parsed;
  } catch (const CLI::CallForVersion&) {
    out << kVersion << "\n";
    return parsed;
  } catch (const CLI::ParseError& e) {
    err << "mini-vmm: " << e.what() << " (see mini-vmm run --help)\n";
    parsed.exit_code = kExitUsage;
    return parsed;
  }
  // Checked here rather than with ->required() so that an unknown option is
  // reported as such instead of as a missing --kernel.
  if (parsed.config.kernel_path.empty()) {
    err << "mini-vmm: --kernel is required (see mini-vmm run --help)\n";
    parsed.exit_code = kExitUsage;
    return parsed;
  }
  ApplyRawOptions(raw, parsed.config);
  parsed.run = true;
  return parsed;
}

}  // namespace mini_vmm::cli
