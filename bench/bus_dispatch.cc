// bench/bus_dispatch: the cost of dispatching one port-I/O or MMIO exit
// through a devices::Bus, without KVM: what every trapped guest access pays
// in mini-vmm on top of KVM's own exit. Not a test.
//
//   build/release/bench/bus_dispatch [--accesses N] [--rounds R]
//
// The bus holds the ranges a mini-vmm guest has on its port-I/O bus (COM1,
// i8042, RTC, ACPI PM, reset control, boot marker, ...); each round times N
// one-byte reads and N writes spread over them, and the median round is
// reported in nanoseconds per access.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "devices/bus/bus.h"

namespace {

using mini_vmm::devices::Bus;
using mini_vmm::devices::BusDevice;
using mini_vmm::devices::IoAccess;

class Sink final : public BusDevice {
 public:
  std::string_view name() const override { return "sink"; }
  void Read(const IoAccess& access, std::span<uint8_t> data) noexcept override {
    data[0] = static_cast<uint8_t>(access.offset);
  }
  void Write(const IoAccess& access, std::span<const uint8_t> data) noexcept override {
    last_ = static_cast<uint8_t>(data[0] + access.offset);
  }
  uint8_t last() const { return last_; }

 private:
  uint8_t last_ = 0;
};

struct Port {
  uint64_t base;
  uint64_t len;
};
// The port map of a mini-vmm guest.
constexpr std::array<Port, 9> kPorts = {{{0x60, 1}, {0x64, 1}, {0x70, 2}, {0x3f0, 1},
                                         {0x3f8, 8}, {0x600, 8}, {0xcf9, 1}, {0x2f8, 8},
                                         {0x80, 1}}};

double RoundNs(const Bus& bus, uint64_t accesses, uint32_t* checksum) {
  std::array<uint8_t, 1> byte{};
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < accesses; ++i) {
    const Port& p = kPorts[i % kPorts.size()];
    if (!bus.Read(p.base, byte, 0)) std::abort();
    *checksum += byte[0];
    if (!bus.Write(p.base, byte, 0)) std::abort();
  }
  const auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start);
  return ns.count() / static_cast<double>(2 * accesses);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t accesses = 5'000'000;
  int rounds = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--accesses") == 0) accesses = std::strtoull(argv[i + 1], nullptr, 0);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
  }
  Bus bus("port I/O");
  auto sink = std::make_shared<Sink>();
  for (const Port& p : kPorts) {
    if (!bus.Insert(sink, p.base, p.len).ok()) return 1;
  }
  uint32_t checksum = 0;
  std::vector<double> ns;
  for (int r = 0; r < rounds; ++r) ns.push_back(RoundNs(bus, accesses, &checksum));
  std::sort(ns.begin(), ns.end());
  std::printf("bus dispatch: median %.1f ns per access (min %.1f, max %.1f; %d rounds of %llu"
              " reads + writes; checksum %u)\n",
              ns[ns.size() / 2], ns.front(), ns.back(), rounds,
              static_cast<unsigned long long>(accesses), checksum + sink->last());
  return 0;
}
