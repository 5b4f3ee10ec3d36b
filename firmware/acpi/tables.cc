#include "firmware/acpi/tables.h"

#include <array>
#include <cstring>
#include <string_view>
#include <utility>

#include "firmware/acpi/dsdt.h"
#include "firmware/acpi/fadt.h"
#include "firmware/acpi/madt.h"
#include "firmware/acpi/mcfg.h"
#include "firmware/acpi/rsdp.h"
#include "firmware/acpi/xsdt.h"

namespace mini_vmm::firmware::acpi {
namespace {

// Not required by the spec (only the RSDP and FACS have alignment rules),
// but it keeps each table's header on a boundary OSPMs expect.
constexpr uint64_t kTableAlignment = 16;
constexpr size_t kMaxXsdtEntries = 3;  // FADT, MADT, MCFG.
constexpr uint8_t kMaxSleepType = 7;   // SLP_TYP is 3 bits (4.8.3.7).
constexpr uint64_t k4GiB = 1ull << 32;

constexpr uint64_t AlignUp(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

// Offsets from the RSDP, which comes first.
struct Layout {
  uint64_t xsdt;
  uint64_t fadt;
  uint64_t madt;
  uint64_t mcfg;  // Zero-sized without a PCI host bridge.
  uint64_t dsdt;
  uint64_t end;
};

Layout PlanLayout(size_t xsdt_entries, size_t madt_size, size_t mcfg_size, size_t dsdt_size) {
  Layout layout{};
  layout.xsdt = AlignUp(sizeof(Rsdp), kTableAlignment);
  layout.fadt = AlignUp(layout.xsdt + XsdtSize(xsdt_entries), kTableAlignment);
  layout.madt = AlignUp(layout.fadt + sizeof(Fadt), kTableAlignment);
  layout.mcfg = AlignUp(layout.madt + madt_size, kTableAlignment);
  layout.dsdt = AlignUp(layout.mcfg + mcfg_size, kTableAlignment);
  layout.end = layout.dsdt + dsdt_size;
  return layout;
}

void Place(std::vector<uint8_t>& blob, uint64_t offset, const std::vector<uint8_t>& table) {
  if (table.empty()) return;  // No MCFG without PCI; memcpy wants real pointers.
  std::memcpy(blob.data() + offset, table.data(), table.size());
}

Result<void> ValidateVirtioMmio(const std::vector<VirtioMmioDevice>& devices) {
  if (devices.size() > kMaxVirtioMmioDevices) {
    return Error::Invalid("the DSDT can name at most {} virtio-mmio devices, got {}",
                          kMaxVirtioMmioDevices, devices.size());
  }
  for (size_t i = 0; i < devices.size(); ++i) {
    const VirtioMmioDevice& d = devices[i];
    if (d.gsi >= kIoapicPins) {
      return Error::Invalid("virtio-mmio device {} uses GSI {}, beyond the IOAPIC's {} pins", i,
                            d.gsi, kIoapicPins);
    }
    // Memory32Fixed holds a 32-bit base and length.
    if (d.size == 0 || d.base >= k4GiB || d.size > k4GiB - d.base) {
      return Error::Invalid("virtio-mmio device {} window {:#x}+{:#x} is empty or not below 4 GiB",
                            i, d.base, d.size);
    }
  }
  return {};
}

Result<void> ValidatePowerPorts(const AcpiConfig& config) {
  // Linux treats a register at address 0 as absent and then cannot power
  // off or reset through ACPI.
  const std::array<std::pair<std::string_view, uint16_t>, 3> ports = {{
      {"sleep control", config.sleep_control_port},
      {"sleep status", config.sleep_status_port},
      {"reset", config.reset_port},
  }};
  for (const auto& [name, port] : ports) {
    if (port == 0) return Error::Invalid("the ACPI {} register cannot be at I/O port 0", name);
  }
  if (config.s5_sleep_type > kMaxSleepType) {
    return Error::Invalid("S5 sleep type {} does not fit the 3-bit SLP_TYP field",
                          config.s5_sleep_type);
  }
  return {};
}

Result<void> ValidatePciHostBridge(const PciHostBridge& pci) {
  constexpr uint64_t kEcamBusSize = 1 << 20;  // 32 devices x 8 functions x 4 KiB.
  if (pci.first_bus > pci.last_bus) {
    return Error::Invalid("PCI bus range {}-{} is empty", pci.first_bus, pci.last_bus);
  }
  const uint64_t buses = uint64_t{pci.last_bus} - pci.first_bus + 1;
  if (pci.ecam_base % kEcamBusSize != 0 || pci.ecam_size != buses * kEcamBusSize ||
      pci.ecam_base + pci.ecam_size > k4GiB) {
    return Error::Invalid("PCI ECAM {:#x}+{:#x} must be 1 MiB aligned, 1 MiB per bus, below 4 GiB",
                          pci.ecam_base, pci.ecam_size);
  }
  if (pci.mmio32_size == 0 || pci.mmio32_base + pci.mmio32_size > k4GiB) {
    return Error::Invalid("the 32-bit PCI window {:#x}+{:#x} must be non-empty, below 4 GiB",
                          pci.mmio32_base, pci.mmio32_size);
  }
  if (pci.mmio64_size != 0 && pci.mmio64_size - 1 > UINT64_MAX - pci.mmio64_base) {
    return Error::Invalid("the 64-bit PCI window {:#x}+{:#x} wraps", pci.mmio64_base,
                          pci.mmio64_size);
  }
  if (pci.io_size != 0 && (pci.io_base > 0xffff || pci.io_size > 0x10000 - pci.io_base)) {
    return Error::Invalid("the PCI I/O window {:#x}+{:#x} runs past port 0xffff", pci.io_base,
                          pci.io_size);
  }
  // _CRS describes the window with a Word Address Space Descriptor, whose
  // 16-bit _LEN cannot say 0x10000 (it would read as 0).
  if (pci.io_size > 0xffff) {
    return Error::Invalid(
        "the PCI I/O window {:#x}+{:#x} is longer than the 0xffff ports _CRS can describe",
        pci.io_base, pci.io_size);
  }
  if (pci.slots == 0 || pci.slots > 32) {
    return Error::Invalid("a PCI bus has 1 to 32 slots, got {}", pci.slots);
  }
  for (uint32_t gsi : pci.intx_gsis) {
    if (gsi >= kIoapicPins) {
      return Error::Invalid("PCI INTx GSI {} is beyond the IOAPIC's {} pins", gsi, kIoapicPins);
    }
  }
  return {};
}

// The tables at their final addresses, RSDP first, as one image.
std::vector<uint8_t> BuildImage(GuestAddress start, const AcpiConfig& config) {
  const std::vector<uint8_t> madt = BuildMadt(config);
  const std::vector<uint8_t> mcfg = config.pci ? BuildMcfg(*config.pci) : std::vector<uint8_t>();
  const std::vector<uint8_t> dsdt = BuildDsdt(config);
  const size_t xsdt_entries = config.pci ? kMaxXsdtEntries : kMaxXsdtEntries - 1;
  const Layout layout = PlanLayout(xsdt_entries, madt.size(), mcfg.size(), dsdt.size());
  const std::array<GuestAddress, kMaxXsdtEntries> entries = {
      start.Offset(layout.fadt), start.Offset(layout.madt), start.Offset(layout.mcfg)};

  std::vector<uint8_t> image(layout.end, 0);
  Place(image, 0, BuildRsdp(start.Offset(layout.xsdt)));
  Place(image, layout.xsdt, BuildXsdt(std::span(entries).first(xsdt_entries)));
  Place(image, layout.fadt, BuildFadt(config, start.Offset(layout.dsdt)));
  Place(image, layout.madt, madt);
  Place(image, layout.mcfg, mcfg);
  Place(image, layout.dsdt, dsdt);
  return image;
}

}  // namespace

Result<void> ValidateAcpiConfig(const AcpiConfig& config) {
  if (config.num_cpus == 0) return Error::Invalid("ACPI tables need at least 1 vCPU, got 0");
  if (config.num_cpus > kMaxCpus) {
    return Error::Invalid("ACPI tables describe at most {} vCPUs (xAPIC IDs 0-{}), got {}",
                          kMaxCpus, kMaxCpus - 1, config.num_cpus);
  }
  // The MADT's Local APIC and IOAPIC address fields are 32-bit.
  if (config.lapic_address >= k4GiB || config.ioapic_address >= k4GiB) {
    return Error::Invalid("Local APIC {:#x} and IOAPIC {:#x} must be below 4 GiB",
                          config.lapic_address, config.ioapic_address);
  }
  TRY(ValidatePowerPorts(config));
  TRY(ValidateVirtioMmio(config.virtio_mmio));
  if (config.pci) TRY(ValidatePciHostBridge(*config.pci));
  return {};
}

Result<GuestAddress> WriteAcpiTables(const GuestMemory& mem, GuestAddress start, uint64_t size,
                                     const AcpiConfig& config) {
  TRY(ValidateAcpiConfig(config));
  if (start.value() % kRsdpAlignment != 0) {
    return Error::Invalid("ACPI tables start {:#x} is not {}-byte aligned, as the RSDP must be",
                          start.value(), kRsdpAlignment);
  }
  // Planned before anything is written, so a failure leaves memory as it was.
  const std::vector<uint8_t> image = BuildImage(start, config);
  if (image.size() > size) {
    return Error::Invalid("ACPI tables need {} bytes but only {} are reserved at {:#x}",
                          image.size(), size, start.value());
  }
  if (!start.CheckedAdd(image.size()) || !mem.Write(start, image)) {
    return Error::Invalid("ACPI tables at {:#x}+{:#x} are not inside guest RAM", start.value(),
                          image.size());
  }
  return start;
}

}  // namespace mini_vmm::firmware::acpi
