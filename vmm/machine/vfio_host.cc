#include "vmm/machine/vfio_host.h"

#include "vmm/base/log.h"

namespace mini_vmm {
namespace {

// Locking all of guest RAM must fit RLIMIT_MEMLOCK (unless the process may
// lock without limit); checked up front so the error names the bytes.
Result<void> CheckMemlock(std::span<const GuestRegionSpec> ram) {
  uint64_t needed = 0;
  for (const GuestRegionSpec& r : ram) needed += r.size;
  const std::optional<uint64_t> limit = vfio::MemlockLimit();
  if (limit && needed > *limit) {
    return Error::Invalid(
        "pinning guest RAM for device DMA needs {} bytes of locked memory, more than "
        "RLIMIT_MEMLOCK allows ({} bytes); raise it (ulimit -l) to at least {} KiB",
        needed, *limit, (needed + 1023) / 1024);
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<VfioHost>> VfioHost::Open(std::span<const std::string> bdfs,
                                                 std::span<const GuestRegionSpec> ram,
                                                 const vfio::HostPaths& paths) {
  VMM_CHECK(!bdfs.empty());
  const auto prefixed = [](const std::string& bdf, const Error& e) {
    return Error::Invalid("--vfio {}: {}", bdf, e.ToString());
  };
  auto container = vfio::Container::Open(paths.container);
  if (!container.ok()) return prefixed(bdfs[0], container.error());
  std::unique_ptr<VfioHost> host(new VfioHost(std::move(container).value(), bdfs[0]));
  const vfio::Sysfs sysfs(paths.sysfs);
  for (const std::string& text : bdfs) {
    auto opened = [&]() -> Result<void> {
      const vfio::HostPciAddress bdf = TRY(vfio::ParseHostPciAddress(text));
      const uint32_t number = TRY(vfio::CheckDevice(sysfs, text, bdf));
      if (!host->groups_.contains(number)) {
        host->groups_.emplace(number,
                              TRY(vfio::Group::Open(paths.dev_dir, number, host->container_)));
      }
      auto device =
          std::make_unique<vfio::Device>(TRY(vfio::Device::Open(host->groups_.at(number), bdf)));
      // The guest starts with the device as reset leaves it.
      TRY(device->Reset());
      host->devices_.push_back(std::move(device));
      return {};
    }();
    if (!opened.ok()) {
      // CheckDevice's errors already name the device.
      if (opened.error().context().starts_with("--vfio ")) return std::move(opened).error();
      return prefixed(text, opened.error());
    }
  }
  auto info = host->container_.GetIommuInfo();
  if (!info.ok()) return prefixed(bdfs[0], info.error());
  for (const GuestRegionSpec& r : ram) {
    if (auto fits = vfio::CheckRamIova(r.start.value(), r.size, info->iova_ranges); !fits.ok()) {
      return prefixed(bdfs[0], fits.error());
    }
  }
  if (auto fits = CheckMemlock(ram); !fits.ok()) return prefixed(bdfs[0], fits.error());
  host->dma_.emplace(host->container_, info->iova_ranges, vfio::MemlockLimit());
  return host;
}

VfioHost::~VfioHost() {
  // Left as found: reset on the way out too (the attachments disabled the
  // interrupts and unmapped the BARs first).
  for (auto& device : devices_) {
    if (auto reset = device->Reset(); !reset.ok()) LOG_WARN("{}", reset.error().ToString());
  }
  dma_.reset();  // Unmaps DMA before the container closes.
}

}  // namespace mini_vmm
