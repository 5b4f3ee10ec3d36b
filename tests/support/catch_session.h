// RunCatch: the body of every test executable's main. Catch2 v2 declares
// its Session only where its implementation is compiled, which is once, in
// catch_impl.cc; the mains (catch_main.cc, kvm_main.cc, vhost_main.cc) call
// this instead.
#pragma once

#include <functional>

namespace mini_vmm::test {

// Parses the command line and runs the selected tests. When tests are
// about to run (not when listing them or printing help: ctest's discovery
// at build time needs no KVM), `before_tests` may decide the exit status
// instead (a tier's "skipped" or "required but missing"); it returns -1 to
// let the tests run. Exit status: 0 if every test passed, 1 if any failed
// (never Catch's count of failures, which could read as 77, "skipped").
int RunCatch(int argc, char* argv[], const std::function<int()>& before_tests = {});

}  // namespace mini_vmm::test
