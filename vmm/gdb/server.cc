#include "vmm/gdb/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <optional>

#include "vmm/base/event_loop.h"
#include "vmm/base/log.h"
#include "vmm/gdb/session.h"

namespace mini_vmm::gdb {
namespace {

// Writes replies to the client's socket. A send that fails or times out
// (a client that stopped reading) marks the client for dropping.
class SocketSink final : public PacketSink {
 public:
  explicit SocketSink(int fd) : fd_(fd) {}
  void Send(std::string_view bytes) override {
    while (!failed_ && !bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        failed_ = true;
        return;
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  bool failed() const { return failed_; }

 private:
  int fd_;
  bool failed_ = false;
};

// One attached client: its socket, sink and session.
struct Client {
  Client(UniqueFd socket_fd, Target& target)
      : fd(std::move(socket_fd)), sink(fd.get()), session(target, sink) {}
  UniqueFd fd;
  SocketSink sink;
  Session session;
};

// The serving thread's state and callbacks.
class Serve {
 public:
  Serve(int listener, const EventFd& shutdown, Target& target, StopMailbox& mailbox)
      : listener_(listener), shutdown_(shutdown), target_(target), mailbox_(mailbox) {}

  void Run() noexcept {
    Result<EventLoop> loop = EventLoop::Create();
    if (!loop.ok()) {
      LOG_ERROR("gdb: {}", loop.error().ToString());
      return;
    }
    loop_ = &*loop;
    bool added = loop->Add(shutdown_.fd(), [this] { loop_->Quit(); }).ok() &&
                 loop->Add(listener_, [this] { Accept(); }).ok() &&
                 loop->Add(mailbox_.fd(), [this] { DeliverStop(); }).ok();
    if (!added) {
      LOG_ERROR("gdb: cannot watch the stub's file descriptors");
      return;
    }
    if (Result<void> served = loop->Run(); !served.ok()) {
      LOG_ERROR("gdb: {}", served.error().ToString());
    }
    if (client_) loop_->Remove(client_->fd.get());
    client_.reset();  // The VM is stopping: the target is left alone.
  }

 private:
  void Accept() {
    UniqueFd fd(::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC));
    if (fd.get() < 0) return;
    if (client_) {
      LOG_WARN_RATELIMITED("gdb: refused a second client while one is attached");
      return;  // Closed by UniqueFd.
    }
    const int one = 1;
    (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    const timeval timeout{GdbServer::kSendTimeout.count(), 0};
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    target_.PauseAll();        // All-stop: gdb finds the guest stopped.
    (void)mailbox_.TakeAll();  // Stops from before this client are stale.
    const int raw = fd.get();
    client_.emplace(std::move(fd), target_);
    if (!loop_->Add(raw, [this] { ReadClient(); }).ok()) {
      Drop();
      return;
    }
    LOG_INFO("gdb: client attached");
  }

  void ReadClient() {
    std::array<uint8_t, 4096> buffer;
    const ssize_t n = ::recv(client_->fd.get(), buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) return;
    if (n <= 0) {
      Drop();
      return;
    }
    // Stops posted before these bytes came belong before them: a continue
    // must find them kept, not run the guest past them.
    DeliverStop();
    if (!client_) return;
    client_->session.Receive(std::span(buffer).first(static_cast<size_t>(n)));
    AfterSession();
  }

  void DeliverStop() {
    const std::vector<StopEvent> events = mailbox_.TakeAll();
    if (events.empty()) return;
    if (!client_) {
      // Stops that raced with a detach: their vCPUs parked; let them go.
      target_.Detach();
      return;
    }
    // All-stop: every vCPU pauses before gdb hears of the stop. Stops that
    // come while gdb holds the guest (they raced with this one, or with a
    // Ctrl-C) are kept by the session for the next resume.
    if (client_->session.state() == Session::State::kRunning) target_.PauseAll();
    client_->session.OnStops(events);
    AfterSession();
  }

  void AfterSession() {
    const Session::State state = client_->session.state();
    if (client_->sink.failed() || state == Session::State::kDetached ||
        state == Session::State::kKilled) {
      Drop();
    }
  }

  // Forgets the client; a session still attached lets the guest run.
  void Drop() {
    client_->session.Disconnect();
    loop_->Remove(client_->fd.get());
    client_.reset();
    LOG_INFO("gdb: client detached");
  }

  const int listener_;
  const EventFd& shutdown_;
  Target& target_;
  StopMailbox& mailbox_;
  EventLoop* loop_ = nullptr;
  std::optional<Client> client_;
};

}  // namespace

Result<std::unique_ptr<GdbServer>> GdbServer::Listen(const ListenAddress& address) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Error::Errno(errno, "cannot create the gdb socket");
  const int one = 1;
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(address.port);
  sin.sin_addr.s_addr = htonl(address.ipv4);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sin), sizeof(sin)) != 0 ||
      ::listen(fd.get(), 1) != 0) {
    return Error::Errno(errno, "cannot listen for gdb on {}", address.ToString());
  }
  EventFd shutdown = TRY(EventFd::Create());
  return std::unique_ptr<GdbServer>(new GdbServer(std::move(fd), std::move(shutdown), address));
}

Result<void> GdbServer::Start(Target& target, StopMailbox& mailbox) {
  VMM_CHECK(!thread_.joinable());
  try {
    thread_ = std::thread([this, &target, &mailbox] {
      Serve serve(listener_.get(), shutdown_, target, mailbox);
      serve.Run();
    });
  } catch (const std::system_error& e) {
    return Error::Errno(e.code().value(), "cannot start the gdb stub's thread");
  }
  return {};
}

void GdbServer::Stop() noexcept {
  if (!thread_.joinable()) return;
  shutdown_.Signal();
  thread_.join();
}

}  // namespace mini_vmm::gdb
