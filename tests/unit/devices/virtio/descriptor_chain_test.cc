// DescriptorChain: accessors, and the move-only return obligation (a chain
// that never reaches the used ring is a device bug the destructor reports).
#include "devices/virtio/descriptor_chain.h"

#include <array>
#include <catch2/catch.hpp>
#include <csignal>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/death_test.h"

namespace mini_vmm::virtio {
namespace {

using testing::SignalThatEnds;

struct ChainTest {
  std::array<uint8_t, 16> header{};
  std::array<uint8_t, 512> data{};
  std::array<uint8_t, 1> status{};

  DescriptorChain MakeChain(uint16_t head) {
    return DescriptorChain(head,
                           {Segment{header, false}, Segment{data, true}, Segment{status, true}});
  }
};

TEST_CASE_METHOD(ChainTest, "A chain exposes its head and segments in order") {
  DescriptorChain chain = MakeChain(5);

  CHECK(chain.head() == 5);
  REQUIRE(chain.segments().size() == 3);
  CHECK(chain.segments()[0].data.data() == header.data());
  CHECK(chain.segments()[1].data.data() == data.data());
  CHECK(chain.segments()[2].data.data() == status.data());
  chain.MarkReturned();
}

TEST_CASE_METHOD(ChainTest, "Byte counts split the segments by direction") {
  DescriptorChain chain = MakeChain(0);

  CHECK(chain.readable_bytes() == 16);
  CHECK(chain.writable_bytes() == 513);
  chain.MarkReturned();
}

TEST_CASE("A chain without segments has no bytes either way") {
  DescriptorChain chain(1, Segments{});

  CHECK(chain.readable_bytes() == 0);
  CHECK(chain.writable_bytes() == 0);
  chain.MarkReturned();
}

TEST_CASE_METHOD(ChainTest, "Moving a chain moves its head and segments") {
  DescriptorChain source = MakeChain(7);

  DescriptorChain moved(std::move(source));

  CHECK(moved.head() == 7);
  CHECK(moved.segments().size() == 3);
  moved.MarkReturned();
}

TEST_CASE_METHOD(ChainTest, "A chain longer than the inline segments keeps all of them") {
  std::array<uint8_t, kInlineSegments + 2> bytes{};
  Segments segments;
  for (uint8_t& byte : bytes) segments.push_back(Segment{{&byte, 1}, true});
  DescriptorChain source(3, std::move(segments));

  DescriptorChain moved(std::move(source));

  REQUIRE(moved.segments().size() == bytes.size());
  CHECK(moved.segments().front().data.data() == &bytes.front());
  CHECK(moved.segments().back().data.data() == &bytes.back());
  CHECK(moved.writable_bytes() == bytes.size());
  moved.MarkReturned();
}

TEST_CASE_METHOD(ChainTest, "A chain built from a std::vector copies its segments") {
  std::vector<Segment> segments{Segment{header, false}, Segment{status, true}};
  DescriptorChain chain(2, segments);
  segments.clear();

  REQUIRE(chain.segments().size() == 2);
  CHECK(chain.segments()[1].data.data() == status.data());
  chain.MarkReturned();
}

TEST_CASE_METHOD(ChainTest, "A returned chain is destroyed silently") {
  const int signal = SignalThatEnds([this] {
    DescriptorChain chain = MakeChain(0);
    chain.MarkReturned();
  });

  CHECK(signal == 0);
}

TEST_CASE_METHOD(ChainTest, "A moved-from chain is destroyed silently") {
  const int signal = SignalThatEnds([this] {
    DescriptorChain source = MakeChain(0);
    DescriptorChain moved(std::move(source));
    moved.MarkReturned();
  });

  CHECK(signal == 0);
}

TEST_CASE_METHOD(ChainTest, "Move-assigning into a returned chain takes over the obligation") {
  const int signal = SignalThatEnds([this] {
    DescriptorChain target = MakeChain(1);
    target.MarkReturned();
    target = MakeChain(2);
    target.MarkReturned();
  });

  CHECK(signal == 0);
}

TEST_CASE_METHOD(ChainTest, "Move-assigning over a live chain aborts") {
  const int signal = SignalThatEnds([this] {
    DescriptorChain target = MakeChain(1);
    target = MakeChain(2);  // Chain 1 would be lost: VMM_CHECK.
  });

  CHECK(signal == SIGABRT);
}

#ifndef NDEBUG
TEST_CASE_METHOD(ChainTest, "A chain dropped without being returned aborts in debug builds") {
  const int signal = SignalThatEnds([this] { DescriptorChain chain = MakeChain(3); });

  CHECK(signal == SIGABRT);
}
#endif

TEST_CASE("Chain errors have readable names for the log") {
  const std::string_view jump = ChainErrorName(ChainError::kAvailIndexJump);
  const std::string_view loop = ChainErrorName(ChainError::kTooLong);

  CHECK(jump == "available index ran more than the queue size ahead");
  CHECK(loop == "chain longer than the queue (a loop?)");
}

}  // namespace
}  // namespace mini_vmm::virtio
