#include "firmware/linux/boot_params.h"

#include <algorithm>
#include <cstring>

namespace mini_vmm::firmware::linux_boot {
namespace {

constexpr uint8_t kLoaderTypeUndefined = 0xff;  // boot.rst: "0xff undefined".
constexpr uint16_t kVidModeNormal = 0xffff;

}  // namespace

setup_header SyntheticHeader() {
  setup_header hdr{};
  hdr.boot_flag = 0xaa55;
  hdr.header = 0x53726448;  // "HdrS"
  hdr.version = 0x020c;
  hdr.loadflags = LOADED_HIGH;
  hdr.kernel_alignment = 0x1000000;
  hdr.cmdline_size = 2047;
  hdr.initrd_addr_max = 0x7fffffff;
  hdr.xloadflags = XLF_KERNEL_64;
  return hdr;
}

Result<boot_params> BuildBootParams(const BootParamsConfig& config) {
  if (config.e820.size() > E820_MAX_ENTRIES_ZEROPAGE) {
    return Error::Invalid("the memory map has {} entries; the zero page holds {}",
                          config.e820.size(), E820_MAX_ENTRIES_ZEROPAGE);
  }
  boot_params params{};
  params.hdr = config.header;
  params.hdr.type_of_loader = kLoaderTypeUndefined;
  params.hdr.vid_mode = kVidModeNormal;
  params.hdr.cmd_line_ptr = static_cast<uint32_t>(config.cmdline_address);
  params.ext_cmd_line_ptr = static_cast<uint32_t>(config.cmdline_address >> 32);
  params.hdr.ramdisk_image = static_cast<uint32_t>(config.initrd_address);
  params.ext_ramdisk_image = static_cast<uint32_t>(config.initrd_address >> 32);
  params.hdr.ramdisk_size = static_cast<uint32_t>(config.initrd_size);
  params.ext_ramdisk_size = static_cast<uint32_t>(config.initrd_size >> 32);
  params.acpi_rsdp_addr = config.acpi_rsdp_address;
  params.e820_entries = static_cast<uint8_t>(config.e820.size());
  for (size_t i = 0; i < config.e820.size(); ++i) {
    params.e820_table[i].addr = config.e820[i].address;
    params.e820_table[i].size = config.e820[i].size;
    params.e820_table[i].type = config.e820[i].type;
  }
  return params;
}

std::vector<E820Entry> BuildE820(std::span<const GuestRegion> ram,
                                 std::span<const E820Entry> reserved) {
  std::vector<E820Entry> sorted_reserved(reserved.begin(), reserved.end());
  std::sort(sorted_reserved.begin(), sorted_reserved.end(),
            [](const E820Entry& a, const E820Entry& b) { return a.address < b.address; });
  std::vector<E820Entry> map;
  for (const GuestRegion& region : ram) {
    uint64_t cursor = region.start().value();
    const uint64_t end = region.end();
    for (const E820Entry& r : sorted_reserved) {
      const uint64_t r_end = r.address + r.size;
      if (r_end <= cursor || r.address >= end) continue;
      if (r.address > cursor) map.push_back({cursor, r.address - cursor, kE820Ram});
      cursor = std::min(r_end, end);
    }
    if (cursor < end) map.push_back({cursor, end - cursor, kE820Ram});
  }
  for (const E820Entry& r : sorted_reserved) map.push_back({r.address, r.size, kE820Reserved});
  std::sort(map.begin(), map.end(),
            [](const E820Entry& a, const E820Entry& b) { return a.address < b.address; });
  return map;
}

Result<void> CheckCmdlineFits(size_t length, uint64_t area_size, uint32_t kernel_limit) {
  // cmdline_size comes from the kernel image, which may claim anything: the
  // area the VMM set aside is the bound that protects what lies after it.
  const uint64_t area_limit = area_size > 0 ? area_size - 1 : 0;
  if (length > area_limit && area_limit < kernel_limit) {
    return Error::Invalid(
        "the kernel command line is {} bytes; mini-vmm reserves room for at most {}", length,
        area_limit);
  }
  if (length > kernel_limit) {
    return Error::Invalid("the kernel command line is {} bytes; this kernel accepts at most {}",
                          length, kernel_limit);
  }
  return {};
}

Result<void> WriteCmdline(const GuestMemory& mem, CmdlineArea area, std::string_view cmdline,
                          uint32_t kernel_limit) {
  TRY(CheckCmdlineFits(cmdline.size(), area.size, kernel_limit));
  if (cmdline.find('\0') != std::string_view::npos) {
    return Error::Invalid("the kernel command line contains a NUL byte");
  }
  auto slice = mem.GetSlice(area.address, cmdline.size() + 1);
  if (!slice) return Error::Invalid("the kernel command line does not fit in guest RAM");
  std::memcpy(slice->data(), cmdline.data(), cmdline.size());
  (*slice)[cmdline.size()] = 0;
  return {};
}

}  // namespace mini_vmm::firmware::linux_boot
