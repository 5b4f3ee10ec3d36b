// C++-correct layouts for the KVM structs that end in a flexible array.
//
// linux-libc-dev 6.1 declares those arrays with __DECLARE_FLEX_ARRAY, whose
// C++ expansion holds an empty struct: in C++ that struct has size 1, so
// sizeof(kvm_cpuid2) is 12 instead of 8 and `entries` moves to offset 12.
// Both the layout and the ioctl numbers (which encode the size) then differ
// from the kernel's, and the kernel rejects the ioctl with EINVAL. So for
// these few ioctls mini-vmm uses headers with the kernel's C layout and
// ioctl numbers computed from them. Array elements (kvm_cpuid_entry2,
// kvm_msr_entry, kvm_irq_routing_entry) are fixed-size and come from
// <linux/kvm.h> unchanged.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <memory>

namespace mini_vmm::kvm::abi {

struct Cpuid2Header {  // struct kvm_cpuid2
  uint32_t nent;
  uint32_t padding;
};
static_assert(sizeof(Cpuid2Header) == 8);

struct MsrsHeader {  // struct kvm_msrs
  uint32_t nmsrs;
  uint32_t pad;
};
static_assert(sizeof(MsrsHeader) == 8);

struct MsrListHeader {  // struct kvm_msr_list
  uint32_t nmsrs;
};
static_assert(sizeof(MsrListHeader) == 4);

struct IrqRoutingHeader {  // struct kvm_irq_routing
  uint32_t nr;
  uint32_t flags;
};
static_assert(sizeof(IrqRoutingHeader) == 8);

// The same numbers <linux/kvm.h> defines, with the C sizes.
inline constexpr unsigned long kGetMsrIndexList = _IOWR(KVMIO, 0x02, MsrListHeader);
inline constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, Cpuid2Header);
inline constexpr unsigned long kSetGsiRouting = _IOW(KVMIO, 0x6a, IrqRoutingHeader);
inline constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);
inline constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);
inline constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, Cpuid2Header);

// Storage for a header followed by `n` elements, 8-byte aligned and zeroed.
template <typename Header, typename Entry>
class FlexBuffer {
 public:
  explicit FlexBuffer(size_t n)
      : storage_(std::make_unique<uint64_t[]>((sizeof(Header) + n * sizeof(Entry) + 7) / 8)) {}
  Header* header() { return reinterpret_cast<Header*>(storage_.get()); }
  Entry* entries() {
    return reinterpret_cast<Entry*>(reinterpret_cast<uint8_t*>(storage_.get()) + sizeof(Header));
  }
  void* data() { return storage_.get(); }

 private:
  std::unique_ptr<uint64_t[]> storage_;
};

}  // namespace mini_vmm::kvm::abi
