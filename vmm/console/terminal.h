// RawTerminal: puts a tty in raw input mode for the guest console and
// restores it on destruction (also when mini-vmm exits on an error path).
#pragma once

#include <termios.h>

#include "vmm/base/result.h"

namespace mini_vmm::console {

class RawTerminal {
 public:
  // Raw mode on `fd` if it is a tty; a no-op object otherwise.
  static Result<RawTerminal> Enter(int fd);

  RawTerminal(RawTerminal&& other) noexcept;
  RawTerminal& operator=(RawTerminal&&) = delete;
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  ~RawTerminal();

  bool active() const { return fd_ >= 0; }

 private:
  RawTerminal(int fd, const termios& saved) : fd_(fd), saved_(saved) {}

  int fd_ = -1;
  termios saved_{};
};

}  // namespace mini_vmm::console
