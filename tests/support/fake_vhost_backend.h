// FakeVhostBackend: a VhostBackend that records every call, in order, and
// keeps the state the kernel would (owner, table, per-ring num/base/addr/
// fds, attached backend), enforcing the kernel's rules that callers can
// get wrong (drivers/vhost/vhost.c):
//   - every call but SET_OWNER fails with EPERM before SET_OWNER;
//   - SET_VRING_NUM/BASE/ADDR fail with EBUSY while a backend is attached;
//   - SET_VRING_NUM takes a power of two up to 32768 (EINVAL otherwise).
// A test can make one named call fail (fail_call, fail_errno).
//
//   auto owned = std::make_unique<FakeVhostBackend>();
//   FakeVhostBackend& fake = *owned;          // stays valid while the owner lives
//   auto pair = TRY(VhostNetPair::Create("q0", std::move(owned), table));
//   CHECK(fake.calls == std::vector<std::string>{"SET_OWNER", "GET_FEATURES", ...});
#pragma once

#include <linux/virtio_config.h>

#include "devices/virtio/virtio_ring.h"  // Before <linux/vhost_types.h>, which includes it.
#define class class_  // NOLINT: <linux/virtio_net.h> names a struct member `class`.
#include <linux/virtio_net.h>
#undef class
#include <linux/vhost_types.h>

#include <array>
#include <bit>
#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "devices/virtio/vhost/vhost_backend.h"
#include "vmm/base/format.h"

namespace mini_vmm::testing {

class FakeVhostBackend final : public virtio::vhost::VhostBackend {
 public:
  struct Ring {
    uint32_t num = 0;
    uint16_t base = 0;
    virtio::vhost::VringHostAddresses addr;
    int kick = -1;
    int call = -1;
    int err = -1;
    int backend = -1;
  };

  // What vhost-net offers (drivers/vhost/net.c VHOST_NET_FEATURES, less
  // ACCESS_PLATFORM): the ring features, MRG_RXBUF, and its own two bits.
  uint64_t offered_features =
      (uint64_t{1} << VIRTIO_F_VERSION_1) | (uint64_t{1} << VIRTIO_RING_F_EVENT_IDX) |
      (uint64_t{1} << VIRTIO_RING_F_INDIRECT_DESC) | (uint64_t{1} << VIRTIO_NET_F_MRG_RXBUF) |
      (uint64_t{1} << VHOST_F_LOG_ALL) | (uint64_t{1} << VHOST_NET_F_VIRTIO_NET_HDR);
  // The call named here ("SET_MEM_TABLE", "NET_SET_BACKEND", ...) fails.
  std::string fail_call;
  int fail_errno = ENOMEM;

  std::vector<std::string> calls;
  bool owner = false;
  std::optional<uint64_t> features;
  std::vector<virtio::vhost::VhostMemoryRegion> table;
  int table_pushes = 0;
  std::array<Ring, 2> rings{};

  Result<void> SetOwner() override {
    calls.push_back("SET_OWNER");
    if (owner) return Fail("SET_OWNER", EBUSY);
    if (fail_call == "SET_OWNER") return Fail("SET_OWNER", fail_errno);
    owner = true;
    return {};
  }
  Result<uint64_t> GetFeatures() override {
    TRY(Record("GET_FEATURES"));
    return offered_features;
  }
  Result<void> SetFeatures(uint64_t value) override {
    TRY(Record(Format("SET_FEATURES {:#x}", value), "SET_FEATURES"));
    if ((value & ~offered_features) != 0) return Fail("SET_FEATURES", EOPNOTSUPP);
    features = value;
    return {};
  }
  Result<void> SetMemTable(std::span<const virtio::vhost::VhostMemoryRegion> regions) override {
    TRY(Record(Format("SET_MEM_TABLE {}", regions.size()), "SET_MEM_TABLE"));
    table.assign(regions.begin(), regions.end());
    ++table_pushes;
    return {};
  }
  Result<void> SetVringNum(uint32_t ring, uint32_t size) override {
    TRY(RecordRing(Format("SET_VRING_NUM {} {}", ring, size), "SET_VRING_NUM", ring, true));
    if (size == 0 || size > 32768 || !std::has_single_bit(size)) return Fail("num", EINVAL);
    rings[ring].num = size;
    return {};
  }
  Result<void> SetVringAddr(uint32_t ring, const virtio::vhost::VringHostAddresses& a) override {
    TRY(RecordRing(Format("SET_VRING_ADDR {}", ring), "SET_VRING_ADDR", ring, true));
    rings[ring].addr = a;
    return {};
  }
  Result<void> SetVringBase(uint32_t ring, uint16_t next_avail) override {
    TRY(RecordRing(Format("SET_VRING_BASE {} {}", ring, next_avail), "SET_VRING_BASE", ring, true));
    rings[ring].base = next_avail;
    return {};
  }
  Result<uint16_t> GetVringBase(uint32_t ring) override {
    TRY(RecordRing(Format("GET_VRING_BASE {}", ring), "GET_VRING_BASE", ring, false));
    return rings[ring].base;
  }
  Result<void> SetVringKick(uint32_t ring, int fd) override {
    return SetFile("SET_VRING_KICK", ring, fd, &Ring::kick);
  }
  Result<void> SetVringCall(uint32_t ring, int fd) override {
    return SetFile("SET_VRING_CALL", ring, fd, &Ring::call);
  }
  Result<void> SetVringErr(uint32_t ring, int fd) override {
    return SetFile("SET_VRING_ERR", ring, fd, &Ring::err);
  }
  Result<void> NetSetBackend(uint32_t ring, int fd) override {
    return SetFile("NET_SET_BACKEND", ring, fd, &Ring::backend);
  }

  // The calls whose name starts with `prefix`, in order.
  std::vector<std::string> CallsStartingWith(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const std::string& call : calls) {
      if (call.rfind(prefix, 0) == 0) out.push_back(call);
    }
    return out;
  }

 private:
  static Error Fail(const std::string& what, int err) { return Error::Errno(err, "fake {}", what); }

  Result<void> Record(const std::string& call, const std::string& name = "") {
    calls.push_back(call);
    const std::string key = name.empty() ? call : name;
    if (!owner) return Fail(key, EPERM);
    if (key == fail_call) return Fail(key, fail_errno);
    return {};
  }
  Result<void> RecordRing(const std::string& call, const std::string& name, uint32_t ring,
                          bool busy_if_attached) {
    TRY(Record(call, name));
    if (ring >= rings.size()) return Fail(name, ENOBUFS);
    if (busy_if_attached && rings[ring].backend >= 0) return Fail(name, EBUSY);
    return {};
  }
  Result<void> SetFile(const std::string& name, uint32_t ring, int fd, int Ring::*field) {
    TRY(RecordRing(Format("{} {} {}", name, ring, fd < 0 ? "-1" : "fd"), name, ring, false));
    rings[ring].*field = fd;
    return {};
  }
};

}  // namespace mini_vmm::testing
