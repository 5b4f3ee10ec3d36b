#include "firmware/mp/mptable.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

#include "firmware/mp/mp_spec.h"
#include "vmm/base/check.h"

namespace mini_vmm::firmware::mp {
namespace {

constexpr std::string_view kOemId = "MINVMM  ";          // 8 bytes.
constexpr std::string_view kProductId = "MINIVMM     ";  // 12 bytes.
constexpr std::string_view kIsaBusType = "ISA   ";       // 6 bytes.
constexpr std::string_view kPciBusType = "PCI   ";       // 6 bytes.
constexpr uint8_t kPciBusId = 0;

// ISA follows the PCI bus when there is one.
uint8_t IsaBusId(const MpTableConfig& config) { return config.pci ? 1 : 0; }

// What KVM's in-kernel LAPIC and IOAPIC report in their version registers.
constexpr uint8_t kLocalApicVersion = 0x14;
constexpr uint8_t kIoApicVersion = 0x11;
// CPUID.1 EAX and EDX, as the spec asks; Linux ignores them. Family 6,
// with the FPU and APIC feature bits.
constexpr uint32_t kCpuSignature = 6u << 8;
constexpr uint32_t kCpuFeatures = (1u << 0) | (1u << 9);

// PC wiring: the PIT (IRQ0) on pin 2, the 8259's INTR as ExtINT on pin 0,
// and IRQ2, the cascade, on no pin.
constexpr uint8_t kPitIrq = 0;
constexpr uint8_t kPitPin = 2;
constexpr uint8_t kCascadeIrq = 2;
constexpr uint8_t kExtIntPin = 0;

constexpr uint64_t k4GiB = 1ull << 32;

uint8_t Checksum(std::span<const uint8_t> bytes) {
  uint8_t sum = 0;
  for (uint8_t b : bytes) sum = static_cast<uint8_t>(sum + b);
  return static_cast<uint8_t>(-sum);
}

void CopyFixedString(std::span<char> field, std::string_view text) {
  VMM_CHECK(field.size() == text.size());
  std::memcpy(field.data(), text.data(), text.size());
}

// The entries of the configuration table and their count.
class EntryList {
 public:
  template <typename T>
  void Add(const T& entry) {
    static_assert(std::is_trivially_copyable_v<T>);
    const size_t offset = bytes_.size();
    bytes_.resize(offset + sizeof(T));
    std::memcpy(bytes_.data() + offset, &entry, sizeof(T));
    ++count_;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  uint16_t count() const { return count_; }

 private:
  std::vector<uint8_t> bytes_;
  uint16_t count_ = 0;
};

InterruptEntry IoInterrupt(InterruptType type, uint16_t flags, uint8_t bus, uint8_t irq,
                           uint8_t ioapic_id, uint8_t pin) {
  return InterruptEntry{kEntryIoInterrupt, type, flags, bus, irq, ioapic_id, pin};
}

// 4.3.4 for PCI: the source IRQ is the slot in bits 2-6 and INTA#-INTD# as
// 0-3 in bits 0-1.
void AddPciInterrupts(EntryList& entries, const MpTableConfig& config) {
  constexpr uint16_t kPciFlags = kIrqPolarityActiveLow | kIrqTriggerLevel;
  for (uint32_t slot = 0; slot < config.pci_slots; ++slot) {
    for (uint32_t pin = 0; pin < config.pci_intx_gsis.size(); ++pin) {
      const uint32_t gsi = config.pci_intx_gsis[(slot + pin) % config.pci_intx_gsis.size()];
      entries.Add(IoInterrupt(kInterruptInt, kPciFlags, kPciBusId,
                              static_cast<uint8_t>((slot << 2) | pin), config.ioapic_id,
                              static_cast<uint8_t>(gsi)));
    }
  }
}

void AddProcessors(EntryList& entries, uint32_t num_cpus) {
  for (uint32_t cpu = 0; cpu < num_cpus; ++cpu) {
    const uint8_t flags = kCpuEnabled | (cpu == 0 ? kCpuBootProcessor : 0);
    entries.Add(ProcessorEntry{kEntryProcessor,
                               static_cast<uint8_t>(cpu),
                               kLocalApicVersion,
                               flags,
                               kCpuSignature,
                               kCpuFeatures,
                               {0, 0}});
  }
}

void AddInterrupts(EntryList& entries, const MpTableConfig& config) {
  const uint8_t ioapic = config.ioapic_id;
  const uint8_t isa = IsaBusId(config);
  entries.Add(IoInterrupt(kInterruptExtInt, kIrqFlagsConforming, isa, 0, ioapic, kExtIntPin));
  for (uint8_t irq = 0; irq < kIsaIrqs; ++irq) {
    if (irq == kCascadeIrq) continue;
    const uint8_t pin = irq == kPitIrq ? kPitPin : irq;
    // ISA interrupts conform to the bus: edge-triggered, active high.
    entries.Add(IoInterrupt(kInterruptInt, kIrqFlagsConforming, isa, irq, ioapic, pin));
  }
  // Above 15 there is no ISA convention to conform to, so say it.
  for (uint32_t gsi : config.extra_edge_gsis) {
    const auto pin = static_cast<uint8_t>(gsi);
    entries.Add(IoInterrupt(kInterruptInt, kIrqPolarityActiveHigh | kIrqTriggerEdge, isa, pin,
                            ioapic, pin));
  }
  if (config.pci) AddPciInterrupts(entries, config);
  for (uint8_t lint = 0; lint < 2; ++lint) {
    const InterruptType type = lint == 0 ? kInterruptExtInt : kInterruptNmi;
    entries.Add(InterruptEntry{kEntryLocalInterrupt, type, kIrqFlagsConforming, isa, 0,
                               kAllLocalApics, lint});
  }
}

// The configuration table (header and base entries), checksum set.
std::vector<uint8_t> BuildConfigTable(const MpTableConfig& config) {
  EntryList entries;
  AddProcessors(entries, config.num_cpus);
  // Bus entries in ascending ID order (4.3.2).
  if (config.pci) {
    BusEntry pci{kEntryBus, kPciBusId, {}};
    CopyFixedString(pci.bus_type, kPciBusType);
    entries.Add(pci);
  }
  BusEntry isa{kEntryBus, IsaBusId(config), {}};
  CopyFixedString(isa.bus_type, kIsaBusType);
  entries.Add(isa);
  entries.Add(IoApicEntry{kEntryIoApic, config.ioapic_id, kIoApicVersion, kIoApicEnabled,
                          static_cast<uint32_t>(config.ioapic_address)});
  AddInterrupts(entries, config);

  VMM_CHECK(sizeof(ConfigTableHeader) + entries.bytes().size() <= UINT16_MAX);
  ConfigTableHeader header{};
  CopyFixedString(header.signature, "PCMP");
  header.base_table_length = static_cast<uint16_t>(sizeof(header) + entries.bytes().size());
  header.spec_rev = kSpecRev14;
  CopyFixedString(header.oem_id, kOemId);
  CopyFixedString(header.product_id, kProductId);
  header.entry_count = entries.count();
  header.local_apic_address = static_cast<uint32_t>(config.lapic_address);

  std::vector<uint8_t> table(sizeof(header));
  std::memcpy(table.data(), &header, sizeof(header));
  table.insert(table.end(), entries.bytes().begin(), entries.bytes().end());
  table[offsetof(ConfigTableHeader, checksum)] = Checksum(table);
  return table;
}

Result<void> ValidateConfig(const MpTableConfig& config) {
  if (config.num_cpus == 0) return Error::Invalid("the MP table needs at least 1 vCPU, got 0");
  if (config.num_cpus > kMaxCpus) {
    return Error::Invalid("the MP table describes at most {} vCPUs (APIC IDs 0-{}), got {}",
                          kMaxCpus, kMaxCpus - 1, config.num_cpus);
  }
  if (config.lapic_address >= k4GiB || config.ioapic_address >= k4GiB) {
    return Error::Invalid("MP table Local APIC {:#x} and IOAPIC {:#x} must be below 4 GiB",
                          config.lapic_address, config.ioapic_address);
  }
  std::vector<uint32_t> gsis = config.extra_edge_gsis;
  std::sort(gsis.begin(), gsis.end());
  for (size_t i = 0; i < gsis.size(); ++i) {
    if (gsis[i] < kIsaIrqs || gsis[i] >= kIoapicPins) {
      return Error::Invalid("MP table extra GSI {} is not an IOAPIC pin from {} to {}", gsis[i],
                            kIsaIrqs, kIoapicPins - 1);
    }
    if (i > 0 && gsis[i] == gsis[i - 1]) {
      return Error::Invalid("MP table extra GSI {} is listed twice", gsis[i]);
    }
  }
  if (!config.pci) return {};
  if (config.pci_slots == 0 || config.pci_slots > 32) {
    return Error::Invalid("the MP table's PCI bus has 1 to 32 slots, got {}", config.pci_slots);
  }
  for (uint32_t gsi : config.pci_intx_gsis) {
    if (gsi < kIsaIrqs || gsi >= kIoapicPins) {
      return Error::Invalid("MP table PCI INTx GSI {} is not an IOAPIC pin from {} to {}", gsi,
                            kIsaIrqs, kIoapicPins - 1);
    }
    if (std::binary_search(gsis.begin(), gsis.end(), gsi)) {
      return Error::Invalid("MP table GSI {} is both an edge-triggered device's and PCI INTx", gsi);
    }
  }
  return {};
}

}  // namespace

Result<void> WriteMpTable(const GuestMemory& mem, GuestAddress start, uint64_t size,
                          const MpTableConfig& config) {
  TRY(ValidateConfig(config));
  if (start.value() % kFloatingPointerAlignment != 0) {
    return Error::Invalid("MP floating pointer at {:#x} is not {}-byte aligned", start.value(),
                          kFloatingPointerAlignment);
  }
  const std::vector<uint8_t> config_table = BuildConfigTable(config);
  const uint64_t total = sizeof(FloatingPointer) + config_table.size();
  if (total > size) {
    return Error::Invalid("the MP table needs {} bytes but only {} are reserved at {:#x}", total,
                          size, start.value());
  }
  // The floating pointer holds a 32-bit physical address.
  if (start.value() >= k4GiB || total > k4GiB - start.value()) {
    return Error::Invalid("the MP table at {:#x}+{:#x} must lie below 4 GiB", start.value(), total);
  }

  FloatingPointer pointer{};
  CopyFixedString(pointer.signature, "_MP_");
  pointer.physical_address_pointer = static_cast<uint32_t>(start.value() + sizeof(pointer));
  pointer.length = 1;
  pointer.spec_rev = kSpecRev14;
  std::vector<uint8_t> image(sizeof(pointer));
  std::memcpy(image.data(), &pointer, sizeof(pointer));
  image[offsetof(FloatingPointer, checksum)] = Checksum(image);
  image.insert(image.end(), config_table.begin(), config_table.end());

  if (!mem.Write(start, image)) {
    return Error::Invalid("the MP table at {:#x}+{:#x} is not inside guest RAM", start.value(),
                          total);
  }
  return {};
}

}  // namespace mini_vmm::firmware::mp
