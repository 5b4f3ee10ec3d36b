#include "firmware/acpi/madt.h"

#include "vmm/base/check.h"

namespace mini_vmm::firmware::acpi {
namespace {

void AppendLocalApics(std::vector<uint8_t>& table, uint32_t num_cpus) {
  for (uint32_t cpu = 0; cpu < num_cpus; ++cpu) {
    // The ACPI processor UID equals the APIC ID: there are no Processor
    // objects in the DSDT that would need other UIDs.
    const auto id = static_cast<uint8_t>(cpu);
    AppendObj(table, MadtLocalApic{
                         .type = kMadtTypeLocalApic,
                         .length = sizeof(MadtLocalApic),
                         .processor_uid = id,
                         .apic_id = id,
                         .flags = kLocalApicEnabled,
                     });
  }
}

}  // namespace

std::vector<uint8_t> BuildMadt(const AcpiConfig& config) {
  VMM_CHECK(config.num_cpus <= kMaxCpus);
  VMM_CHECK(config.lapic_address <= UINT32_MAX && config.ioapic_address <= UINT32_MAX);
  std::vector<uint8_t> table;
  // PCAT_COMPAT: the in-kernel 8259 pair is present.
  AppendObj(table, MadtHeader{
                       .header = MakeSdtHeader("APIC", kMadtRevision),
                       .local_apic_address = static_cast<uint32_t>(config.lapic_address),
                       .flags = kMadtPcatCompat,
                   });
  AppendLocalApics(table, config.num_cpus);
  AppendObj(table, MadtIoApic{
                       .type = kMadtTypeIoApic,
                       .length = sizeof(MadtIoApic),
                       .io_apic_id = config.ioapic_id,
                       .reserved = 0,
                       .io_apic_address = static_cast<uint32_t>(config.ioapic_address),
                       .global_system_interrupt_base = 0,
                   });
  // Edge/active-high spelled out rather than "conforms to the bus": the
  // hardware-reduced FADT has SCI_INT 0, so Linux's acpi_parse_int_src_ovr()
  // takes this IRQ0 override for the SCI's and would turn "conforms" into
  // level/active-low (acpi_sci_ioapic_setup()).
  AppendObj(table, MadtInterruptSourceOverride{
                       .type = kMadtTypeInterruptSourceOverride,
                       .length = sizeof(MadtInterruptSourceOverride),
                       .bus = 0,
                       .source = kPitIsaIrq,
                       .global_system_interrupt = kPitGsi,
                       .flags = kMpsIntiPolarityActiveHigh | kMpsIntiTriggerEdge,
                   });
  // NMI arrives on LINT1 of every processor; flags 0 conform to the APIC's
  // own convention (NMI is edge-sensitive).
  AppendObj(table, MadtLocalApicNmi{
                       .type = kMadtTypeLocalApicNmi,
                       .length = sizeof(MadtLocalApicNmi),
                       .processor_uid = kAllProcessors,
                       .flags = 0,
                       .local_apic_lint = 1,
                   });
  FinishSdt(table);
  return table;
}

}  // namespace mini_vmm::firmware::acpi
