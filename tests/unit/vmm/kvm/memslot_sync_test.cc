// MemslotSync: KVM's slots follow the memory map, one per region.
#include "vmm/kvm/memslot_sync.h"

#include <catch2/catch.hpp>
#include <vector>

#include "tests/support/fake_vm.h"

namespace mini_vmm::kvm {
namespace {

std::vector<uint8_t> g_backing(0x4000);

MappedRegion Region(uint64_t start, uint64_t size, bool read_only = false) {
  return {.start = GuestAddress(start),
          .size = size,
          .host = g_backing.data(),
          .kind = MappedRegion::Kind::kRam,
          .read_only = read_only,
          .id = 0};
}

TEST_CASE("Each region added to the map becomes one slot, removed with it") {
  testing::FakeVm vm;
  MemoryMap map;
  MemslotSync slots(vm);
  REQUIRE(map.AddListener(&slots).ok());

  auto id = map.Add(Region(0x1000, 0x2000, /*read_only=*/true));
  REQUIRE(id.ok());
  auto live = vm.live_memslots();
  REQUIRE(live.size() == 1);
  CHECK(live[0].gpa == 0x1000);
  CHECK(live[0].size == 0x2000);
  CHECK(live[0].host == g_backing.data());
  CHECK(live[0].read_only);

  REQUIRE(map.Remove(*id));
  CHECK(vm.live_memslots().empty());
  CHECK(slots.slots() == 0);
}

TEST_CASE("KvmRefusesSlot: the region is not added to the map") {
  testing::FakeVm vm;
  MemoryMap map;
  MemslotSync slots(vm);
  REQUIRE(map.AddListener(&slots).ok());
  vm.RefuseMemslot(1);

  CHECK_FALSE(map.Add(Region(0, 0x1000)).ok());
  CHECK(map.regions().empty());
  CHECK(vm.live_memslots().empty());
}

}  // namespace
}  // namespace mini_vmm::kvm
