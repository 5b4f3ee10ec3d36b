// GdbServer: the GDB stub's TCP side. Listens on one address, serves one
// client at a time on its own thread, and connects the client's Session to
// a Target and the target's StopMailbox.
//
//   auto server = TRY(GdbServer::Listen(address));    // bind errors here
//   TRY(server->Start(target, mailbox));
//   ...
//   server->Stop();                                   // joins the thread
//
// A client that connects stops the guest (all-stop; a no-op when
// --gdb-wait already holds it). A second client while one is attached is
// accepted and closed at once. A client that goes away, or that stops
// reading for kSendTimeout, is dropped and the guest runs on without
// breakpoints. Nothing the client sends is buffered beyond one read.
//
// Threading: Listen/Start/Stop from one thread (the machine's); the
// serving thread alone touches the Session and calls the Target.
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include "vmm/base/event_fd.h"
#include "vmm/base/result.h"
#include "vmm/base/unique_fd.h"
#include "vmm/gdb/listen_address.h"
#include "vmm/gdb/stop_mailbox.h"
#include "vmm/gdb/target.h"

namespace mini_vmm::gdb {

class GdbServer {
 public:
  static constexpr std::chrono::seconds kSendTimeout{10};

  // Binds and listens; "cannot listen for gdb on 127.0.0.1:1234: Address
  // already in use".
  static Result<std::unique_ptr<GdbServer>> Listen(const ListenAddress& address);

  GdbServer(const GdbServer&) = delete;
  GdbServer& operator=(const GdbServer&) = delete;
  ~GdbServer() { Stop(); }

  Result<void> Start(Target& target, StopMailbox& mailbox);
  // Ends the serving thread; the client, if any, is closed without
  // touching the target (the VM is stopping). Idempotent.
  void Stop() noexcept;

  const ListenAddress& address() const { return address_; }

 private:
  GdbServer(UniqueFd listener, EventFd shutdown, ListenAddress address)
      : listener_(std::move(listener)), shutdown_(std::move(shutdown)), address_(address) {}

  UniqueFd listener_;
  EventFd shutdown_;
  ListenAddress address_;
  std::thread thread_;
};

}  // namespace mini_vmm::gdb
