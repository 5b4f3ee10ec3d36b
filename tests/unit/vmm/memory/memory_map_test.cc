#include "vmm/memory/memory_map.h"

#include <array>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace mini_vmm {
namespace {

// Records what it is told; refuses regions starting at `refuse_at`.
struct FakeListener final : MemoryMapListener {
  std::vector<std::string> log;
  uint64_t refuse_at = UINT64_MAX;
  Result<void> RegionAdded(const MappedRegion& r) override {
    if (r.start.value() == refuse_at) return Error::Invalid("listener is full");
    log.push_back("+" + std::to_string(r.start.value()));
    return {};
  }
  void RegionRemoved(const MappedRegion& r) noexcept override {
    log.push_back("-" + std::to_string(r.start.value()));
  }
};

struct MapTest {
  std::array<uint8_t, 64> backing{};
  MemoryMap map;
  FakeListener first, second;
  MapTest() {
    REQUIRE(map.AddListener(&first).ok());
    REQUIRE(map.AddListener(&second).ok());
  }
  MappedRegion At(uint64_t start, uint64_t size) {
    return {.start = GuestAddress(start), .size = size, .host = backing.data()};
  }
};

TEST_CASE_METHOD(MapTest, "Add tells every listener and keeps regions sorted") {
  REQUIRE(map.Add(At(0x2000, 0x1000)).ok());
  REQUIRE(map.Add(At(0x0, 0x1000)).ok());
  CHECK(first.log == std::vector<std::string>{"+8192", "+0"});
  CHECK(second.log == first.log);
  const auto regions = map.regions();
  REQUIRE(regions.size() == 2);
  CHECK(regions[0].start == GuestAddress(0));
  CHECK(regions[1].start == GuestAddress(0x2000));
  CHECK(regions[0].id != regions[1].id);
}

TEST_CASE_METHOD(MapTest, "Overlap: a region over another is refused and nobody hears of it") {
  REQUIRE(map.Add(At(0x1000, 0x1000)).ok());
  auto r = map.Add(At(0x1800, 0x1000));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().ToString() == "memory region 0x1800+0x1000 overlaps 0x1000+0x1000");
  CHECK(first.log.size() == 1);
}

TEST_CASE_METHOD(MapTest, "EmptyRegion: a zero-sized or unmapped region is refused") {
  CHECK_FALSE(map.Add(At(0x1000, 0)).ok());
  MappedRegion unmapped = At(0x1000, 0x1000);
  unmapped.host = nullptr;
  CHECK_FALSE(map.Add(unmapped).ok());
  CHECK_FALSE(map.Add(At(0xffff'ffff'ffff'f000, 0x2000)).ok());
}

TEST_CASE_METHOD(MapTest, "ListenerVeto: a refused region is withdrawn from those that took it") {
  second.refuse_at = 0x4000;
  auto r = map.Add(At(0x4000, 0x1000));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().ToString() == "listener is full");
  CHECK(first.log == std::vector<std::string>{"+16384", "-16384"});
  CHECK(map.regions().empty());
}

TEST_CASE_METHOD(MapTest, "Remove tells listeners, newest listener first") {
  const uint32_t id = map.Add(At(0x1000, 0x1000)).value();
  CHECK(map.Remove(id));
  CHECK(first.log.back() == "-4096");
  CHECK(second.log.back() == "-4096");
  CHECK_FALSE(map.Remove(id));
}

TEST_CASE_METHOD(MapTest, "Move re-places a region as a remove and an add") {
  const uint32_t id = map.Add(At(0x1000, 0x1000)).value();
  REQUIRE(map.Move(id, GuestAddress(0x8000)).ok());
  CHECK(first.log == std::vector<std::string>{"+4096", "-4096", "+32768"});
  REQUIRE(map.regions().size() == 1);
  CHECK(map.regions()[0].start == GuestAddress(0x8000));
  CHECK(map.regions()[0].id == id);
}

TEST_CASE_METHOD(MapTest, "MoveOverlap: a move onto another region leaves both in place") {
  const uint32_t id = map.Add(At(0x1000, 0x1000)).value();
  REQUIRE(map.Add(At(0x8000, 0x1000)).ok());
  CHECK_FALSE(map.Move(id, GuestAddress(0x8800)).ok());
  CHECK(map.regions()[0].start == GuestAddress(0x1000));
  CHECK(first.log.size() == 2);
}

TEST_CASE_METHOD(MapTest, "MoveVetoed: a refused move puts the region back") {
  const uint32_t id = map.Add(At(0x1000, 0x1000)).value();
  second.refuse_at = 0x9000;
  CHECK_FALSE(map.Move(id, GuestAddress(0x9000)).ok());
  CHECK(first.log == std::vector<std::string>{"+4096", "-4096", "+36864", "-36864", "+4096"});
  CHECK(map.regions()[0].start == GuestAddress(0x1000));
}

TEST_CASE_METHOD(MapTest, "A late listener is replayed every region first") {
  REQUIRE(map.Add(At(0x0, 0x1000)).ok());
  REQUIRE(map.Add(At(0x4000, 0x1000)).ok());
  FakeListener late;
  REQUIRE(map.AddListener(&late).ok());
  CHECK(late.log == std::vector<std::string>{"+0", "+16384"});
}

TEST_CASE_METHOD(MapTest, "LateListenerVeto: a late listener that refuses is left clean") {
  REQUIRE(map.Add(At(0x0, 0x1000)).ok());
  REQUIRE(map.Add(At(0x4000, 0x1000)).ok());
  FakeListener late;
  late.refuse_at = 0x4000;
  CHECK_FALSE(map.AddListener(&late).ok());
  CHECK(late.log == std::vector<std::string>{"+0", "-0"});
  REQUIRE(map.Add(At(0x8000, 0x1000)).ok());
  CHECK(late.log.size() == 2);  // Not a listener.
}

}  // namespace
}  // namespace mini_vmm
