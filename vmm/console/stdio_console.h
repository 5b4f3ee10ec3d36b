// The guest's serial console on mini-vmm's own stdin: terminal input goes
// through the Ctrl-A escape parser into the UART, held back (never dropped)
// while the UART is full. Guest output goes to stdout through ConsoleOutput
// (console_output.h), never from a vCPU thread.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "devices/legacy/serial.h"
#include "vmm/base/event_fd.h"
#include "vmm/base/event_loop.h"
#include "vmm/base/result.h"
#include "vmm/console/escape.h"
#include "vmm/runtime/stop_signal.h"

namespace mini_vmm::console {

class StdioConsole {
 public:
  // `room` is the eventfd the Serial's input-space callback signals.
  StdioConsole(int input_fd, devices::Serial& serial, const EventFd& room, StopSignal& stop)
      : input_fd_(input_fd), serial_(serial), room_(room), stop_(stop) {}

  // Watches the input fd and the room eventfd on `loop`. An input epoll
  // cannot watch (a regular file, /dev/null) is read as fast as the guest
  // drains the UART instead.
  Result<void> Attach(EventLoop& loop);

 private:
  void OnInput();
  void OnRoom();
  // One read from the input into pending_; false at EOF, error or quit.
  bool ReadOnce();
  // Hands pending bytes to the UART; true if all were taken.
  bool Flush();
  void StopWatchingInput();
  void PumpFile();

  int input_fd_;
  devices::Serial& serial_;
  const EventFd& room_;
  StopSignal& stop_;
  EscapeParser escape_;
  std::vector<uint8_t> pending_;
  EventLoop* loop_ = nullptr;
  bool input_watched_ = false;
  bool input_closed_ = false;   // EOF or error: never watch the input again.
  bool input_is_file_ = false;  // Not pollable: pumped from OnRoom().
};

}  // namespace mini_vmm::console
