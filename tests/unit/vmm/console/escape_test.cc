#include "vmm/console/escape.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

namespace mini_vmm::console {
namespace {

using Bytes = std::vector<uint8_t>;

TEST_CASE("Ordinary bytes pass through to the guest unchanged") {
  EscapeParser parser;

  EscapeParser::Output out = parser.Feed(Bytes{'l', 's', '\r', 0x03});

  CHECK(out.to_guest == Bytes{'l', 's', '\r', 0x03});
  CHECK_FALSE(out.quit);
}

TEST_CASE("Ctrl-A x quits") {
  EscapeParser parser;

  EscapeParser::Output out = parser.Feed(Bytes{kEscapeByte, 'x'});

  CHECK(out.quit);
  CHECK(out.to_guest.empty());
}

TEST_CASE("Ctrl-A X (upper case) quits too") {
  EscapeParser parser;

  EscapeParser::Output out = parser.Feed(Bytes{kEscapeByte, 'X'});

  CHECK(out.quit);
}

TEST_CASE("Bytes before a quit are sent and bytes after it are dropped") {
  EscapeParser parser;

  EscapeParser::Output out = parser.Feed(Bytes{'a', kEscapeByte, 'x', 'b'});

  CHECK(out.quit);
  CHECK(out.to_guest == Bytes{'a'});
}

TEST_CASE("Ctrl-A Ctrl-A sends one Ctrl-A to the guest") {
  EscapeParser parser;

  EscapeParser::Output out = parser.Feed(Bytes{kEscapeByte, kEscapeByte, 'z'});

  CHECK(out.to_guest == Bytes{kEscapeByte, 'z'});
  CHECK_FALSE(out.quit);
}

TEST_CASE("An escape split across two Feed calls still quits") {
  EscapeParser parser;
  EscapeParser::Output first = parser.Feed(Bytes{'a', kEscapeByte});

  EscapeParser::Output second = parser.Feed(Bytes{'x'});

  CHECK(first.to_guest == Bytes{'a'});
  CHECK_FALSE(first.quit);
  CHECK(second.quit);
}

TEST_CASE("A Ctrl-A Ctrl-A split across two Feed calls sends one Ctrl-A") {
  EscapeParser parser;
  EscapeParser::Output first = parser.Feed(Bytes{kEscapeByte});

  EscapeParser::Output second = parser.Feed(Bytes{kEscapeByte});

  CHECK(first.to_guest.empty());
  CHECK(second.to_guest == Bytes{kEscapeByte});
}

TEST_CASE("Ctrl-A followed by another key swallows both") {
  EscapeParser parser;

  EscapeParser::Output out = parser.Feed(Bytes{'a', kEscapeByte, 'h', 'b'});

  CHECK(out.to_guest == Bytes{'a', 'b'});
  CHECK_FALSE(out.quit);
}

TEST_CASE("After a swallowed escape, a plain x is sent, not taken as quit") {
  EscapeParser parser;

  EscapeParser::Output out = parser.Feed(Bytes{kEscapeByte, 'h', 'x'});

  CHECK(out.to_guest == Bytes{'x'});
  CHECK_FALSE(out.quit);
}

}  // namespace
}  // namespace mini_vmm::console
