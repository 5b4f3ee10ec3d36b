#include "vmm/runtime/runnable_vcpu.h"

#include "arch/x86_64/crash_dump.h"
#include "arch/x86_64/parked_vcpu.h"

namespace mini_vmm {

Result<bool> KvmVcpu::IsParked() const { return arch::x86_64::IsVcpuParked(vcpu_); }

std::string KvmVcpu::Describe(const GuestMemory& memory) const {
  return arch::x86_64::DescribeVcpu(vcpu_, memory);
}

Result<arch::x86_64::GuestCode> KvmVcpu::CodeAtPc(const GuestMemory& memory) const {
  return arch::x86_64::ReadCodeAtPc(vcpu_, memory);
}

}  // namespace mini_vmm
