#include "vmm/base/result.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <memory>

namespace mini_vmm {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Error::Invalid("{} is odd", x);
  return x / 2;
}

Result<int> Quarter(int x) {
  int half = TRY(Half(x));
  return TRY(Half(half));
}

Result<void> RequireEven(int x) {
  TRY(Half(x));
  return {};
}

TEST_CASE("TRY passes values through and returns the first error") {
  REQUIRE(Quarter(8).value() == 2);
  auto odd = Quarter(6);
  REQUIRE_FALSE(odd.ok());
  CHECK(odd.error().ToString() == "3 is odd");
}

TEST_CASE("Result<void> carries errors") {
  CHECK(RequireEven(2).ok());
  CHECK(RequireEven(3).error().ToString() == "3 is odd");
}

TEST_CASE("Errno errors append the system message once") {
  Error e = Error::Errno(ENOENT, "cannot open kernel image \"{}\"", "bzImage");
  CHECK(e.errno_value() == ENOENT);
  CHECK(e.ToString() == "cannot open kernel image \"bzImage\": No such file or directory");
}

TEST_CASE("Result holds move-only values") {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  REQUIRE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  CHECK(*p == 7);
}

}  // namespace
}  // namespace mini_vmm
