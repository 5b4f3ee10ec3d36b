// Catch2's implementation, compiled once for every test executable
// (tests/CMakeLists.txt, mini_vmm_catch), and RunCatch (catch_session.h).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "tests/support/catch_session.h"

namespace mini_vmm::test {

int RunCatch(int argc, char* argv[], const std::function<int()>& before_tests) {
  Catch::Session session;
  if (int status = session.applyCommandLine(argc, argv); status != 0) return status;
  const Catch::ConfigData& config = session.configData();
  const bool runs_tests = !(config.listTests || config.listTestNamesOnly || config.listTags ||
                            config.listReporters || config.showHelp || config.libIdentify);
  if (runs_tests && before_tests) {
    if (int status = before_tests(); status >= 0) return status;
  }
  return session.run() == 0 ? 0 : 1;
}

}  // namespace mini_vmm::test
