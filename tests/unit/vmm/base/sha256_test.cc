// SHA-256 against the FIPS 180 examples (and NIST's CSHA test vectors).
#include "vmm/base/sha256.h"

#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "vmm/base/sha256_blocks.h"

namespace mini_vmm {
namespace {

std::span<const uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string HexOf(std::string_view text) { return Sha256::Hex(Sha256::Of(Bytes(text))); }

TEST_CASE("SHA-256 of \"abc\" (FIPS 180 one-block example)") {
  CHECK(HexOf("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("SHA-256 of the empty message") {
  CHECK(HexOf("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("SHA-256 of the 448-bit two-block example") {
  CHECK(HexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("SHA-256 of the 896-bit example") {
  CHECK(HexOf("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklm"
              "nopqrlmnopqrsmnopqrstnopqrstu") ==
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST_CASE("SHA-256 of one million 'a's (FIPS 180 long message)") {
  const std::string million(1'000'000, 'a');
  CHECK(HexOf(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("SHA-256 fed in uneven pieces equals the one-shot digest") {
  const std::string million(1'000'000, 'a');
  Sha256 h;
  size_t offset = 0;
  for (size_t piece = 1; offset < million.size(); piece = piece * 3 + 1) {
    const size_t take = std::min(piece, million.size() - offset);
    h.Update(Bytes(std::string_view(million).substr(offset, take)));
    offset += take;
  }
  CHECK(Sha256::Hex(h.Finish()) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("SHA-256 of 55 and 56 bytes: the padding boundary") {
  CHECK(HexOf(std::string(55, 'a')) ==
        "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  CHECK(HexOf(std::string(56, 'a')) ==
        "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
}

TEST_CASE("Finish resets the hasher for the next message") {
  Sha256 h;
  h.Update(Bytes("abc"));
  (void)h.Finish();
  h.Update(Bytes("abc"));
  CHECK(Sha256::Hex(h.Finish()) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("The SHA-NI compression matches the portable one block for block") {
  if (!sha256_internal::ShaNiAvailable()) {
    WARN("this CPU has no SHA extensions: only the portable code is tested");
    return;
  }
  std::vector<uint8_t> data(64 * 37);
  uint32_t x = 1;
  for (uint8_t& byte : data) {
    x = x * 1664525u + 1013904223u;
    byte = static_cast<uint8_t>(x >> 24);
  }
  sha256_internal::State portable = {1, 2, 3, 4, 5, 6, 7, 8};
  sha256_internal::State accelerated = portable;
  sha256_internal::CompressPortable(portable, data.data(), 37);
  sha256_internal::CompressShaNi(accelerated, data.data(), 37);
  CHECK(portable == accelerated);
}

}  // namespace
}  // namespace mini_vmm
