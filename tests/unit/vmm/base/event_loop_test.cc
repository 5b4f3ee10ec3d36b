#include "vmm/base/event_loop.h"

#include <catch2/catch.hpp>
#include <vector>

#include "vmm/base/event_fd.h"

namespace mini_vmm {
namespace {

struct LoopTest {
  EventLoop loop = std::move(EventLoop::Create()).value();
  EventFd a = std::move(EventFd::Create()).value();
  EventFd b = std::move(EventFd::Create()).value();
  EventFd stop = std::move(EventFd::Create()).value();
  std::vector<char> calls;

  LoopTest() {
    REQUIRE(loop.Add(stop.fd(), [this] { loop.Quit(); }).ok());
  }

  // b, level-triggered, records 'b' and ends the run one dispatch later.
  void EndRunOnB() {
    REQUIRE(loop.Add(b.fd(),
                     [this] {
                       b.Consume();
                       calls.push_back('b');
                       stop.Signal();
                     })
                .ok());
  }
};

TEST_CASE_METHOD(LoopTest, "Run calls the callback of each readable fd") {
  REQUIRE(loop.Add(a.fd(),
                   [this] {
                     a.Consume();
                     calls.push_back('a');
                     stop.Signal();
                   })
              .ok());
  a.Signal();

  REQUIRE(loop.Run().ok());

  CHECK(calls == std::vector<char>{'a'});
}

TEST_CASE_METHOD(LoopTest, "An edge-triggered fd runs its callback once per signal, unread") {
  // a's callback never reads it. Signalled twice before Run: one call. The
  // first call signals a again (as a worker that spent its budget does):
  // one more call. A level-triggered a would be called forever.
  REQUIRE(loop.Add(a.fd(), EventLoop::Trigger::kEdge,
                   [this] {
                     calls.push_back('a');
                     if (calls.size() == 1) {
                       a.Signal();
                     } else {
                       b.Signal();
                     }
                   })
              .ok());
  // b ends the run two dispatches later: a level-triggered a would still
  // be readable then and be called a third time.
  EndRunOnB();
  a.Signal();
  a.Signal();

  REQUIRE(loop.Run().ok());

  CHECK(calls == std::vector<char>{'a', 'a', 'b'});
  CHECK(a.Consume() == 3);  // The count was never read.
}

TEST_CASE_METHOD(LoopTest, "A count pending when an edge-triggered fd is added is reported once") {
  a.Signal();
  REQUIRE(loop.Add(a.fd(), EventLoop::Trigger::kEdge,
                   [this] {
                     calls.push_back('a');
                     b.Signal();
                   })
              .ok());
  EndRunOnB();

  REQUIRE(loop.Run().ok());

  CHECK(calls == std::vector<char>{'a', 'b'});
}

TEST_CASE_METHOD(LoopTest, "Adding an fd twice fails") {
  REQUIRE(loop.Add(a.fd(), [] {}).ok());

  CHECK_FALSE(loop.Add(a.fd(), [] {}).ok());
}

TEST_CASE_METHOD(LoopTest, "A callback may remove its own fd") {
  REQUIRE(loop.Add(a.fd(),
                   [this] {
                     calls.push_back('a');
                     loop.Remove(a.fd());  // Not consumed: a still-watched fd would fire again.
                     stop.Signal();
                   })
              .ok());
  a.Signal();

  REQUIRE(loop.Run().ok());

  CHECK(calls == std::vector<char>{'a'});
}

TEST_CASE_METHOD(LoopTest, "An fd removed by an earlier callback of the same batch is not called") {
  // Both are readable before Run, so one epoll_wait returns both; whichever
  // runs first removes the other.
  REQUIRE(loop.Add(a.fd(),
                   [this] {
                     calls.push_back('a');
                     loop.Remove(b.fd());
                     loop.Remove(a.fd());
                     stop.Signal();
                   })
              .ok());
  REQUIRE(loop.Add(b.fd(),
                   [this] {
                     calls.push_back('b');
                     loop.Remove(a.fd());
                     loop.Remove(b.fd());
                     stop.Signal();
                   })
              .ok());
  a.Signal();
  b.Signal();

  REQUIRE(loop.Run().ok());

  CHECK(calls.size() == 1);
}

TEST_CASE_METHOD(LoopTest, "A removed fd can be added again with a new callback") {
  REQUIRE(loop.Add(a.fd(), [this] { calls.push_back('x'); }).ok());
  loop.Remove(a.fd());
  REQUIRE(loop.Add(a.fd(),
                   [this] {
                     a.Consume();
                     calls.push_back('a');
                     stop.Signal();
                   })
              .ok());
  a.Signal();

  REQUIRE(loop.Run().ok());

  CHECK(calls == std::vector<char>{'a'});
}

}  // namespace
}  // namespace mini_vmm
