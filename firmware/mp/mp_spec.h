// Structures of the Intel MultiProcessor Specification 1.4 (May 1997),
// chapter 4, as they are laid out in memory (little-endian, packed).
#pragma once

#include <bit>
#include <cstdint>

namespace mini_vmm::firmware::mp {

static_assert(std::endian::native == std::endian::little,
              "MP tables are little-endian and are written from host structs");

inline constexpr uint8_t kSpecRev14 = 4;

// 4.1 MP Floating Pointer Structure.
struct [[gnu::packed]] FloatingPointer {
  char signature[4];  // "_MP_"
  uint32_t physical_address_pointer;
  uint8_t length;  // In 16-byte paragraphs: 1.
  uint8_t spec_rev;
  uint8_t checksum;
  uint8_t feature1;  // 0: a configuration table is present.
  uint8_t feature2;  // Bit 7 IMCRP clear: virtual wire mode.
  uint8_t feature3_5[3];
};
static_assert(sizeof(FloatingPointer) == 16);

// 4.2 MP Configuration Table Header.
struct [[gnu::packed]] ConfigTableHeader {
  char signature[4];  // "PCMP"
  uint16_t base_table_length;
  uint8_t spec_rev;
  uint8_t checksum;
  char oem_id[8];
  char product_id[12];
  uint32_t oem_table_pointer;
  uint16_t oem_table_size;
  uint16_t entry_count;
  uint32_t local_apic_address;
  uint16_t extended_table_length;
  uint8_t extended_table_checksum;
  uint8_t reserved;
};
static_assert(sizeof(ConfigTableHeader) == 44);

// 4.3 Base MP Configuration Table Entries, in the order they must appear.
enum EntryType : uint8_t {
  kEntryProcessor = 0,
  kEntryBus = 1,
  kEntryIoApic = 2,
  kEntryIoInterrupt = 3,
  kEntryLocalInterrupt = 4,
};

// 4.3.1 Processor Entries.
inline constexpr uint8_t kCpuEnabled = 1 << 0;
inline constexpr uint8_t kCpuBootProcessor = 1 << 1;
struct [[gnu::packed]] ProcessorEntry {
  uint8_t entry_type;
  uint8_t local_apic_id;
  uint8_t local_apic_version;
  uint8_t cpu_flags;
  uint32_t cpu_signature;
  uint32_t feature_flags;
  uint32_t reserved[2];
};
static_assert(sizeof(ProcessorEntry) == 20);

// 4.3.2 Bus Entries.
struct [[gnu::packed]] BusEntry {
  uint8_t entry_type;
  uint8_t bus_id;
  char bus_type[6];  // "ISA   "
};
static_assert(sizeof(BusEntry) == 8);

// 4.3.3 I/O APIC Entries.
inline constexpr uint8_t kIoApicEnabled = 1 << 0;
struct [[gnu::packed]] IoApicEntry {
  uint8_t entry_type;
  uint8_t io_apic_id;
  uint8_t io_apic_version;
  uint8_t io_apic_flags;
  uint32_t io_apic_address;
};
static_assert(sizeof(IoApicEntry) == 8);

// 4.3.4 Table 4-9 Interrupt Type Values.
enum InterruptType : uint8_t {
  kInterruptInt = 0,
  kInterruptNmi = 1,
  kInterruptSmi = 2,
  kInterruptExtInt = 3,
};

// 4.3.4 Table 4-10, I/O interrupt flags: polarity in bits 1-0, trigger mode
// in bits 3-2; 0 means "conforms to the specifications of the bus".
inline constexpr uint16_t kIrqFlagsConforming = 0;
inline constexpr uint16_t kIrqPolarityActiveHigh = 0x1;
inline constexpr uint16_t kIrqTriggerEdge = 0x1 << 2;
inline constexpr uint16_t kIrqPolarityActiveLow = 0x3;
inline constexpr uint16_t kIrqTriggerLevel = 0x3 << 2;

// 4.3.4 I/O Interrupt Assignment Entries and 4.3.5 Local Interrupt
// Assignment Entries share one layout.
struct [[gnu::packed]] InterruptEntry {
  uint8_t entry_type;
  uint8_t interrupt_type;
  uint16_t flags;
  uint8_t source_bus_id;
  uint8_t source_bus_irq;
  uint8_t destination_apic_id;  // 0xff in a local entry: every local APIC.
  uint8_t destination_intin;    // IOAPIC INTIN# or local APIC LINTIN#.
};
static_assert(sizeof(InterruptEntry) == 8);

inline constexpr uint8_t kAllLocalApics = 0xff;

}  // namespace mini_vmm::firmware::mp
