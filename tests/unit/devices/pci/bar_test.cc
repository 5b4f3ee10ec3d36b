// BARs: sizing by writing all-ones, programming, and when the observer is
// told that a BAR is mapped, moved or unmapped (decode bits, sizing
// pattern, address range).
#include <linux/pci_regs.h>

#include <catch2/catch.hpp>
#include <optional>
#include <vector>

#include "devices/pci/config_space.h"
#include "tests/unit/devices/pci/config_test_util.h"

namespace mini_vmm::pci {
namespace {

using testing::ReadAs;
using testing::WriteAs;

struct Move {
  int bar;
  std::optional<uint64_t> old_address;
  std::optional<uint64_t> new_address;
  bool operator==(const Move&) const = default;
};

class RecordingObserver final : public BarObserver {
 public:
  void BarMoved(int bar, std::optional<uint64_t> old_address,
                std::optional<uint64_t> new_address) noexcept override {
    moves.push_back({bar, old_address, new_address});
  }
  std::vector<Move> moves;
};

struct BarTest {
  BarTest() {
    config.AddBar(0, {.kind = BarKind::kMemory32, .size = 0x1000});
    config.AddBar(2, {.kind = BarKind::kMemory64, .size = 0x4000, .prefetchable = true});
    config.AddBar(4, {.kind = BarKind::kIo, .size = 0x20});
    config.set_bar_observer(&observer);
  }
  uint32_t Bar(int i) { return ReadAs<uint32_t>(config, PCI_BASE_ADDRESS_0 + 4u * unsigned(i)); }
  void SetBar(int i, uint32_t v) {
    WriteAs<uint32_t>(config, PCI_BASE_ADDRESS_0 + 4u * unsigned(i), v);
  }
  void SetCommand(uint16_t v) { WriteAs<uint16_t>(config, PCI_COMMAND, v); }

  PciConfigSpace config{PciHeader{.vendor_id = 0x1af4, .device_id = 0x1041}};
  RecordingObserver observer;
};

TEST_CASE_METHOD(BarTest, "BAR flags read back before any write") {
  CHECK(Bar(0) == PCI_BASE_ADDRESS_MEM_TYPE_32);
  CHECK(Bar(2) == (PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH));
  CHECK(Bar(3) == 0);
  CHECK(Bar(4) == PCI_BASE_ADDRESS_SPACE_IO);
  CHECK(Bar(1) == 0);  // Unused.
}

TEST_CASE_METHOD(BarTest, "Sizing a 32-bit memory BAR reads back its size mask and flags") {
  SetBar(0, 0xffffffff);

  CHECK(Bar(0) == (0xfffff000 | PCI_BASE_ADDRESS_MEM_TYPE_32));
}

TEST_CASE_METHOD(BarTest, "Sizing a 64-bit BAR reads back the size over both halves") {
  SetBar(2, 0xffffffff);
  SetBar(3, 0xffffffff);

  CHECK(Bar(2) == (0xffffc000 | PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH));
  CHECK(Bar(3) == 0xffffffff);
}

TEST_CASE_METHOD(BarTest, "Sizing an I/O BAR keeps the upper 16 bits zero") {
  SetBar(4, 0xffffffff);

  CHECK(Bar(4) == (0xffe0 | PCI_BASE_ADDRESS_SPACE_IO));
}

TEST_CASE_METHOD(BarTest, "Write to an unused BAR reads back zero") {
  SetBar(1, 0xffffffff);
  SetBar(5, 0xffffffff);

  CHECK(Bar(1) == 0);
  CHECK(Bar(5) == 0);
}

TEST_CASE_METHOD(BarTest, "Address bits below the BAR size are read-only") {
  SetBar(0, 0xe000'0abc);

  CHECK(config.BarAddress(0) == 0xe000'0000);
}

TEST_CASE_METHOD(BarTest, "Sizing with decode disabled maps nothing") {
  SetBar(0, 0xffffffff);
  SetBar(0, 0xe000'0000);

  CHECK(observer.moves.empty());
  CHECK(config.MappedBar(0) == std::nullopt);
}

TEST_CASE_METHOD(BarTest, "Enabling memory decode maps the programmed memory BARs") {
  SetBar(0, 0xe000'0000);
  SetBar(2, 0x0000'0000);
  SetBar(3, 0x0000'0001);

  SetCommand(PCI_COMMAND_MEMORY);

  CHECK(observer.moves ==
        std::vector<Move>{{0, std::nullopt, 0xe000'0000}, {2, std::nullopt, 0x1'0000'0000}});
  CHECK(config.MappedBar(4) == std::nullopt);
}

TEST_CASE_METHOD(BarTest, "Enabling I/O decode maps the I/O BAR only") {
  SetBar(0, 0xe000'0000);
  SetBar(4, 0xc040);

  SetCommand(PCI_COMMAND_IO);

  CHECK(observer.moves == std::vector<Move>{{4, std::nullopt, 0xc040}});
}

TEST_CASE_METHOD(BarTest, "Reprogramming a mapped BAR reports the move") {
  SetBar(0, 0xe000'0000);
  SetCommand(PCI_COMMAND_MEMORY);
  observer.moves.clear();

  SetBar(0, 0xe010'0000);

  CHECK(observer.moves == std::vector<Move>{{0, 0xe000'0000, 0xe010'0000}});
  CHECK(config.MappedBar(0) == 0xe010'0000);
}

TEST_CASE_METHOD(BarTest, "Writing the upper half of a mapped 64-bit BAR moves it") {
  SetBar(2, 0xc000'0000);
  SetCommand(PCI_COMMAND_MEMORY);
  observer.moves.clear();

  SetBar(3, 0x2);

  CHECK(observer.moves == std::vector<Move>{{2, 0xc000'0000, 0x2'c000'0000}});
}

TEST_CASE_METHOD(BarTest, "Disabling decode unmaps") {
  SetBar(0, 0xe000'0000);
  SetCommand(PCI_COMMAND_MEMORY);
  observer.moves.clear();

  SetCommand(0);

  CHECK(observer.moves == std::vector<Move>{{0, 0xe000'0000, std::nullopt}});
}

TEST_CASE_METHOD(BarTest, "Rewriting the same address reports nothing") {
  SetBar(0, 0xe000'0000);
  SetCommand(PCI_COMMAND_MEMORY);
  observer.moves.clear();

  SetBar(0, 0xe000'0000);
  SetCommand(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);

  CHECK(observer.moves.empty());
}

TEST_CASE_METHOD(BarTest, "Sizing pattern written with decode enabled unmaps the BAR") {
  SetBar(0, 0xe000'0000);
  SetCommand(PCI_COMMAND_MEMORY);
  observer.moves.clear();

  SetBar(0, 0xffffffff);

  CHECK(observer.moves == std::vector<Move>{{0, 0xe000'0000, std::nullopt}});
}

TEST_CASE_METHOD(BarTest, "BAR at address zero is not mapped") {
  SetCommand(PCI_COMMAND_MEMORY | PCI_COMMAND_IO);

  CHECK(observer.moves.empty());
}

TEST_CASE_METHOD(BarTest, "I/O BAR address past port 0xffff loses its upper bits") {
  // x86 has 64 KiB of ports: the upper 16 bits are read-only zero, so
  // 0x1ffe0 becomes 0xffe0, the sizing pattern, which is not mapped.
  SetBar(4, 0x1'ffe0);
  SetCommand(PCI_COMMAND_IO);

  CHECK(config.BarAddress(4) == 0xffe0);
  CHECK(config.MappedBar(4) == std::nullopt);  // 0xffe0 is the sizing pattern.
}

TEST_CASE_METHOD(BarTest, "Byte writes build a BAR address one lane at a time") {
  SetCommand(PCI_COMMAND_MEMORY);
  WriteAs<uint8_t>(config, PCI_BASE_ADDRESS_0 + 3, 0xe0);
  WriteAs<uint8_t>(config, PCI_BASE_ADDRESS_0 + 2, 0x12);

  CHECK(config.BarAddress(0) == 0xe012'0000);
  CHECK(observer.moves.back() == Move{0, 0xe000'0000, 0xe012'0000});
}

TEST_CASE_METHOD(BarTest, "Unaligned write straddling two BARs updates both") {
  SetBar(0, 0xe000'0000);

  // Bytes 0x13-0x16: the top byte of BAR 0 and the low bytes of BAR 1
  // (unused, so read-only zero).
  WriteAs<uint32_t>(config, PCI_BASE_ADDRESS_0 + 3, 0xffff'ffd0);

  CHECK(config.BarAddress(0) == 0xd000'0000);
  CHECK(Bar(1) == 0);
}

}  // namespace
}  // namespace mini_vmm::pci
