#include "vmm/base/small_vector.h"

#include <sys/uio.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace mini_vmm {
namespace {

using Small = SmallVector<uint64_t, 3>;

bool PointsInside(const void* object, size_t object_size, const void* p) {
  const auto* begin = static_cast<const std::byte*>(object);
  const auto* at = static_cast<const std::byte*>(p);
  return at >= begin && at < begin + object_size;
}

Small Filled(uint64_t count) {
  Small v;
  for (uint64_t i = 0; i < count; ++i) v.push_back(100 + i);
  return v;
}

std::vector<uint64_t> Contents(const Small& v) { return {v.begin(), v.end()}; }

TEST_CASE("SmallVector keeps up to its inline capacity inside the object") {
  const Small v = Filled(3);

  CHECK(v.is_inline());
  CHECK(v.capacity() == 3);
  CHECK(PointsInside(&v, sizeof(v), v.data()));
  CHECK(Contents(v) == std::vector<uint64_t>{100, 101, 102});
}

TEST_CASE("SmallVector moves to the heap one element past its inline capacity") {
  const Small v = Filled(4);

  CHECK_FALSE(v.is_inline());
  CHECK(v.capacity() >= 4);
  CHECK_FALSE(PointsInside(&v, sizeof(v), v.data()));
  CHECK(Contents(v) == std::vector<uint64_t>{100, 101, 102, 103});
}

TEST_CASE("SmallVector grows on the heap as far as the caller pushes") {
  const Small v = Filled(1000);

  REQUIRE(v.size() == 1000);
  CHECK(v[0] == 100);
  CHECK(v[999] == 1099);
}

TEST_CASE("SmallVector moved while inline copies its elements and empties the source") {
  Small source = Filled(2);

  Small moved(std::move(source));

  CHECK(Contents(moved) == std::vector<uint64_t>{100, 101});
  CHECK(PointsInside(&moved, sizeof(moved), moved.data()));
  CHECK(source.empty());      // NOLINT(bugprone-use-after-move): documented state.
  CHECK(source.is_inline());  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("SmallVector moved from the heap takes the block and leaves the source inline") {
  Small source = Filled(5);
  const uint64_t* block = source.data();

  Small moved(std::move(source));

  CHECK(moved.data() == block);
  CHECK(Contents(moved) == std::vector<uint64_t>{100, 101, 102, 103, 104});
  CHECK(source.empty());          // NOLINT(bugprone-use-after-move)
  CHECK(source.is_inline());      // NOLINT(bugprone-use-after-move)
  CHECK(source.capacity() == 3);  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("SmallVector move assignment over a heap vector frees it and takes the other") {
  Small target = Filled(6);
  Small source = Filled(2);

  target = std::move(source);

  CHECK(target.is_inline());
  CHECK(Contents(target) == std::vector<uint64_t>{100, 101});
}

TEST_CASE("SmallVector copies are independent of the original") {
  Small original = Filled(5);

  Small copy = original;
  copy[0] = 7;

  CHECK(original[0] == 100);
  CHECK(Contents(copy) == std::vector<uint64_t>{7, 101, 102, 103, 104});
  CHECK(copy.data() != original.data());
}

TEST_CASE("SmallVector copy assignment of a short vector over a long one shrinks it") {
  Small target = Filled(6);
  const Small source = Filled(1);

  target = source;

  CHECK(Contents(target) == std::vector<uint64_t>{100});
}

TEST_CASE("SmallVector clear keeps the heap block for reuse") {
  Small v = Filled(5);
  const uint64_t* block = v.data();

  v.clear();
  v.push_back(9);

  CHECK(v.data() == block);
  CHECK(Contents(v) == std::vector<uint64_t>{9});
}

TEST_CASE("SmallVector back and pop_back work at the inline and heap ends") {
  Small v = Filled(4);

  v.pop_back();
  CHECK(v.back() == 102);
  v.pop_back();
  v.pop_back();
  v.pop_back();
  CHECK(v.empty());
}

TEST_CASE("SmallVector built from a span holds a copy of it") {
  const std::vector<uint64_t> items{1, 2, 3, 4};

  const Small v{std::span<const uint64_t>(items)};

  CHECK(Contents(v) == items);
  CHECK(v.data() != items.data());
}

TEST_CASE("SmallVector views as a span of its elements") {
  Small v = Filled(2);

  const std::span<uint64_t> view = v;

  REQUIRE(view.size() == 2);
  CHECK(view.data() == v.data());
}

TEST_CASE("SmallVector holds aggregates such as iovec") {
  SmallVector<iovec, 2> iov;
  char a = 0;
  char b = 0;
  char c = 0;

  iov.push_back({&a, 1});
  iov.push_back({&b, 2});
  iov.push_back({&c, 3});

  REQUIRE(iov.size() == 3);
  CHECK(iov[2].iov_base == &c);
  CHECK(iov[2].iov_len == 3);
}

}  // namespace
}  // namespace mini_vmm
