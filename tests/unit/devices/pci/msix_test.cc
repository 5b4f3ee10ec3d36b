// MsixVectors: table programming, per-vector and function masking, pending
// bits, and the access shapes the table and PBA refuse.
#include "devices/pci/msix.h"

#include <linux/pci_regs.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "devices/pci/config_space.h"
#include "tests/support/fake_pci.h"
#include "tests/unit/devices/pci/config_test_util.h"

namespace mini_vmm::pci {
namespace {

using mini_vmm::testing::RecordingMsiSink;
using testing::ReadAs;
using testing::WriteAs;

constexpr uint32_t kTableOffset = 0x2000;
constexpr uint32_t kPbaOffset = 0x3000;
constexpr uint64_t kMsiAddress = 0xfee0'0000;

struct MsixTest {
  MsixTest() {
    config.AddBar(0, {.kind = BarKind::kMemory64, .size = 0x4000});
    cap = msix.AddCapability(config, 0, kTableOffset, 0, kPbaOffset);
  }

  void SetControl(uint16_t control) {
    WriteAs<uint16_t>(config, cap + PCI_MSIX_FLAGS, control);
    msix.ControlWritten(config);
  }
  void WriteTable32(uint64_t offset, uint32_t value) {
    std::array<uint8_t, 4> bytes{};
    std::memcpy(bytes.data(), &value, 4);
    msix.WriteTable(offset, bytes);
  }
  uint32_t ReadTable32(uint64_t offset) {
    std::array<uint8_t, 4> bytes{};
    msix.ReadTable(offset, bytes);
    uint32_t value = 0;
    std::memcpy(&value, bytes.data(), 4);
    return value;
  }
  uint64_t ReadPba64(uint64_t offset) {
    std::array<uint8_t, 8> bytes{};
    msix.ReadPba(offset, bytes);
    uint64_t value = 0;
    std::memcpy(&value, bytes.data(), 8);
    return value;
  }
  // What Linux's msix_setup_entries + msix_unmask do for one vector.
  void Program(uint16_t vector, uint32_t data) {
    const uint64_t entry = uint64_t{vector} * PCI_MSIX_ENTRY_SIZE;
    WriteTable32(entry + PCI_MSIX_ENTRY_LOWER_ADDR, static_cast<uint32_t>(kMsiAddress));
    WriteTable32(entry + PCI_MSIX_ENTRY_UPPER_ADDR, 0);
    WriteTable32(entry + PCI_MSIX_ENTRY_DATA, data);
  }
  void SetVectorMask(uint16_t vector, bool masked) {
    WriteTable32(uint64_t{vector} * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL,
                 masked ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
  }

  RecordingMsiSink sink;
  PciConfigSpace config{PciHeader{}};
  MsixVectors msix{3, sink};
  uint8_t cap = 0;
};

TEST_CASE_METHOD(MsixTest, "Capability describes table size, BIR and offsets") {
  CHECK(ReadAs<uint8_t>(config, cap) == PCI_CAP_ID_MSIX);
  CHECK((ReadAs<uint16_t>(config, cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE) == 2);
  CHECK(ReadAs<uint32_t>(config, cap + PCI_MSIX_TABLE) == kTableOffset);
  CHECK(ReadAs<uint32_t>(config, cap + PCI_MSIX_PBA) == kPbaOffset);
  CHECK(msix.table_size() == 48);
  CHECK(msix.pba_size() == 8);
}

TEST_CASE_METHOD(MsixTest, "Write to the read-only table size and offsets is ignored") {
  WriteAs<uint16_t>(config, cap + PCI_MSIX_FLAGS, 0x07ff);
  WriteAs<uint32_t>(config, cap + PCI_MSIX_TABLE, 0xffffffff);

  CHECK(ReadAs<uint16_t>(config, cap + PCI_MSIX_FLAGS) == 2);
  CHECK(ReadAs<uint32_t>(config, cap + PCI_MSIX_TABLE) == kTableOffset);
}

TEST_CASE_METHOD(MsixTest, "Vectors start masked and nothing routed") {
  CHECK(ReadTable32(PCI_MSIX_ENTRY_VECTOR_CTRL) == PCI_MSIX_ENTRY_CTRL_MASKBIT);
  CHECK(sink.route_updates == 0);
  CHECK(!msix.enabled());
}

TEST_CASE_METHOD(MsixTest, "Table entries read back what was written, address dword-aligned") {
  WriteTable32(16 + PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee0'1003);
  WriteTable32(16 + PCI_MSIX_ENTRY_UPPER_ADDR, 0x1);
  WriteTable32(16 + PCI_MSIX_ENTRY_DATA, 0x4041);
  WriteTable32(16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0xffff'ffff);

  CHECK(ReadTable32(16 + PCI_MSIX_ENTRY_LOWER_ADDR) == 0xfee0'1000);
  CHECK(ReadTable32(16 + PCI_MSIX_ENTRY_UPPER_ADDR) == 1);
  CHECK(ReadTable32(16 + PCI_MSIX_ENTRY_DATA) == 0x4041);
  CHECK(ReadTable32(16 + PCI_MSIX_ENTRY_VECTOR_CTRL) == PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

TEST_CASE_METHOD(MsixTest, "Unmasking an enabled vector routes its message") {
  SetControl(PCI_MSIX_FLAGS_ENABLE);
  Program(1, 0x41);

  SetVectorMask(1, false);

  REQUIRE(sink.routes.count(1) == 1);
  CHECK(sink.routes[1] == MsiMessage{kMsiAddress, 0x41});
  CHECK(sink.routes.count(0) == 0);
}

TEST_CASE_METHOD(MsixTest, "Trigger on an unmasked vector fires it") {
  SetControl(PCI_MSIX_FLAGS_ENABLE);
  Program(2, 0x42);
  SetVectorMask(2, false);

  CHECK(msix.Trigger(2));

  CHECK(sink.fired == std::vector<uint16_t>{2});
  CHECK(!msix.IsPending(2));
}

TEST_CASE_METHOD(MsixTest, "Trigger on a masked vector sets its pending bit") {
  SetControl(PCI_MSIX_FLAGS_ENABLE);

  CHECK(!msix.Trigger(1));

  CHECK(sink.fired.empty());
  CHECK(ReadPba64(0) == 0b010);
}

TEST_CASE_METHOD(MsixTest, "Unmasking a pending vector fires it and clears the bit") {
  SetControl(PCI_MSIX_FLAGS_ENABLE);
  Program(1, 0x41);
  msix.Trigger(1);

  SetVectorMask(1, false);

  CHECK(sink.fired == std::vector<uint16_t>{1});
  CHECK(ReadPba64(0) == 0);
  CHECK(sink.routes[1] == MsiMessage{kMsiAddress, 0x41});  // Routed before it fired.
}

TEST_CASE_METHOD(MsixTest, "Function mask holds every vector pending until cleared") {
  SetControl(PCI_MSIX_FLAGS_ENABLE);
  Program(0, 0x40);
  SetVectorMask(0, false);
  SetControl(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
  const bool delivered = msix.Trigger(0);
  const uint64_t pba = ReadPba64(0);
  const std::optional<MsiMessage> masked_route = sink.routes[0];

  SetControl(PCI_MSIX_FLAGS_ENABLE);

  CHECK(!delivered);
  CHECK(pba == 0b001);
  CHECK(masked_route == std::nullopt);
  CHECK(sink.fired == std::vector<uint16_t>{0});
  CHECK(sink.routes[0] == MsiMessage{kMsiAddress, 0x40});
}

TEST_CASE_METHOD(MsixTest, "Trigger while MSI-X is disabled is dropped, not pending") {
  Program(0, 0x40);
  SetVectorMask(0, false);

  CHECK(!msix.Trigger(0));

  CHECK(!msix.IsPending(0));
  CHECK(sink.fired.empty());
}

TEST_CASE_METHOD(MsixTest, "Disabling MSI-X withdraws the routes") {
  SetControl(PCI_MSIX_FLAGS_ENABLE);
  Program(0, 0x40);
  SetVectorMask(0, false);

  SetControl(0);

  CHECK(sink.routes[0] == std::nullopt);
  CHECK(!msix.enabled());
}

TEST_CASE_METHOD(MsixTest, "Reprogramming an unmasked vector updates its route") {
  SetControl(PCI_MSIX_FLAGS_ENABLE);
  Program(0, 0x40);
  SetVectorMask(0, false);

  WriteTable32(PCI_MSIX_ENTRY_DATA, 0x50);

  CHECK(sink.routes[0] == MsiMessage{kMsiAddress, 0x50});
}

TEST_CASE_METHOD(MsixTest, "An 8-byte table write sets address low and high together") {
  std::array<uint8_t, 8> bytes{};
  const uint64_t address = 0x1'fee0'0000;
  std::memcpy(bytes.data(), &address, 8);

  msix.WriteTable(PCI_MSIX_ENTRY_SIZE, bytes);

  CHECK(ReadTable32(PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_LOWER_ADDR) == 0xfee0'0000);
  CHECK(ReadTable32(PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_UPPER_ADDR) == 1);
}

TEST_CASE_METHOD(MsixTest, "Trigger of a vector past the table is refused") {
  SetControl(PCI_MSIX_FLAGS_ENABLE);

  CHECK(!msix.Trigger(3));
  CHECK(!msix.IsPending(3));
}

TEST_CASE_METHOD(MsixTest, "Reset masks every vector and withdraws routes") {
  SetControl(PCI_MSIX_FLAGS_ENABLE);
  Program(0, 0x40);
  SetVectorMask(0, false);

  msix.Reset();

  CHECK(sink.routes[0] == std::nullopt);
  CHECK(ReadTable32(PCI_MSIX_ENTRY_VECTOR_CTRL) == PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

// Threading contract: Trigger() from a device thread races the vCPU's
// table writes. Every trigger either fires while routed or stays pending,
// and the final unmask delivers whatever is left.
TEST_CASE_METHOD(MsixTest, "Trigger from a device thread while the vector is toggled") {
  SetControl(PCI_MSIX_FLAGS_ENABLE);
  Program(0, 0x40);
  constexpr int kTriggers = 20000;

  std::thread device([this] {
    for (int i = 0; i < kTriggers; ++i) msix.Trigger(0);
  });
  for (int i = 0; i < 2000; ++i) SetVectorMask(0, i % 2 == 0);
  device.join();
  SetVectorMask(0, false);

  CHECK(sink.fired_without_route == 0);
  CHECK(!msix.IsPending(0));
  CHECK(!sink.fired.empty());
  CHECK(sink.fired.size() <= kTriggers);
}

// ---- Access shapes the table and PBA refuse (PCI 3.0 §6.8.2). ----

TEST_CASE_METHOD(MsixTest, "DirectEventFd is the sink's only while the vector is deliverable") {
  sink.direct_fds[1] = 41;
  Program(1, 0x21);
  const int before_enable = msix.DirectEventFd(1);
  SetControl(PCI_MSIX_FLAGS_ENABLE);
  const int masked = msix.DirectEventFd(1);

  SetVectorMask(1, false);
  const int open = msix.DirectEventFd(1);
  SetControl(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
  const int function_masked = msix.DirectEventFd(1);

  CHECK(before_enable == -1);
  CHECK(masked == -1);
  CHECK(open == 41);
  CHECK(function_masked == -1);
  CHECK(msix.DirectEventFd(7) == -1);  // Past the table.
}

TEST_CASE_METHOD(MsixTest, "The deliverability listener hears masks, unmasks, enable and reset") {
  int calls = 0;
  int fd_seen = -2;
  sink.direct_fds[0] = 40;
  msix.set_deliverability_listener([&] {
    ++calls;
    fd_seen = msix.DirectEventFd(0);  // Callable from the listener: no lock held.
  });
  Program(0, 0x20);
  SetControl(PCI_MSIX_FLAGS_ENABLE);
  const int after_enable = calls;  // Every vector still masked: nothing changed.

  SetVectorMask(0, false);
  const int after_unmask = calls;
  const int fd_after_unmask = fd_seen;
  Program(0, 0x30);  // A new message: still deliverable, same irqfd.
  const int after_reprogram = calls;
  SetVectorMask(0, true);
  const int fd_after_mask = fd_seen;
  SetVectorMask(0, false);
  msix.Reset();

  CHECK(after_enable == 0);
  CHECK(after_unmask == 1);
  CHECK(fd_after_unmask == 40);
  CHECK(after_reprogram == 1);
  CHECK(fd_after_mask == -1);
  CHECK(calls == 4);
  CHECK(fd_seen == -1);
}

TEST_CASE_METHOD(MsixTest, "MSI-X table write of width 2 is ignored") {
  msix.WriteTable(PCI_MSIX_ENTRY_DATA, std::array<uint8_t, 2>{0x41, 0x00});

  CHECK(ReadTable32(PCI_MSIX_ENTRY_DATA) == 0);
}

TEST_CASE_METHOD(MsixTest, "MSI-X table read of width 2 reads zero") {
  Program(0, 0x4141);
  std::array<uint8_t, 2> bytes{0xcc, 0xcc};

  msix.ReadTable(PCI_MSIX_ENTRY_DATA, bytes);

  CHECK(bytes == std::array<uint8_t, 2>{0, 0});
}

TEST_CASE_METHOD(MsixTest, "MSI-X table write of width 1 to the mask bit is ignored") {
  SetControl(PCI_MSIX_FLAGS_ENABLE);

  msix.WriteTable(PCI_MSIX_ENTRY_VECTOR_CTRL, std::array<uint8_t, 1>{0});

  CHECK(ReadTable32(PCI_MSIX_ENTRY_VECTOR_CTRL) == PCI_MSIX_ENTRY_CTRL_MASKBIT);
  CHECK(sink.route_updates == 0);
}

TEST_CASE_METHOD(MsixTest, "MSI-X table write unaligned dword is ignored") {
  WriteTable32(PCI_MSIX_ENTRY_DATA + 2, 0xffff'ffff);

  CHECK(ReadTable32(PCI_MSIX_ENTRY_DATA) == 0);
  CHECK(ReadTable32(PCI_MSIX_ENTRY_VECTOR_CTRL) == PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

TEST_CASE_METHOD(MsixTest, "MSI-X table qword write at a dword-only alignment is ignored") {
  std::array<uint8_t, 8> bytes{};
  bytes.fill(0xff);

  msix.WriteTable(PCI_MSIX_ENTRY_UPPER_ADDR, bytes);

  CHECK(ReadTable32(PCI_MSIX_ENTRY_UPPER_ADDR) == 0);
  CHECK(ReadTable32(PCI_MSIX_ENTRY_DATA) == 0);
}

TEST_CASE_METHOD(MsixTest, "MSI-X table access out of range is ignored and reads zero") {
  WriteTable32(msix.table_size(), 0x1234);
  std::array<uint8_t, 8> straddling{};
  straddling.fill(0xcc);

  msix.ReadTable(msix.table_size(), straddling);

  CHECK(ReadTable32(msix.table_size()) == 0);
  CHECK(straddling == std::array<uint8_t, 8>{});
}

TEST_CASE_METHOD(MsixTest, "PBA write is ignored") {
  SetControl(PCI_MSIX_FLAGS_ENABLE);
  msix.Trigger(0);

  msix.WritePba(0, std::array<uint8_t, 8>{});

  CHECK(ReadPba64(0) == 1);
}

TEST_CASE_METHOD(MsixTest, "Bits pending elsewhere read in the PBA, relative to the access") {
  std::array<uint8_t, 4> bytes{};
  msix.ReadPba(4, bytes, 0b1);  // Vector 32: past the 3-vector table.
  CHECK(bytes == std::array<uint8_t, 4>{});
  msix.ReadPba(0, bytes, 0b1100);  // Vectors 2 and 3: only 2 exists.
  CHECK(bytes == std::array<uint8_t, 4>{0b100, 0, 0, 0});
}

TEST_CASE_METHOD(MsixTest, "PBA read of width 1 reads zero") {
  SetControl(PCI_MSIX_FLAGS_ENABLE);
  msix.Trigger(0);
  std::array<uint8_t, 1> byte{0xcc};

  msix.ReadPba(0, byte);

  CHECK(byte[0] == 0);
}

TEST_CASE_METHOD(MsixTest, "PBA read out of range reads zero") {
  std::array<uint8_t, 4> bytes{0xcc, 0xcc, 0xcc, 0xcc};

  msix.ReadPba(msix.pba_size(), bytes);

  CHECK(bytes == std::array<uint8_t, 4>{});
}

}  // namespace
}  // namespace mini_vmm::pci
