// Test helper: the scheduling policy of this process's thread with a given
// name (/proc/self/task/*/comm), for tests that check what a device's I/O
// thread made of itself.
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace mini_vmm::testing {

// SCHED_OTHER, SCHED_BATCH, ...; nullopt if no thread has that name.
inline std::optional<int> PolicyOfThreadNamed(std::string_view name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    if (!std::getline(comm, line) || line != name) continue;
    const int policy = ::sched_getscheduler(static_cast<pid_t>(std::stoi(task.path().filename())));
    if (policy >= 0) return policy;
  }
  return std::nullopt;
}

}  // namespace mini_vmm::testing
