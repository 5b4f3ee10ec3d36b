#include "vmm/console/terminal.h"

#include <unistd.h>

#include <cerrno>
#include <utility>

#include "vmm/base/log.h"

namespace mini_vmm::console {

Result<RawTerminal> RawTerminal::Enter(int fd) {
  if (!::isatty(fd)) return RawTerminal(-1, termios{});
  termios saved{};
  if (::tcgetattr(fd, &saved) != 0) return Error::Errno(errno, "cannot read terminal settings");
  termios raw = saved;
  // Input raw: no line editing, no echo, no signals from Ctrl-C/Ctrl-Z (they
  // belong to the guest), no CR/NL translation. Output post-processing stays
  // on so mini-vmm's own log lines keep their carriage returns.
  raw.c_iflag &=
      ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  raw.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB);
  raw.c_cflag |= CS8;
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  if (::tcsetattr(fd, TCSANOW, &raw) != 0)
    return Error::Errno(errno, "cannot set raw terminal mode");
  return RawTerminal(fd, saved);
}

RawTerminal::RawTerminal(RawTerminal&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), saved_(other.saved_) {}

RawTerminal::~RawTerminal() {
  if (fd_ < 0) return;
  if (::tcsetattr(fd_, TCSANOW, &saved_) != 0) {
    LOG_ERROR("cannot restore terminal settings: errno {}", errno);
  }
}

}  // namespace mini_vmm::console
