#include "firmware/mp/mptable.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "tests/support/fake_guest_memory.h"

namespace mini_vmm::firmware::mp {
namespace {

using mini_vmm::testing::MakeGuestMemory;

constexpr uint64_t kRamSize = 1 << 20;
constexpr uint64_t kStart = 0xf0000;
constexpr uint64_t kWindow = 0x10000;

// Entry types and sizes from MP spec 1.4, section 4.3.
constexpr uint8_t kProcessor = 0;
constexpr uint8_t kBus = 1;
constexpr uint8_t kIoApic = 2;
constexpr uint8_t kIoInterrupt = 3;
constexpr uint8_t kLocalInterrupt = 4;
constexpr uint8_t kInt = 0;
constexpr uint8_t kNmi = 1;
constexpr uint8_t kExtInt = 3;

std::vector<uint8_t> Read(const GuestMemory& mem, uint64_t address, uint64_t length) {
  std::vector<uint8_t> bytes(length);
  REQUIRE(mem.Read(GuestAddress(address), bytes));
  return bytes;
}

uint32_t Le(const std::vector<uint8_t>& bytes, size_t offset, size_t size) {
  if (offset + size > bytes.size()) throw std::out_of_range("field past the end");
  uint32_t value = 0;
  for (size_t i = 0; i < size; ++i) value |= uint32_t{bytes[offset + i]} << (8 * i);
  return value;
}

uint8_t ByteSum(const std::vector<uint8_t>& bytes) {
  uint8_t sum = 0;
  for (uint8_t b : bytes) sum = static_cast<uint8_t>(sum + b);
  return sum;
}

// The floating pointer and the configuration table it points at.
struct MpTable {
  std::vector<uint8_t> pointer;
  uint32_t config_address = 0;
  std::vector<uint8_t> config;  // Header and entries, base_table_length bytes.
  std::vector<std::vector<uint8_t>> entries;
};

MpTable ReadMpTable(const GuestMemory& mem, uint64_t start) {
  MpTable table;
  table.pointer = Read(mem, start, 16);
  table.config_address = Le(table.pointer, 4, 4);
  const std::vector<uint8_t> header = Read(mem, table.config_address, 44);
  table.config = Read(mem, table.config_address, Le(header, 4, 2));
  for (size_t offset = 44; offset < table.config.size();) {
    const size_t size = table.config[offset] == kProcessor ? 20 : 8;
    if (offset + size > table.config.size()) throw std::out_of_range("entry past the end");
    table.entries.emplace_back(table.config.begin() + static_cast<ptrdiff_t>(offset),
                               table.config.begin() + static_cast<ptrdiff_t>(offset + size));
    offset += size;
  }
  return table;
}

std::vector<std::vector<uint8_t>> EntriesOfType(const MpTable& table, uint8_t type) {
  std::vector<std::vector<uint8_t>> entries;
  for (const auto& e : table.entries) {
    if (e[0] == type) entries.push_back(e);
  }
  return entries;
}

MpTable WriteAndRead(const MpTableConfig& config) {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  REQUIRE(WriteMpTable(mem, GuestAddress(kStart), kWindow, config).ok());
  return ReadMpTable(mem, kStart);
}

MpTableConfig ThreeCpus() {
  MpTableConfig config;
  config.num_cpus = 3;
  config.ioapic_id = 3;
  config.ioapic_address = 0xfec00000;
  return config;
}

std::string WriteError(const GuestMemory& mem, GuestAddress start, uint64_t size,
                       const MpTableConfig& config) {
  auto result = WriteMpTable(mem, start, size, config);
  REQUIRE_FALSE(result.ok());
  return result.error().ToString();
}

TEST_CASE("The floating pointer at start is _MP_, 16 bytes, spec 1.4, zero-sum") {
  const MpTable table = WriteAndRead(ThreeCpus());
  CHECK(std::string(table.pointer.begin(), table.pointer.begin() + 4) == "_MP_");
  CHECK(table.pointer[8] == 1);   // Length in paragraphs.
  CHECK(table.pointer[9] == 4);   // Spec revision 1.4.
  CHECK(table.pointer[11] == 0);  // Feature byte 1: a configuration table follows.
  CHECK(ByteSum(table.pointer) == 0);
}

TEST_CASE("The floating pointer points at a PCMP table right after it") {
  const MpTable table = WriteAndRead(ThreeCpus());
  CHECK(table.config_address == kStart + 16);
  CHECK(std::string(table.config.begin(), table.config.begin() + 4) == "PCMP");
  CHECK(table.config[6] == 4);
}

TEST_CASE("The configuration table checksum covers the base table length") {
  const MpTable table = WriteAndRead(ThreeCpus());
  CHECK(ByteSum(table.config) == 0);
}

TEST_CASE("The configuration table entry count and LAPIC address match") {
  const MpTable table = WriteAndRead(ThreeCpus());
  CHECK(Le(table.config, 34, 2) == table.entries.size());
  CHECK(Le(table.config, 36, 4) == 0xfee00000);
  CHECK(Le(table.config, 40, 2) == 0);  // No extended table.
}

TEST_CASE("One enabled processor entry per vCPU, the BSP flag only on CPU 0") {
  const auto processors = EntriesOfType(WriteAndRead(ThreeCpus()), kProcessor);
  std::vector<uint8_t> ids;
  std::vector<uint8_t> flags;
  for (const auto& p : processors) {
    ids.push_back(p[1]);
    flags.push_back(p[3]);
  }
  CHECK(ids == std::vector<uint8_t>{0, 1, 2});
  CHECK(flags == std::vector<uint8_t>{0x03, 0x01, 0x01});
}

TEST_CASE("There is one ISA bus") {
  const auto buses = EntriesOfType(WriteAndRead(ThreeCpus()), kBus);
  REQUIRE(buses.size() == 1);
  CHECK(buses[0][1] == 0);
  CHECK(std::string(buses[0].begin() + 2, buses[0].end()) == "ISA   ");
}

TEST_CASE("The IOAPIC entry carries the configured ID and address, enabled") {
  const auto ioapics = EntriesOfType(WriteAndRead(ThreeCpus()), kIoApic);
  REQUIRE(ioapics.size() == 1);
  CHECK(ioapics[0][1] == 3);
  CHECK(ioapics[0][3] == 0x01);
  CHECK(Le(ioapics[0], 4, 4) == 0xfec00000);
}

TEST_CASE("16 ISA I/O interrupt entries: IRQ0 on pin 2, no IRQ2, ExtINT on pin 0") {
  const auto interrupts = EntriesOfType(WriteAndRead(ThreeCpus()), kIoInterrupt);
  // (type, source IRQ, destination pin), all to IOAPIC 3 from bus 0.
  std::vector<std::tuple<uint8_t, uint8_t, uint8_t>> routes;
  std::vector<uint8_t> buses;
  std::vector<uint8_t> ioapics;
  for (const auto& e : interrupts) {
    routes.emplace_back(e[1], e[5], e[7]);
    buses.push_back(e[4]);
    ioapics.push_back(e[6]);
  }
  CHECK(routes == std::vector<std::tuple<uint8_t, uint8_t, uint8_t>>{{kExtInt, 0, 0},
                                                                     {kInt, 0, 2},
                                                                     {kInt, 1, 1},
                                                                     {kInt, 3, 3},
                                                                     {kInt, 4, 4},
                                                                     {kInt, 5, 5},
                                                                     {kInt, 6, 6},
                                                                     {kInt, 7, 7},
                                                                     {kInt, 8, 8},
                                                                     {kInt, 9, 9},
                                                                     {kInt, 10, 10},
                                                                     {kInt, 11, 11},
                                                                     {kInt, 12, 12},
                                                                     {kInt, 13, 13},
                                                                     {kInt, 14, 14},
                                                                     {kInt, 15, 15}});
  CHECK(buses == std::vector<uint8_t>(16, 0));
  CHECK(ioapics == std::vector<uint8_t>(16, 3));
}

TEST_CASE("ISA I/O interrupt entries conform to the bus") {
  const auto interrupts = EntriesOfType(WriteAndRead(ThreeCpus()), kIoInterrupt);
  std::vector<uint32_t> flags;
  for (const auto& e : interrupts) flags.push_back(Le(e, 2, 2));
  CHECK(flags == std::vector<uint32_t>(16, 0));
}

TEST_CASE("Extra GSIs follow as edge, active-high I/O interrupt entries") {
  MpTableConfig config = ThreeCpus();
  config.extra_edge_gsis = {16, 23};
  const auto interrupts = EntriesOfType(WriteAndRead(config), kIoInterrupt);
  REQUIRE(interrupts.size() == 18);
  CHECK(interrupts[16] == std::vector<uint8_t>{kIoInterrupt, kInt, 0x05, 0x00, 0, 16, 3, 16});
  CHECK(interrupts[17] == std::vector<uint8_t>{kIoInterrupt, kInt, 0x05, 0x00, 0, 23, 3, 23});
}

TEST_CASE("Local interrupts: ExtINT on LINT0 and NMI on LINT1 of every local APIC") {
  const auto locals = EntriesOfType(WriteAndRead(ThreeCpus()), kLocalInterrupt);
  REQUIRE(locals.size() == 2);
  CHECK(locals[0] == std::vector<uint8_t>{kLocalInterrupt, kExtInt, 0, 0, 0, 0, 0xff, 0});
  CHECK(locals[1] == std::vector<uint8_t>{kLocalInterrupt, kNmi, 0, 0, 0, 0, 0xff, 1});
}

TEST_CASE("Entries appear in the order the spec requires") {
  const MpTable table = WriteAndRead(ThreeCpus());
  std::vector<uint8_t> types;
  for (const auto& e : table.entries) types.push_back(e[0]);
  CHECK(std::is_sorted(types.begin(), types.end()));
}

TEST_CASE("WriteMpTable rejects 0 vCPUs") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  MpTableConfig config;
  config.num_cpus = 0;
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "the MP table needs at least 1 vCPU, got 0");
}

TEST_CASE("WriteMpTable rejects 255 vCPUs") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  MpTableConfig config;
  config.num_cpus = 255;
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "the MP table describes at most 254 vCPUs (APIC IDs 0-253), got 255");
}

TEST_CASE("WriteMpTable rejects a table that does not fit in size") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  // 16 + 44 + 3 x 20 + 8 + 8 + 16 x 8 + 2 x 8 = 280 bytes.
  CHECK(WriteError(mem, GuestAddress(kStart), 279, ThreeCpus()) ==
        "the MP table needs 280 bytes but only 279 are reserved at 0xf0000");
}

TEST_CASE("WriteMpTable rejects an unaligned floating pointer") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  CHECK(WriteError(mem, GuestAddress(kStart + 4), kWindow, ThreeCpus()) ==
        "MP floating pointer at 0xf0004 is not 16-byte aligned");
}

TEST_CASE("WriteMpTable rejects an extra GSI among the ISA IRQs") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  MpTableConfig config = ThreeCpus();
  config.extra_edge_gsis = {15};
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "MP table extra GSI 15 is not an IOAPIC pin from 16 to 23");
}

TEST_CASE("WriteMpTable rejects an extra GSI beyond the IOAPIC's pins") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  MpTableConfig config = ThreeCpus();
  config.extra_edge_gsis = {24};
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "MP table extra GSI 24 is not an IOAPIC pin from 16 to 23");
}

TEST_CASE("WriteMpTable rejects an extra GSI listed twice") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  MpTableConfig config = ThreeCpus();
  config.extra_edge_gsis = {17, 16, 17};
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "MP table extra GSI 17 is listed twice");
}

TEST_CASE("WriteMpTable rejects a table outside guest RAM and writes nothing") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  CHECK(WriteError(mem, GuestAddress(kRamSize - 0x100), kWindow, ThreeCpus()) ==
        "the MP table at 0xfff00+0x118 is not inside guest RAM");
  CHECK(Read(mem, kRamSize - 0x100, 4) == std::vector<uint8_t>(4, 0));
}

TEST_CASE("WriteMpTable rejects a table that would cross 4 GiB") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  CHECK(WriteError(mem, GuestAddress(0xffff'ff00), kWindow, ThreeCpus()) ==
        "the MP table at 0xffffff00+0x118 must lie below 4 GiB");
}

MpTableConfig WithPci() {
  MpTableConfig config = ThreeCpus();
  config.pci = true;
  return config;
}

TEST_CASE("With PCI, bus 0 is PCI and ISA moves to bus 1, in ID order") {
  const auto buses = EntriesOfType(WriteAndRead(WithPci()), kBus);
  REQUIRE(buses.size() == 2);
  CHECK(buses[0][1] == 0);
  CHECK(std::string(buses[0].begin() + 2, buses[0].end()) == "PCI   ");
  CHECK(buses[1][1] == 1);
  CHECK(std::string(buses[1].begin() + 2, buses[1].end()) == "ISA   ");
}

TEST_CASE("With PCI, the ISA interrupts name ISA bus 1") {
  const auto interrupts = EntriesOfType(WriteAndRead(WithPci()), kIoInterrupt);
  for (size_t i = 0; i < 16; ++i) CHECK(interrupts[i][4] == 1);
}

TEST_CASE("PCI INTx entries: level, active-low, slot and pin in the source IRQ, swizzled") {
  const auto interrupts = EntriesOfType(WriteAndRead(WithPci()), kIoInterrupt);
  REQUIRE(interrupts.size() == 16 + 32 * 4);
  // Slot 0 INTA# on GSI 20; slot 1 INTA# on 21; slot 1 INTD# wraps to 20.
  CHECK(interrupts[16] == std::vector<uint8_t>{kIoInterrupt, kInt, 0x0f, 0x00, 0, 0x00, 3, 20});
  CHECK(interrupts[16 + 4] == std::vector<uint8_t>{kIoInterrupt, kInt, 0x0f, 0x00, 0, 0x04, 3, 21});
  CHECK(interrupts[16 + 7] == std::vector<uint8_t>{kIoInterrupt, kInt, 0x0f, 0x00, 0, 0x07, 3, 20});
  CHECK(interrupts.back() ==
        std::vector<uint8_t>{kIoInterrupt, kInt, 0x0f, 0x00, 0, (31 << 2) | 3, 3, 22});
}

TEST_CASE("Without PCI there are no PCI INTx entries") {
  CHECK(EntriesOfType(WriteAndRead(ThreeCpus()), kIoInterrupt).size() == 16);
}

TEST_CASE("WriteMpTable rejects a PCI INTx GSI among the ISA IRQs") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  MpTableConfig config = WithPci();
  config.pci_intx_gsis[0] = 11;
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "MP table PCI INTx GSI 11 is not an IOAPIC pin from 16 to 23");
}

TEST_CASE("WriteMpTable rejects a GSI that is both edge-triggered and PCI INTx") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  MpTableConfig config = WithPci();
  config.extra_edge_gsis = {21};
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "MP table GSI 21 is both an edge-triggered device's and PCI INTx");
}

TEST_CASE("WriteMpTable rejects a PCI bus with 33 slots") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  MpTableConfig config = WithPci();
  config.pci_slots = 33;
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "the MP table's PCI bus has 1 to 32 slots, got 33");
}

}  // namespace
}  // namespace mini_vmm::firmware::mp
