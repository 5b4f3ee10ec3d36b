#include "vmm/kvm/kvm.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <memory>

#include "vmm/kvm/kvm_abi.h"

namespace mini_vmm::kvm {
namespace {

constexpr int kKvmApiVersion = 12;
// Upper bound for KVM_GET_SUPPORTED_CPUID; KVM answers E2BIG when it is too
// small, and real CPUs report fewer than 100 leaves.
constexpr size_t kMaxCpuidEntries = 256;
constexpr size_t kMaxMsrIndices = 1024;

Error OpenError(int err, const std::string& path) {
  switch (err) {
    case ENOENT:
      return Error::Errno(err,
                          "cannot open {} (load kvm_intel or kvm_amd, or run on a host with "
                          "hardware virtualization; scripts/nested runs mini-vmm inside a "
                          "nested VM)",
                          path);
    case EACCES:
    case EPERM:
      return Error::Errno(err,
                          "cannot open {} (give your user access: usermod -aG kvm $USER, then "
                          "log in again)",
                          path);
    default:
      return Error::Errno(err, "cannot open {}", path);
  }
}

}  // namespace

std::vector<Capability> RequiredCapabilities() {
  return {
      {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
      {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
      {KVM_CAP_HLT, "KVM_CAP_HLT"},
      {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
      {KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR"},
      {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
      {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
      {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
      {KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
      {KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING"},
      {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
      {KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE"},
  };
}

Result<Kvm> Kvm::Open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return OpenError(errno, path);

  const int version = ::ioctl(fd.get(), KVM_GET_API_VERSION, 0);
  if (version < 0) return Error::Errno(errno, "{} is not a KVM device", path);
  if (version != kKvmApiVersion) {
    return Error::Invalid("{} speaks KVM API version {}, mini-vmm needs {}", path, version,
                          kKvmApiVersion);
  }
  for (const Capability& cap : RequiredCapabilities()) {
    if (::ioctl(fd.get(), KVM_CHECK_EXTENSION, cap.id) <= 0) {
      return Error::Invalid(
          "this host's KVM lacks {}, which mini-vmm needs (a newer kernel has it)", cap.name);
    }
  }
  const int mmap_size = ::ioctl(fd.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (mmap_size < static_cast<int>(sizeof(kvm_run))) {
    return Error::Errno(errno, "KVM_GET_VCPU_MMAP_SIZE failed on {}", path);
  }
  int max_vcpus = ::ioctl(fd.get(), KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
  if (max_vcpus <= 0) max_vcpus = ::ioctl(fd.get(), KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
  if (max_vcpus <= 0) max_vcpus = 4;  // KVM's documented default when neither cap exists.
  return Kvm(std::move(fd), static_cast<size_t>(mmap_size), max_vcpus);
}

int Kvm::CheckExtension(long capability) const noexcept {
  const int r = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, capability);
  return r < 0 ? 0 : r;
}

Result<std::vector<kvm_cpuid_entry2>> Kvm::GetSupportedCpuid() const {
  abi::FlexBuffer<abi::Cpuid2Header, kvm_cpuid_entry2> buffer(kMaxCpuidEntries);
  buffer.header()->nent = kMaxCpuidEntries;
  if (::ioctl(fd_.get(), abi::kGetSupportedCpuid, buffer.data()) < 0) {
    return Error::Errno(errno, "KVM_GET_SUPPORTED_CPUID failed");
  }
  return std::vector<kvm_cpuid_entry2>(buffer.entries(), buffer.entries() + buffer.header()->nent);
}

Result<std::vector<uint32_t>> Kvm::GetMsrIndexList() const {
  abi::FlexBuffer<abi::MsrListHeader, uint32_t> buffer(kMaxMsrIndices);
  buffer.header()->nmsrs = kMaxMsrIndices;
  if (::ioctl(fd_.get(), abi::kGetMsrIndexList, buffer.data()) < 0) {
    return Error::Errno(errno, "KVM_GET_MSR_INDEX_LIST failed");
  }
  return std::vector<uint32_t>(buffer.entries(), buffer.entries() + buffer.header()->nmsrs);
}

Result<Vm> Kvm::CreateVm() const {
  int vm_fd = -1;
  do {
    // KVM_CREATE_VM can fail with EINTR while the kernel sets up the MMU.
    vm_fd = ::ioctl(fd_.get(), KVM_CREATE_VM, 0);
  } while (vm_fd < 0 && errno == EINTR);
  if (vm_fd < 0) return Error::Errno(errno, "cannot create a KVM virtual machine");
  return Vm(UniqueFd(vm_fd), vcpu_mmap_size_);
}

}  // namespace mini_vmm::kvm
