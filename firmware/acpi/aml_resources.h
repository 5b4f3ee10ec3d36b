// ResourceTemplate: builds the Buffer that a device's _CRS returns, one
// resource descriptor per call (ACPI 6.5 section 6.4):
//
//   aml::Bytes crs = ResourceTemplate()
//                        .Memory32Fixed(ReadWrite::kReadWrite, 0xd0000000, 0x1000)
//                        .Interrupt(Trigger::kEdge, Polarity::kActiveHigh,
//                                   Sharing::kExclusive, 5)
//                        .ToAml();
//   aml::Bytes name = aml::Name("_CRS", crs);
//
// A PCI host bridge's _CRS lists what it forwards to its bus with the
// address space descriptors (WordBusNumber, DWordMemory, QWordMemory).
#pragma once

#include <cstdint>

#include "firmware/acpi/aml.h"

namespace mini_vmm::firmware::acpi {

enum class ReadWrite : uint8_t { kReadOnly, kReadWrite };
enum class Trigger : uint8_t { kLevel, kEdge };
enum class Polarity : uint8_t { kActiveHigh, kActiveLow };
enum class Sharing : uint8_t { kExclusive, kShared };

class ResourceTemplate {
 public:
  // 6.4.2.5 I/O Port Descriptor with 16-bit decode: IO(Decode16, ...).
  ResourceTemplate& Io(uint16_t min, uint16_t max, uint8_t alignment, uint8_t length);

  // 6.4.2.1 IRQ Descriptor without the information byte: IRQNoFlags(){irq},
  // which means edge-triggered, active-high, exclusive. `irq` is an ISA IRQ
  // (0-15).
  ResourceTemplate& IrqNoFlags(uint8_t irq);

  // 6.4.3.4 32-Bit Fixed Memory Range Descriptor: Memory32Fixed(...).
  ResourceTemplate& Memory32Fixed(ReadWrite access, uint32_t base, uint32_t length);

  // 6.4.3.6 Extended Interrupt Descriptor for one GSI, consumed by the
  // device: Interrupt(ResourceConsumer, ...){gsi}. No resource source, which
  // is what makes Linux treat the number as a GSI (is_gsi() in
  // drivers/acpi/resource.c).
  ResourceTemplate& Interrupt(Trigger trigger, Polarity polarity, Sharing sharing, uint32_t gsi);

  // 6.4.3.5.3 Word Address Space Descriptor for bus numbers, produced (a
  // bridge's bus range): WordBusNumber(ResourceProducer, MinFixed,
  // MaxFixed, PosDecode, 0, first, last, 0, last - first + 1).
  ResourceTemplate& WordBusNumber(uint16_t first, uint16_t last);
  // The same descriptor for the I/O port range [first, last] a bridge
  // forwards: WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode,
  // EntireRange, ...). At most 0xffff ports: the length is 16 bits.
  ResourceTemplate& WordIo(uint16_t first, uint16_t last);

  // 6.4.3.5.2 / 6.4.3.5.1 DWord and QWord Address Space Descriptors for a
  // memory window a bridge produces (forwards to its bus), fixed at
  // [base, base + length), read-write, no translation. `prefetchable`
  // marks it so (_MEM = 3); otherwise it is non-cacheable.
  ResourceTemplate& DWordMemory(uint32_t base, uint32_t length, bool prefetchable);
  ResourceTemplate& QWordMemory(uint64_t base, uint64_t length, bool prefetchable);

  // The descriptors followed by the End Tag (6.4.2.9), as raw bytes.
  aml::Bytes Descriptors() const;

  // The descriptors and End Tag wrapped in an AML Buffer object.
  aml::Bytes ToAml() const;

 private:
  aml::Bytes descriptors_;
};

}  // namespace mini_vmm::firmware::acpi
