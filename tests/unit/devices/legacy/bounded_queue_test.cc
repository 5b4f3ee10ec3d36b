#include "devices/legacy/bounded_queue.h"

#include <array>
#include <catch2/catch.hpp>

namespace mini_vmm::devices {
namespace {

TEST_CASE("BoundedQueue pops in push order") {
  BoundedQueue<int, 4> queue;
  queue.Push(1);
  queue.Push(2);

  CHECK(queue.Pop() == 1);
  CHECK(queue.Pop() == 2);
  CHECK(queue.Pop() == std::nullopt);
}

TEST_CASE("BoundedQueue refuses a push when full") {
  BoundedQueue<int, 2> queue;
  queue.Push(1);
  queue.Push(2);

  CHECK_FALSE(queue.Push(3));
  CHECK(queue.full());
  CHECK(queue.Pop() == 1);
}

TEST_CASE("BoundedQueue PushSome takes the leading elements that fit") {
  BoundedQueue<int, 3> queue;
  queue.Push(0);
  const std::array<int, 4> values = {1, 2, 3, 4};

  CHECK(queue.PushSome(values) == 2);
  CHECK(queue.size() == 3);
  CHECK(queue.Pop() == 0);
  CHECK(queue.Pop() == 1);
  CHECK(queue.Pop() == 2);
}

TEST_CASE("BoundedQueue keeps order across the end of its storage") {
  BoundedQueue<int, 2> queue;
  queue.Push(1);
  queue.Push(2);
  queue.Pop();

  queue.Push(3);

  CHECK(queue.Pop() == 2);
  CHECK(queue.Pop() == 3);
}

TEST_CASE("BoundedQueue Clear empties it") {
  BoundedQueue<int, 2> queue;
  queue.Push(1);

  queue.Clear();

  CHECK(queue.empty());
  CHECK(queue.free_space() == 2);
}

}  // namespace
}  // namespace mini_vmm::devices
