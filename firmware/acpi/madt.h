// MADT (ACPI 6.5 section 5.2.12, signature "APIC"): the interrupt
// controllers. One enabled Local APIC per vCPU, the in-kernel IOAPIC, the
// PIT's IRQ0 -> GSI 2 override and NMI on LINT1.
#pragma once

#include <cstdint>
#include <vector>

#include "firmware/acpi/sdt.h"
#include "firmware/acpi/tables.h"

namespace mini_vmm::firmware::acpi {

inline constexpr uint8_t kMadtRevision = 6;  // ACPI 6.5.
inline constexpr uint32_t kMadtPcatCompat = 1u << 0;

// 5.2.12, Interrupt Controller Structure Types.
inline constexpr uint8_t kMadtTypeLocalApic = 0;
inline constexpr uint8_t kMadtTypeIoApic = 1;
inline constexpr uint8_t kMadtTypeInterruptSourceOverride = 2;
inline constexpr uint8_t kMadtTypeLocalApicNmi = 4;

inline constexpr uint32_t kLocalApicEnabled = 1u << 0;
// 5.2.12.5 MPS INTI flags.
inline constexpr uint16_t kMpsIntiPolarityActiveHigh = 0x1;
inline constexpr uint16_t kMpsIntiTriggerEdge = 0x1 << 2;
// Processor UID meaning "every processor" in Local APIC NMI structures.
inline constexpr uint8_t kAllProcessors = 0xff;

// The PIT is ISA IRQ 0 but is wired to IOAPIC pin 2, as on PCs.
inline constexpr uint8_t kPitIsaIrq = 0;
inline constexpr uint32_t kPitGsi = 2;

struct [[gnu::packed]] MadtHeader {
  SdtHeader header;
  uint32_t local_apic_address;
  uint32_t flags;
};
static_assert(sizeof(MadtHeader) == 44);

// 5.2.12.2 Processor Local APIC Structure.
struct [[gnu::packed]] MadtLocalApic {
  uint8_t type;
  uint8_t length;
  uint8_t processor_uid;
  uint8_t apic_id;
  uint32_t flags;
};
static_assert(sizeof(MadtLocalApic) == 8);

// 5.2.12.3 I/O APIC Structure.
struct [[gnu::packed]] MadtIoApic {
  uint8_t type;
  uint8_t length;
  uint8_t io_apic_id;
  uint8_t reserved;
  uint32_t io_apic_address;
  uint32_t global_system_interrupt_base;
};
static_assert(sizeof(MadtIoApic) == 12);

// 5.2.12.5 Interrupt Source Override Structure.
struct [[gnu::packed]] MadtInterruptSourceOverride {
  uint8_t type;
  uint8_t length;
  uint8_t bus;  // 0: ISA.
  uint8_t source;
  uint32_t global_system_interrupt;
  uint16_t flags;
};
static_assert(sizeof(MadtInterruptSourceOverride) == 10);

// 5.2.12.7 Local APIC NMI Structure.
struct [[gnu::packed]] MadtLocalApicNmi {
  uint8_t type;
  uint8_t length;
  uint8_t processor_uid;
  uint16_t flags;
  uint8_t local_apic_lint;
};
static_assert(sizeof(MadtLocalApicNmi) == 6);

// The MADT for a validated `config` (num_cpus <= 254, addresses < 4 GiB).
std::vector<uint8_t> BuildMadt(const AcpiConfig& config);

}  // namespace mini_vmm::firmware::acpi
