// The console escape: Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A, as in
// QEMU. Everything else goes to the guest unchanged.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace mini_vmm::console {

inline constexpr uint8_t kEscapeByte = 0x01;  // Ctrl-A

class EscapeParser {
 public:
  struct Output {
    std::vector<uint8_t> to_guest;
    bool quit = false;
  };

  // Consumes terminal input; stops at a quit request (the rest is dropped).
  // An escape split across calls is remembered.
  Output Feed(std::span<const uint8_t> input);

 private:
  bool pending_escape_ = false;
};

}  // namespace mini_vmm::console
