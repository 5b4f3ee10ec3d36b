#include "arch/x86_64/vcpu_setup.h"

#include "arch/x86_64/cpuid.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/msrs.h"

namespace mini_vmm::arch::x86_64 {

Result<void> ConfigureVcpu(kvm::Vcpu& vcpu, const VcpuSetup& setup) {
  const auto cpuid =
      BuildCpuid(setup.supported_cpuid, CpuidOptions{.cpu_index = setup.index,
                                                     .num_cpus = setup.num_cpus,
                                                     .tsc_deadline = setup.tsc_deadline});
  TRY(vcpu.SetCpuid(cpuid));
  TRY(vcpu.SetMsrs(BootMsrs(setup.supported_msrs)));
  TRY(ConfigureLapic(vcpu));
  return {};
}

}  // namespace mini_vmm::arch::x86_64
