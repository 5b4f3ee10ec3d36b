#include "firmware/acpi/aml_resources.h"

#include "vmm/base/check.h"

namespace mini_vmm::firmware::acpi {
namespace {

// 6.4.2 small resource header: bit 7 clear, item name in bits 6-3, length in
// bits 2-0. 6.4.3 large resource header: bit 7 set, item name in bits 6-0,
// then a 16-bit length.
constexpr uint8_t SmallTag(uint8_t item, uint8_t length) {
  return static_cast<uint8_t>((item << 3) | length);
}
constexpr uint8_t LargeTag(uint8_t item) { return static_cast<uint8_t>(0x80 | item); }

constexpr uint8_t kIrqItem = 0x04;
constexpr uint8_t kIoItem = 0x08;
constexpr uint8_t kEndTagItem = 0x0f;
constexpr uint8_t kMemory32FixedItem = 0x06;
constexpr uint8_t kExtendedInterruptItem = 0x09;
constexpr uint8_t kDWordAddressItem = 0x07;
constexpr uint8_t kWordAddressItem = 0x08;
constexpr uint8_t kQWordAddressItem = 0x0a;

constexpr uint8_t kIrqNoFlagsLength = 2;
constexpr uint8_t kIoLength = 7;
constexpr uint8_t kEndTagLength = 1;
constexpr uint16_t kMemory32FixedLength = 9;
// Flags byte, interrupt count byte, one 32-bit interrupt number.
constexpr uint16_t kOneInterruptLength = 6;
// Type, general flags, type-specific flags, then five fields (granularity,
// minimum, maximum, translation offset, length) of 2, 4 or 8 bytes.
constexpr uint16_t AddressSpaceLength(uint16_t field_bytes) {
  return static_cast<uint16_t>(3 + 5 * field_bytes);
}

// 6.4.3.5.1 Table 6.47: resource type, general flags, memory flags.
constexpr uint8_t kAddressSpaceMemory = 0;
constexpr uint8_t kAddressSpaceIo = 1;
constexpr uint8_t kAddressSpaceBusNumber = 2;
// Bit 0 clear: produced (a bridge window) rather than consumed. Bits 2-3:
// the minimum and maximum are fixed. Bit 1 clear: positive decode.
constexpr uint8_t kProducerFixedWindow = (1 << 2) | (1 << 3);
constexpr uint8_t kMemoryNonCacheable = 0 << 1;
constexpr uint8_t kMemoryPrefetchable = 3 << 1;
// 6.4.3.5.1 Table 6.48: I/O type-specific flags, bits 0-1 = 3: the range
// holds both ISA and non-ISA ports.
constexpr uint8_t kIoEntireRange = 3;

constexpr uint8_t kIoDecode16 = 1 << 0;
constexpr uint8_t kMemoryWritable = 1 << 0;
constexpr uint8_t kInterruptConsumer = 1 << 0;
constexpr uint8_t kInterruptEdge = 1 << 1;
constexpr uint8_t kInterruptActiveLow = 1 << 2;
constexpr uint8_t kInterruptShared = 1 << 3;

constexpr uint8_t kMaxIsaIrq = 15;

void AppendLe16(aml::Bytes& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value));
  out.push_back(static_cast<uint8_t>(value >> 8));
}

void AppendLe32(aml::Bytes& out, uint32_t value) {
  AppendLe16(out, static_cast<uint16_t>(value));
  AppendLe16(out, static_cast<uint16_t>(value >> 16));
}

void AppendLe64(aml::Bytes& out, uint64_t value) {
  AppendLe32(out, static_cast<uint32_t>(value));
  AppendLe32(out, static_cast<uint32_t>(value >> 32));
}

}  // namespace

ResourceTemplate& ResourceTemplate::WordBusNumber(uint16_t first, uint16_t last) {
  VMM_CHECK(first <= last);
  descriptors_.push_back(LargeTag(kWordAddressItem));
  AppendLe16(descriptors_, AddressSpaceLength(2));
  descriptors_.push_back(kAddressSpaceBusNumber);
  descriptors_.push_back(kProducerFixedWindow);
  descriptors_.push_back(0);    // No type-specific flags for bus numbers.
  AppendLe16(descriptors_, 0);  // Granularity.
  AppendLe16(descriptors_, first);
  AppendLe16(descriptors_, last);
  AppendLe16(descriptors_, 0);  // Translation offset.
  AppendLe16(descriptors_, static_cast<uint16_t>(last - first + 1));
  return *this;
}

ResourceTemplate& ResourceTemplate::WordIo(uint16_t first, uint16_t last) {
  // _LEN is 16 bits: [0, 0xffff] has no length it can hold.
  VMM_CHECK(first <= last && last - first < 0xffff);
  descriptors_.push_back(LargeTag(kWordAddressItem));
  AppendLe16(descriptors_, AddressSpaceLength(2));
  descriptors_.push_back(kAddressSpaceIo);
  descriptors_.push_back(kProducerFixedWindow);
  descriptors_.push_back(kIoEntireRange);
  AppendLe16(descriptors_, 0);  // Granularity.
  AppendLe16(descriptors_, first);
  AppendLe16(descriptors_, last);
  AppendLe16(descriptors_, 0);  // Translation offset.
  AppendLe16(descriptors_, static_cast<uint16_t>(last - first + 1));
  return *this;
}

ResourceTemplate& ResourceTemplate::DWordMemory(uint32_t base, uint32_t length, bool prefetchable) {
  VMM_CHECK(length != 0 && length - 1 <= UINT32_MAX - base);
  descriptors_.push_back(LargeTag(kDWordAddressItem));
  AppendLe16(descriptors_, AddressSpaceLength(4));
  descriptors_.push_back(kAddressSpaceMemory);
  descriptors_.push_back(kProducerFixedWindow);
  descriptors_.push_back(static_cast<uint8_t>(
      kMemoryWritable | (prefetchable ? kMemoryPrefetchable : kMemoryNonCacheable)));
  AppendLe32(descriptors_, 0);  // Granularity.
  AppendLe32(descriptors_, base);
  AppendLe32(descriptors_, base + (length - 1));
  AppendLe32(descriptors_, 0);  // Translation offset.
  AppendLe32(descriptors_, length);
  return *this;
}

ResourceTemplate& ResourceTemplate::QWordMemory(uint64_t base, uint64_t length, bool prefetchable) {
  VMM_CHECK(length != 0 && length - 1 <= UINT64_MAX - base);
  descriptors_.push_back(LargeTag(kQWordAddressItem));
  AppendLe16(descriptors_, AddressSpaceLength(8));
  descriptors_.push_back(kAddressSpaceMemory);
  descriptors_.push_back(kProducerFixedWindow);
  descriptors_.push_back(static_cast<uint8_t>(
      kMemoryWritable | (prefetchable ? kMemoryPrefetchable : kMemoryNonCacheable)));
  AppendLe64(descriptors_, 0);  // Granularity.
  AppendLe64(descriptors_, base);
  AppendLe64(descriptors_, base + (length - 1));
  AppendLe64(descriptors_, 0);  // Translation offset.
  AppendLe64(descriptors_, length);
  return *this;
}

ResourceTemplate& ResourceTemplate::Io(uint16_t min, uint16_t max, uint8_t alignment,
                                       uint8_t length) {
  descriptors_.push_back(SmallTag(kIoItem, kIoLength));
  descriptors_.push_back(kIoDecode16);
  AppendLe16(descriptors_, min);
  AppendLe16(descriptors_, max);
  descriptors_.push_back(alignment);
  descriptors_.push_back(length);
  return *this;
}

ResourceTemplate& ResourceTemplate::IrqNoFlags(uint8_t irq) {
  VMM_CHECK(irq <= kMaxIsaIrq);
  descriptors_.push_back(SmallTag(kIrqItem, kIrqNoFlagsLength));
  AppendLe16(descriptors_, static_cast<uint16_t>(1u << irq));  // A mask of IRQs 0-15.
  return *this;
}

ResourceTemplate& ResourceTemplate::Memory32Fixed(ReadWrite access, uint32_t base,
                                                  uint32_t length) {
  descriptors_.push_back(LargeTag(kMemory32FixedItem));
  AppendLe16(descriptors_, kMemory32FixedLength);
  descriptors_.push_back(access == ReadWrite::kReadWrite ? kMemoryWritable : 0);
  AppendLe32(descriptors_, base);
  AppendLe32(descriptors_, length);
  return *this;
}

ResourceTemplate& ResourceTemplate::Interrupt(Trigger trigger, Polarity polarity, Sharing sharing,
                                              uint32_t gsi) {
  uint8_t flags = kInterruptConsumer;
  if (trigger == Trigger::kEdge) flags |= kInterruptEdge;
  if (polarity == Polarity::kActiveLow) flags |= kInterruptActiveLow;
  if (sharing == Sharing::kShared) flags |= kInterruptShared;
  descriptors_.push_back(LargeTag(kExtendedInterruptItem));
  AppendLe16(descriptors_, kOneInterruptLength);
  descriptors_.push_back(flags);
  descriptors_.push_back(1);  // Interrupt table length.
  AppendLe32(descriptors_, gsi);
  return *this;
}

aml::Bytes ResourceTemplate::Descriptors() const {
  aml::Bytes out = descriptors_;
  out.push_back(SmallTag(kEndTagItem, kEndTagLength));
  // 6.4.2.9: a zero checksum means the OS treats the template as valid
  // without summing it, which is what ASL compilers emit.
  out.push_back(0);
  return out;
}

aml::Bytes ResourceTemplate::ToAml() const { return aml::Buffer(Descriptors()); }

}  // namespace mini_vmm::firmware::acpi
