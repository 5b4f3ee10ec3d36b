#include "arch/x86_64/cpuid.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace mini_vmm::arch::x86_64 {
namespace {

constexpr uint32_t kEcxTscDeadline = 1u << 24;
constexpr uint32_t kEcxHypervisor = 1u << 31;
constexpr uint32_t kEcxSse3 = 1u << 0;
constexpr uint32_t kEdxHtt = 1u << 28;
constexpr uint32_t kEdxFpu = 1u << 0;
constexpr uint32_t kKvmSignature = 0x40000000;

kvm_cpuid_entry2 Leaf(uint32_t function, uint32_t index, uint32_t eax, uint32_t ebx, uint32_t ecx,
                      uint32_t edx) {
  kvm_cpuid_entry2 e{};
  e.function = function;
  e.index = index;
  e.eax = eax;
  e.ebx = ebx;
  e.ecx = ecx;
  e.edx = edx;
  return e;
}

// What KVM_GET_SUPPORTED_CPUID might say on an Intel host without the KVM
// leaves: leaf 1 with HTT already set (the host has SMT), two cache leaves
// and the sentinel, three topology subleaves, and AMD's 0x80000008.
std::vector<kvm_cpuid_entry2> FakeSupported() {
  return {
      Leaf(0x0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69),
      Leaf(0x1, 0, 0x000906ea, 0x12345678, kEcxSse3, kEdxFpu | kEdxHtt),
      Leaf(0x4, 0, 0xfc004121, 0x01c0003f, 0x3f, 0),
      Leaf(0x4, 1, 0x00004122, 0x01c0003f, 0x3f, 0),
      Leaf(0x4, 4, 0, 0, 0, 0),
      Leaf(0xb, 0, 0x1, 0x2, 0x100, 0x7),
      Leaf(0xb, 1, 0x4, 0x10, 0x201, 0x7),
      Leaf(0xb, 2, 0, 0, 0x2, 0x7),
      Leaf(0x80000008, 0, 0x3027, 0, 0xdeadbeef, 0),
  };
}

const kvm_cpuid_entry2& Find(const std::vector<kvm_cpuid_entry2>& entries, uint32_t function,
                             uint32_t index = 0) {
  auto it = std::find_if(entries.begin(), entries.end(), [&](const kvm_cpuid_entry2& e) {
    return e.function == function && e.index == index;
  });
  REQUIRE(it != entries.end());
  return *it;
}

size_t CountLeaves(const std::vector<kvm_cpuid_entry2>& entries, uint32_t function) {
  return static_cast<size_t>(
      std::count_if(entries.begin(), entries.end(),
                    [&](const kvm_cpuid_entry2& e) { return e.function == function; }));
}

std::string Signature(const kvm_cpuid_entry2& e) {
  char text[12];
  std::memcpy(text, &e.ebx, 4);
  std::memcpy(text + 4, &e.ecx, 4);
  std::memcpy(text + 8, &e.edx, 4);
  return std::string(text, sizeof(text));
}

std::vector<kvm_cpuid_entry2> Build(const CpuidOptions& options) {
  const std::vector<kvm_cpuid_entry2> supported = FakeSupported();
  return BuildCpuid(supported, options);
}

// --- Leaf 1 -------------------------------------------------------------------

TEST_CASE("Leaf 1 advertises a hypervisor and keeps the supported features") {
  auto cpuid = Build({});

  const auto& leaf = Find(cpuid, 0x1);
  CHECK((leaf.ecx & kEcxHypervisor) != 0);
  CHECK((leaf.ecx & kEcxSse3) != 0);
  CHECK((leaf.edx & kEdxFpu) != 0);
  CHECK(leaf.eax == 0x000906ea);
}

TEST_CASE("Leaf 1 advertises TSC-deadline when asked") {
  auto cpuid = Build({.tsc_deadline = true});

  CHECK((Find(cpuid, 0x1).ecx & kEcxTscDeadline) != 0);
}

TEST_CASE("Leaf 1 does not advertise TSC-deadline unless asked") {
  auto cpuid = Build({.tsc_deadline = false});

  CHECK((Find(cpuid, 0x1).ecx & kEcxTscDeadline) == 0);
}

TEST_CASE("Leaf 1 clears a TSC-deadline bit KVM reported unless asked") {
  // KVM_GET_SUPPORTED_CPUID on a Linux 6.18 host reports leaf 1 ECX =
  // 0x81202000: TSC-deadline already set.
  std::vector<kvm_cpuid_entry2> supported = FakeSupported();
  supported[1].ecx |= kEcxTscDeadline;

  auto cpuid = BuildCpuid(supported, {.tsc_deadline = false});

  CHECK((Find(cpuid, 0x1).ecx & kEcxTscDeadline) == 0);
}

TEST_CASE("Leaf 1 EBX carries the vCPU's APIC ID in bits 31:24") {
  auto cpuid = Build({.cpu_index = 5, .num_cpus = 8});

  CHECK((Find(cpuid, 0x1).ebx >> 24) == 5);
}

TEST_CASE("Leaf 1 EBX carries the CLFLUSH line size of 8 quadwords") {
  auto cpuid = Build({});

  CHECK(((Find(cpuid, 0x1).ebx >> 8) & 0xff) == 8);
}

TEST_CASE("Leaf 1 sets HTT and a power-of-two logical count for several vCPUs") {
  auto cpuid = Build({.cpu_index = 0, .num_cpus = 3});

  const auto& leaf = Find(cpuid, 0x1);
  CHECK((leaf.edx & kEdxHtt) != 0);
  CHECK(((leaf.ebx >> 16) & 0xff) == 4);
}

TEST_CASE("Leaf 1 clears the host's HTT for a single vCPU") {
  auto cpuid = Build({.cpu_index = 0, .num_cpus = 1});

  const auto& leaf = Find(cpuid, 0x1);
  CHECK((leaf.edx & kEdxHtt) == 0);
  CHECK(((leaf.ebx >> 16) & 0xff) == 1);
}

// --- Leaf 4 -------------------------------------------------------------------

TEST_CASE("Leaf 4 EAX[31:26] says num_cpus - 1 cores and keeps the cache description") {
  auto cpuid = Build({.num_cpus = 4});

  const auto& leaf = Find(cpuid, 0x4, 0);
  CHECK((leaf.eax >> 26) == 3);
  CHECK((leaf.eax & 0x03ffffff) == (0xfc004121u & 0x03ffffff));
}

TEST_CASE("Leaf 4's null subleaf that ends the cache list stays null") {
  auto cpuid = Build({.num_cpus = 4});

  CHECK(Find(cpuid, 0x4, 4).eax == 0);
}

// --- Leaf 0xB -----------------------------------------------------------------

TEST_CASE("Leaf 0xB subleaf 0 is the SMT level with one thread per core") {
  auto cpuid = Build({.cpu_index = 2, .num_cpus = 4});

  const auto& leaf = Find(cpuid, 0xb, 0);
  CHECK(leaf.eax == 0);
  CHECK(leaf.ebx == 1);
  CHECK(leaf.ecx == 0x100);
  CHECK(leaf.edx == 2);
}

TEST_CASE("Leaf 0xB subleaf 1 is the core level holding every vCPU") {
  auto cpuid = Build({.cpu_index = 2, .num_cpus = 5});

  const auto& leaf = Find(cpuid, 0xb, 1);
  CHECK(leaf.eax == 3);  // bits to shift the x2APIC ID right: ceil(log2(5))
  CHECK(leaf.ebx == 5);
  CHECK(leaf.ecx == 0x201);
  CHECK(leaf.edx == 2);
}

TEST_CASE("Leaf 0xB subleaf 2 is invalid and ends the enumeration") {
  auto cpuid = Build({.cpu_index = 2, .num_cpus = 4});

  const auto& leaf = Find(cpuid, 0xb, 2);
  CHECK(leaf.eax == 0);
  CHECK(leaf.ebx == 0);
  CHECK(leaf.ecx == 2);
  CHECK(leaf.edx == 2);
}

// --- KVM leaves ---------------------------------------------------------------

TEST_CASE("The KVM signature leaf is added when KVM did not report it") {
  auto cpuid = Build({});

  REQUIRE(CountLeaves(cpuid, kKvmSignature) == 1);
  const auto& leaf = Find(cpuid, kKvmSignature);
  CHECK(Signature(leaf) == std::string("KVMKVMKVM\0\0\0", 12));
  CHECK(leaf.eax == 0x40000001);
}

TEST_CASE("A reported KVM signature leaf is kept once, with its signature and max leaf") {
  std::vector<kvm_cpuid_entry2> supported = FakeSupported();
  supported.push_back(Leaf(kKvmSignature, 0, 0x40000010, 0, 0, 0));

  auto cpuid = BuildCpuid(supported, {});

  REQUIRE(CountLeaves(cpuid, kKvmSignature) == 1);
  const auto& leaf = Find(cpuid, kKvmSignature);
  CHECK(Signature(leaf) == std::string("KVMKVMKVM\0\0\0", 12));
  CHECK(leaf.eax == 0x40000010);
}

// --- AMD leaves ---------------------------------------------------------------

TEST_CASE("Leaf 0x80000008 ECX gives NC = num_cpus - 1 and the APIC ID core bits") {
  auto cpuid = Build({.num_cpus = 4});

  const auto& leaf = Find(cpuid, 0x80000008);
  CHECK((leaf.ecx & 0xff) == 3);
  CHECK(((leaf.ecx >> 12) & 0xf) == 2);
  CHECK(leaf.eax == 0x3027);  // Address sizes untouched.
}

TEST_CASE("Leaf 0x8000001E carries the vCPU's extended APIC ID and core ID") {
  std::vector<kvm_cpuid_entry2> supported = FakeSupported();
  supported.push_back(Leaf(0x8000001e, 0, 0xff, 0xff, 0xff, 0));

  auto cpuid = BuildCpuid(supported, {.cpu_index = 3, .num_cpus = 4});

  const auto& leaf = Find(cpuid, 0x8000001e);
  CHECK(leaf.eax == 3);
  CHECK(leaf.ebx == 3);
  CHECK(leaf.ecx == 0);
}

TEST_CASE("Leaves BuildCpuid does not know are passed through unchanged") {
  auto cpuid = Build({.cpu_index = 1, .num_cpus = 2});

  const auto& leaf = Find(cpuid, 0x0);
  CHECK(leaf.eax == 0xd);
  CHECK(leaf.ebx == 0x756e6547);
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
