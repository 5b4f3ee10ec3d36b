// VfioBarMover: keeps a passed-through function's BARs where the guest
// put them. For each BAR: its trap handler on the MMIO (or port) bus over
// the whole BAR, and each mmapped part as a device region of the MemoryMap
// (a KVM memslot) at BAR address + offset. A part that cannot be placed
// (KVM refused, overlap) is left out of the map: its accesses then trap and
// are forwarded to the device, slower but correct.
//
// Threading: BarMoved runs on a vCPU thread under the root bus's lock;
// Map() and UnmapAll() on the machine's thread before and after the guest.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "devices/bus/bus.h"
#include "devices/pci/config_space.h"
#include "devices/vfio_pci/vfio_pci_function.h"
#include "vmm/base/mmap_region.h"
#include "vmm/memory/memory_map.h"

namespace mini_vmm {

class VfioBarMover final : public pci::BarObserver {
 public:
  VfioBarMover(std::string name, std::shared_ptr<vfio_pci::VfioPciFunction> function,
               devices::Bus& mmio_bus, devices::Bus& pio_bus, MemoryMap& memory_map)
      : name_(std::move(name)),
        function_(std::move(function)),
        mmio_bus_(mmio_bus),
        pio_bus_(pio_bus),
        memory_map_(memory_map) {}

  // mmaps every part of every BAR that will be mapped into the guest.
  Result<void> Map(vfio::DeviceIo& io);
  void BarMoved(int bar, std::optional<uint64_t> old_address,
                std::optional<uint64_t> new_address) noexcept override;
  // Takes every BAR out of the guest (teardown).
  void UnmapAll() noexcept;
  // Parts in the map now (tests).
  size_t placed() const;

 private:
  struct Part {
    int bar;
    uint64_t offset;
    MmapRegion mapping;
    std::optional<uint32_t> region;  // Its id in the MemoryMap while placed.
  };
  void Place(Part& part, std::optional<uint64_t> base) noexcept;

  const std::string name_;
  std::shared_ptr<vfio_pci::VfioPciFunction> function_;
  devices::Bus& mmio_bus_;
  devices::Bus& pio_bus_;
  MemoryMap& memory_map_;
  std::vector<Part> parts_;
  std::array<std::optional<devices::BusRegistration>, pci::kNumBars> traps_;
};

}  // namespace mini_vmm
