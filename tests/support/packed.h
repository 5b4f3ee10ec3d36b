// Value(): a copy of a field of a packed uAPI struct (boot_params,
// setup_header) for a Catch assertion. CHECK(a == b) binds a reference to
// `a`, and a packed field may be misaligned: clang's UBSan rightly reports
// that binding (g++ quietly binds a temporary). Taking the field by value
// reads it the way the code under test does.
#pragma once

namespace mini_vmm::testing {

template <typename T>
constexpr T Value(T field) {
  return field;
}

}  // namespace mini_vmm::testing
