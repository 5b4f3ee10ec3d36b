#include "vmm/gdb/protocol/hex.h"

#include <array>
#include <catch2/catch.hpp>

namespace mini_vmm::gdb {
namespace {

TEST_CASE("ParseHexNumber reads 1 to 16 digits of either case") {
  CHECK(ParseHexNumber("0") == 0u);
  CHECK(ParseHexNumber("ffffffff81000000") == 0xffffffff81000000u);
  CHECK(ParseHexNumber("DeadBeef") == 0xdeadbeefu);
}

TEST_CASE("ParseHexNumber rejects empty text") { CHECK_FALSE(ParseHexNumber("").has_value()); }

TEST_CASE("ParseHexNumber rejects 17 digits rather than truncating") {
  CHECK_FALSE(ParseHexNumber("10000000000000000").has_value());
}

TEST_CASE("ParseHexNumber rejects a non-hex digit") {
  CHECK_FALSE(ParseHexNumber("12g4").has_value());
  CHECK_FALSE(ParseHexNumber("-1").has_value());
}

TEST_CASE("ConsumeHexNumber stops at the delimiter and skips it") {
  std::string_view text = "1000,4:abcd";
  CHECK(ConsumeHexNumber(&text, ',') == 0x1000u);
  CHECK(ConsumeHexNumber(&text, ':') == 4u);
  CHECK(text == "abcd");
}

TEST_CASE("ConsumeHexNumber takes the rest when there is no delimiter") {
  std::string_view text = "42";
  CHECK(ConsumeHexNumber(&text, ',') == 0x42u);
  CHECK(text.empty());
}

TEST_CASE("DecodeHexBytes needs exactly two digits per byte") {
  std::array<uint8_t, 2> out{};
  CHECK(DecodeHexBytes("0aFF", out));
  CHECK(out == std::array<uint8_t, 2>{0x0a, 0xff});
  CHECK_FALSE(DecodeHexBytes("0aF", out));
  CHECK_FALSE(DecodeHexBytes("0aFFF0", out));
  CHECK_FALSE(DecodeHexBytes("0xFF", out));
}

TEST_CASE("AppendHexBytes writes lower-case pairs") {
  std::string out = "m";
  const std::array<uint8_t, 3> bytes{0x00, 0xab, 0x7f};
  AppendHexBytes(bytes, out);
  CHECK(out == "m00ab7f");
}

}  // namespace
}  // namespace mini_vmm::gdb
