// The vhost memory table follows the MemoryMap: RAM regions only, every
// change pushed to every attached backend, the kernel's region limit
// enforced with one error and a clean rollback.
#include "devices/virtio/vhost/memory_table.h"

#include <catch2/catch.hpp>
#include <csignal>

#include "tests/support/death_test.h"
#include "tests/support/fake_vhost_backend.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::vhost {
namespace {

using testing::FakeVhostBackend;

// Host addresses are only recorded, never dereferenced, by the map and the
// table; distinct fake values make mix-ups visible.
uint8_t* FakeHost(uint64_t value) { return reinterpret_cast<uint8_t*>(value); }

MappedRegion Ram(uint64_t start, uint64_t size, uint64_t host) {
  return {.start = GuestAddress(start), .size = size, .host = FakeHost(host)};
}

struct MemoryTableTest {
  MemoryMap map;
  VhostMemoryTable table{4};
  FakeVhostBackend vhost;

  MemoryTableTest() {
    REQUIRE(vhost.SetOwner().ok());
    REQUIRE(map.Add(Ram(0, 0x100000, 0x7000000000)).ok());
    REQUIRE(map.Add(Ram(0x200000, 0x100000, 0x7100000000)).ok());
    REQUIRE(map.AddListener(&table).ok());
    REQUIRE(table.Attach(&vhost).ok());
  }
  ~MemoryTableTest() {
    table.Detach(&vhost);
    map.RemoveListener(&table);
  }
};

TEST_CASE_METHOD(MemoryTableTest, "attaching pushes the memslots' RAM, by guest address") {
  CHECK(vhost.table ==
        std::vector<VhostMemoryRegion>{
            {.guest_phys_addr = 0, .size = 0x100000, .userspace_addr = 0x7000000000},
            {.guest_phys_addr = 0x200000, .size = 0x100000, .userspace_addr = 0x7100000000}});
  CHECK(table.regions() == vhost.table);
}

TEST_CASE_METHOD(MemoryTableTest, "RAM added later reaches every attached backend") {
  FakeVhostBackend second;
  REQUIRE(second.SetOwner().ok());
  REQUIRE(table.Attach(&second).ok());
  REQUIRE(map.Add(Ram(0x100000, 0x1000, 0x7200000000)).ok());
  REQUIRE(vhost.table.size() == 3);
  CHECK(vhost.table[1] == VhostMemoryRegion{.guest_phys_addr = 0x100000,
                                            .size = 0x1000,
                                            .userspace_addr = 0x7200000000});
  CHECK(second.table == vhost.table);
  table.Detach(&second);
}

TEST_CASE_METHOD(MemoryTableTest, "removed RAM leaves every backend's table") {
  const uint32_t id = *map.Add(Ram(0x400000, 0x1000, 0x7200000000));
  REQUIRE(vhost.table.size() == 3);
  REQUIRE(map.Remove(id));
  CHECK(vhost.table.size() == 2);
  CHECK(vhost.table.back().guest_phys_addr == 0x200000);
}

TEST_CASE_METHOD(MemoryTableTest, "moved RAM is pushed at its new guest address") {
  const uint32_t id = *map.Add(Ram(0x400000, 0x1000, 0x7200000000));
  REQUIRE(map.Move(id, GuestAddress(0x800000)).ok());
  REQUIRE(vhost.table.size() == 3);
  CHECK(vhost.table.back() == VhostMemoryRegion{.guest_phys_addr = 0x800000,
                                                .size = 0x1000,
                                                .userspace_addr = 0x7200000000});
}

TEST_CASE_METHOD(MemoryTableTest, "device regions and read-only RAM are not listed") {
  const int pushes = vhost.table_pushes;
  MappedRegion bar = Ram(0xe0000000, 0x1000, 0x7300000000);
  bar.kind = MappedRegion::Kind::kDevice;
  MappedRegion rom = Ram(0xfff00000, 0x1000, 0x7400000000);
  rom.read_only = true;
  REQUIRE(map.Add(bar).ok());
  REQUIRE(map.Add(rom).ok());
  CHECK(vhost.table.size() == 2);
  CHECK(vhost.table_pushes == pushes);
}

TEST_CASE_METHOD(MemoryTableTest, "too many RAM regions are refused with one error") {
  REQUIRE(map.Add(Ram(0x400000, 0x1000, 0x7200000000)).ok());
  REQUIRE(map.Add(Ram(0x500000, 0x1000, 0x7300000000)).ok());  // The 4th: the limit.
  auto fifth = map.Add(Ram(0x600000, 0x1000, 0x7400000000));
  REQUIRE_FALSE(fifth.ok());
  CHECK(fifth.error().ToString() ==
        "guest RAM at 0x600000 needs vhost memory region 5, but the host allows 4 (vhost module "
        "parameter max_mem_regions)");
  // Nothing half-added: neither the map nor vhost has it.
  CHECK(map.regions().size() == 4);
  CHECK(vhost.table.size() == 4);
}

TEST_CASE_METHOD(MemoryTableTest, "a backend refusing a larger table: the others get theirs back") {
  FakeVhostBackend refusing;
  REQUIRE(refusing.SetOwner().ok());
  REQUIRE(table.Attach(&refusing).ok());
  refusing.fail_call = "SET_MEM_TABLE";
  const std::vector<VhostMemoryRegion> before = vhost.table;

  auto added = map.Add(Ram(0x400000, 0x1000, 0x7200000000));
  REQUIRE_FALSE(added.ok());
  CHECK(vhost.table == before);
  CHECK(vhost.CallsStartingWith("SET_MEM_TABLE").back() == "SET_MEM_TABLE 2");
  CHECK(table.regions() == before);
  CHECK(map.regions().size() == 2);
  table.Detach(&refusing);
}

TEST_CASE_METHOD(MemoryTableTest, "a detached backend hears of no more changes") {
  table.Detach(&vhost);
  const int pushes = vhost.table_pushes;
  REQUIRE(map.Add(Ram(0x400000, 0x1000, 0x7200000000)).ok());
  CHECK(vhost.table_pushes == pushes);
  REQUIRE(table.Attach(&vhost).ok());  // The fixture detaches it again.
  CHECK(vhost.table.size() == 3);
}

TEST_CASE_METHOD(MemoryTableTest,
                 "a backend that cannot drop removed RAM aborts before the RAM is unmapped") {
  const uint32_t id = *map.Add(Ram(0x400000, 0x1000, 0x7200000000));
  vhost.fail_call = "SET_MEM_TABLE";
  // The kernel would keep translating into memory about to be unmapped.
  CHECK(testing::SignalThatEnds([&] {
          mini_vmm::log::SetLevel(LogLevel::kError);
          map.Remove(id);
        }) == SIGABRT);
}

TEST_CASE("a table attached before any RAM is pushed empty, then filled") {
  MemoryMap map;
  VhostMemoryTable table(64);
  FakeVhostBackend vhost;
  REQUIRE(vhost.SetOwner().ok());
  REQUIRE(map.AddListener(&table).ok());
  REQUIRE(table.Attach(&vhost).ok());
  CHECK(vhost.table.empty());
  REQUIRE(map.Add(Ram(0, 0x1000, 0x7000000000)).ok());
  CHECK(vhost.table.size() == 1);
  table.Detach(&vhost);
  map.RemoveListener(&table);
}

}  // namespace
}  // namespace mini_vmm::virtio::vhost
