// kvm_abi.h re-declares the KVM structs that end in a flexible array with
// the kernel's C layout, because linux-libc-dev 6.1's __DECLARE_FLEX_ARRAY
// gives them a different size and layout in C++. These tests pin the ioctl
// numbers and the buffer layout to what the kernel expects. No /dev/kvm.
#include "vmm/kvm/kvm_abi.h"

#include <catch2/catch.hpp>
#include <cstdint>

namespace mini_vmm::kvm::abi {
namespace {

constexpr unsigned kReadWrite = _IOC_READ | _IOC_WRITE;

TEST_CASE("kGetSupportedCpuid is _IOWR(KVMIO, 0x05) of the kernel's 8-byte kvm_cpuid2") {
  const unsigned long request = kGetSupportedCpuid;

  CHECK(_IOC_TYPE(request) == KVMIO);
  CHECK(_IOC_NR(request) == 0x05);
  CHECK(_IOC_DIR(request) == kReadWrite);
  CHECK(_IOC_SIZE(request) == 8);
}

TEST_CASE("kSetCpuid2 is _IOW(KVMIO, 0x90) of the kernel's 8-byte kvm_cpuid2") {
  const unsigned long request = kSetCpuid2;

  CHECK(_IOC_TYPE(request) == KVMIO);
  CHECK(_IOC_NR(request) == 0x90);
  CHECK(_IOC_DIR(request) == _IOC_WRITE);
  CHECK(_IOC_SIZE(request) == 8);
}

TEST_CASE("kGetMsrIndexList is _IOWR(KVMIO, 0x02) of the kernel's 4-byte kvm_msr_list") {
  const unsigned long request = kGetMsrIndexList;

  CHECK(_IOC_TYPE(request) == KVMIO);
  CHECK(_IOC_NR(request) == 0x02);
  CHECK(_IOC_DIR(request) == kReadWrite);
  CHECK(_IOC_SIZE(request) == 4);
}

TEST_CASE("kGetMsrs and kSetMsrs are KVMIO 0x88/0x89 of the kernel's 8-byte kvm_msrs") {
  const unsigned long get = kGetMsrs;
  const unsigned long set = kSetMsrs;

  CHECK(_IOC_NR(get) == 0x88);
  CHECK(_IOC_DIR(get) == kReadWrite);
  CHECK(_IOC_SIZE(get) == 8);
  CHECK(_IOC_NR(set) == 0x89);
  CHECK(_IOC_DIR(set) == _IOC_WRITE);
  CHECK(_IOC_SIZE(set) == 8);
}

TEST_CASE("kSetGsiRouting is _IOW(KVMIO, 0x6a) of the kernel's 8-byte kvm_irq_routing") {
  const unsigned long request = kSetGsiRouting;

  CHECK(_IOC_TYPE(request) == KVMIO);
  CHECK(_IOC_NR(request) == 0x6a);
  CHECK(_IOC_DIR(request) == _IOC_WRITE);
  CHECK(_IOC_SIZE(request) == 8);
}

TEST_CASE("A FlexBuffer's entries start right after an 8-byte header, as in kvm_cpuid2") {
  FlexBuffer<Cpuid2Header, kvm_cpuid_entry2> buffer(3);

  const auto offset =
      reinterpret_cast<uint8_t*>(buffer.entries()) - static_cast<uint8_t*>(buffer.data());

  CHECK(offset == 8);
}

TEST_CASE("A FlexBuffer's entries start right after a 4-byte header, as in kvm_msr_list") {
  FlexBuffer<MsrListHeader, uint32_t> buffer(3);

  const auto offset =
      reinterpret_cast<uint8_t*>(buffer.entries()) - static_cast<uint8_t*>(buffer.data());

  CHECK(offset == 4);
}

TEST_CASE("A FlexBuffer starts zeroed, header and entries") {
  FlexBuffer<MsrsHeader, kvm_msr_entry> buffer(2);

  CHECK(buffer.header()->nmsrs == 0);
  CHECK(buffer.header()->pad == 0);
  CHECK(buffer.entries()[1].index == 0);
  CHECK(buffer.entries()[1].data == 0);
}

}  // namespace
}  // namespace mini_vmm::kvm::abi
