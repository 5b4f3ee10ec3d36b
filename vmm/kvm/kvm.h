// Kvm: the /dev/kvm system handle. Checks the API version and the
// capabilities mini-vmm relies on, and answers system-wide queries.
//
//   Kvm kvm = TRY(Kvm::Open());
//   Vm vm = TRY(kvm.CreateVm());
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <string>
#include <vector>

#include "vmm/base/result.h"
#include "vmm/base/unique_fd.h"
#include "vmm/kvm/vm.h"

namespace mini_vmm::kvm {

class Kvm {
 public:
  static constexpr const char* kDefaultPath = "/dev/kvm";

  // Opens `path`, checks KVM_GET_API_VERSION == 12 and every capability in
  // RequiredCapabilities(). Errors say what is wrong and how to fix it.
  static Result<Kvm> Open(const std::string& path = kDefaultPath);

  // KVM_CHECK_EXTENSION: 0 when unsupported, otherwise a capability value.
  int CheckExtension(long capability) const noexcept;

  Result<std::vector<kvm_cpuid_entry2>> GetSupportedCpuid() const;
  Result<std::vector<uint32_t>> GetMsrIndexList() const;
  Result<Vm> CreateVm() const;

  int max_vcpus() const { return max_vcpus_; }
  size_t vcpu_mmap_size() const { return vcpu_mmap_size_; }

 private:
  Kvm(UniqueFd fd, size_t vcpu_mmap_size, int max_vcpus)
      : fd_(std::move(fd)), vcpu_mmap_size_(vcpu_mmap_size), max_vcpus_(max_vcpus) {}

  UniqueFd fd_;
  size_t vcpu_mmap_size_;
  int max_vcpus_;
};

struct Capability {
  long id;
  const char* name;
};
// The capabilities Open() insists on.
std::vector<Capability> RequiredCapabilities();

}  // namespace mini_vmm::kvm
