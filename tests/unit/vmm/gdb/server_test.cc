// GdbServer over real loopback sockets against the fake target: the
// attach pauses the guest, a second client is refused, a client that goes
// away lets the guest run, a stop posted to the mailbox reaches the client,
// and a port in use is one sentence.
#include "vmm/gdb/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "tests/support/fake_gdb_target.h"
#include "vmm/gdb/protocol/packet.h"

namespace mini_vmm::gdb {
namespace {

// FakeGdbTarget behind a mutex: the server calls it from its own thread.
class LockedTarget final : public Target {
 public:
  uint32_t VcpuCount() const override { return 2; }
  Result<void> ReadRegisters(VcpuIndex v, RegisterFile& out) override {
    std::lock_guard lock(mutex);
    return fake.ReadRegisters(v, out);
  }
  Result<void> WriteRegisters(VcpuIndex v, const RegisterFile& in) override {
    std::lock_guard lock(mutex);
    return fake.WriteRegisters(v, in);
  }
  std::optional<Translation> Translate(VcpuIndex v, uint64_t a) override {
    std::lock_guard lock(mutex);
    return fake.Translate(v, a);
  }
  bool ReadPhysical(uint64_t a, std::span<uint8_t> out) override {
    std::lock_guard lock(mutex);
    return fake.ReadPhysical(a, out);
  }
  bool WritePhysical(uint64_t a, std::span<const uint8_t> in) override {
    std::lock_guard lock(mutex);
    return fake.WritePhysical(a, in);
  }
  Result<void> SetHardwareBreakpoints(const HardwareBreakpoints& b) override {
    std::lock_guard lock(mutex);
    return fake.SetHardwareBreakpoints(b);
  }
  void Resume(std::span<const ResumeAction> actions) override {
    std::lock_guard lock(mutex);
    fake.Resume(actions);
  }
  void PauseAll() override {
    std::lock_guard lock(mutex);
    fake.PauseAll();
  }
  void Detach() override {
    std::lock_guard lock(mutex);
    fake.Detach();
  }
  void Kill() override {
    std::lock_guard lock(mutex);
    fake.Kill();
  }
  template <typename F>
  auto With(F f) {
    std::lock_guard lock(mutex);
    return f(fake);
  }

  std::mutex mutex;
  mini_vmm::testing::FakeGdbTarget fake{2};
};

bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0);
  socklen_t len = sizeof(sin);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len) == 0);
  ::close(fd);
  return ntohs(sin.sin_port);
}

UniqueFd Connect(uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0);
  return fd;
}

void SendAll(int fd, std::string_view bytes) {
  REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(bytes.size()));
}

// Reads until a whole packet arrived (acks skipped); "" on EOF or timeout.
std::string ReadPacket(int fd) {
  PacketDecoder decoder;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return {};
    char c = 0;
    if (::recv(fd, &c, 1, 0) != 1) return {};
    std::optional<Frame> frame = decoder.Feed(static_cast<uint8_t>(c));
    if (frame && frame->kind == Frame::Kind::kPacket) return frame->payload;
  }
}

// True once the peer closed the connection.
bool Closed(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1) return false;
  char c = 0;
  return ::recv(fd, &c, 1, 0) == 0;
}

class ServerTest {
 public:
  ServerTest() : port(FreePort()) {
    auto listening = GdbServer::Listen(ListenAddress{0x7f000001, port});
    REQUIRE(listening.ok());
    server = std::move(*listening);
    REQUIRE(server->Start(target, mailbox).ok());
  }
  ~ServerTest() { server->Stop(); }

  uint16_t port;
  LockedTarget target;
  StopMailbox mailbox{EventFd::Create().value(), 2};
  std::unique_ptr<GdbServer> server;
};

TEST_CASE_METHOD(ServerTest, "A client is answered and attaching pauses the guest") {
  UniqueFd client = Connect(port);
  SendAll(client.get(), EncodePacket("qC"));
  CHECK(ReadPacket(client.get()) == "QC01");
  CHECK(target.With([](auto& fake) { return fake.pauses; }) == 1);
}

TEST_CASE_METHOD(ServerTest, "A second client is refused while one is attached") {
  UniqueFd first = Connect(port);
  SendAll(first.get(), EncodePacket("qC"));
  REQUIRE(ReadPacket(first.get()) == "QC01");
  UniqueFd second = Connect(port);
  CHECK(Closed(second.get()));
  SendAll(first.get(), EncodePacket("?"));
  CHECK(ReadPacket(first.get()) == "T05thread:01;");
}

TEST_CASE_METHOD(ServerTest, "A client that disconnects leaves the guest running") {
  {
    UniqueFd client = Connect(port);
    SendAll(client.get(), EncodePacket("qC"));
    REQUIRE(ReadPacket(client.get()) == "QC01");
    SendAll(client.get(), "$m ffff");  // Half a packet, then gone.
  }
  CHECK(Eventually([&] { return target.With([](auto& fake) { return fake.detached; }); }));
  // The next client is welcome.
  UniqueFd again = Connect(port);
  SendAll(again.get(), EncodePacket("qC"));
  CHECK(ReadPacket(again.get()) == "QC01");
}

TEST_CASE_METHOD(ServerTest, "A stop posted while running becomes the stop reply") {
  UniqueFd client = Connect(port);
  SendAll(client.get(), EncodePacket("vCont;c"));
  REQUIRE(
      Eventually([&] { return target.With([](auto& fake) { return !fake.resumes.empty(); }); }));
  mailbox.Post(StopEvent{1, StopEvent::Reason::kStep});
  CHECK(ReadPacket(client.get()) == "T05thread:02;");
}

TEST_CASE_METHOD(ServerTest, "Two vCPUs stopping at once are both reported, one per continue") {
  UniqueFd client = Connect(port);
  SendAll(client.get(), EncodePacket("vCont;c"));
  REQUIRE(
      Eventually([&] { return target.With([](auto& fake) { return !fake.resumes.empty(); }); }));
  // Two fake vCPUs hit their stops at the same moment, from their own threads.
  std::atomic<bool> go{false};
  std::thread vcpu0([&] {
    while (!go.load()) std::this_thread::yield();
    mailbox.Post(StopEvent{0, StopEvent::Reason::kStep});
  });
  std::thread vcpu1([&] {
    while (!go.load()) std::this_thread::yield();
    mailbox.Post(StopEvent{1, StopEvent::Reason::kStep});
  });
  go = true;
  vcpu0.join();
  vcpu1.join();

  const std::string first = ReadPacket(client.get());
  REQUIRE((first == "T05thread:01;" || first == "T05thread:02;"));
  SendAll(client.get(), EncodePacket("c"));
  const std::string second = ReadPacket(client.get());
  CHECK(second == (first == "T05thread:01;" ? "T05thread:02;" : "T05thread:01;"));
  // The second came from the pending stop, not from running the guest.
  CHECK(target.With([](auto& fake) { return fake.resumes.size(); }) == 1);
}

TEST_CASE_METHOD(ServerTest, "Detach closes the connection and lets the guest run") {
  UniqueFd client = Connect(port);
  SendAll(client.get(), EncodePacket("D"));
  CHECK(ReadPacket(client.get()) == "OK");
  CHECK(Closed(client.get()));
  CHECK(target.With([](auto& fake) { return fake.detached; }));
}

TEST_CASE("A port in use is one sentence") {
  const uint16_t port = FreePort();
  auto first = GdbServer::Listen(ListenAddress{0x7f000001, port});
  REQUIRE(first.ok());
  auto second = GdbServer::Listen(ListenAddress{0x7f000001, port});
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().ToString() ==
        "cannot listen for gdb on 127.0.0.1:" + std::to_string(port) + ": Address already in use");
}

}  // namespace
}  // namespace mini_vmm::gdb
