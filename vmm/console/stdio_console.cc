#include "vmm/console/stdio_console.h"

#include <unistd.h>

#include <array>
#include <cerrno>

#include "vmm/base/log.h"

namespace mini_vmm::console {

Result<void> StdioConsole::Attach(EventLoop& loop) {
  loop_ = &loop;
  TRY(loop.Add(room_.fd(), [this] { OnRoom(); }));
  auto watched = loop.Add(input_fd_, [this] { OnInput(); });
  if (watched.ok()) {
    input_watched_ = true;
  } else if (watched.error().errno_value() == EPERM) {
    input_is_file_ = true;
    room_.Signal();  // Start pumping from the event loop.
  } else {
    return std::move(watched).error();
  }
  return {};
}

bool StdioConsole::ReadOnce() {
  std::array<uint8_t, 1024> buffer{};
  ssize_t n = 0;
  do {
    n = ::read(input_fd_, buffer.data(), buffer.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return true;
  if (n <= 0) {
    // EOF (stdin was a file or /dev/null) or an error: the guest keeps
    // running without input.
    input_closed_ = true;
    StopWatchingInput();
    return false;
  }
  EscapeParser::Output out = escape_.Feed(std::span(buffer.data(), static_cast<size_t>(n)));
  pending_.insert(pending_.end(), out.to_guest.begin(), out.to_guest.end());
  if (out.quit) {
    stop_.Request(StopReason::kUserQuit, "Ctrl-A x");
    input_closed_ = true;
    StopWatchingInput();
    return false;
  }
  return true;
}

void StdioConsole::OnInput() {
  if (!ReadOnce()) return;
  // Stop reading until the guest drains the UART: the terminal (or the
  // pipe) buffers for us, so nothing is lost and memory stays bounded.
  if (!Flush()) StopWatchingInput();
}

void StdioConsole::OnRoom() {
  room_.Consume();
  if (input_is_file_) {
    PumpFile();
    return;
  }
  if (Flush() && !input_watched_ && !input_closed_) {
    if (loop_->Add(input_fd_, [this] { OnInput(); }).ok()) input_watched_ = true;
  }
}

void StdioConsole::PumpFile() {
  // Runs until the UART refuses bytes (its input-space callback signals
  // room_ again later) or the file ends.
  while (Flush() && !input_closed_) {
    if (!ReadOnce()) break;
  }
}

void StdioConsole::StopWatchingInput() {
  if (input_watched_) loop_->Remove(input_fd_);
  input_watched_ = false;
}

bool StdioConsole::Flush() {
  if (pending_.empty()) return true;
  const size_t taken = serial_.EnqueueInput(pending_);
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(taken));
  return pending_.empty();
}

}  // namespace mini_vmm::console
