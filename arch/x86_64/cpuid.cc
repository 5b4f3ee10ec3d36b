#include "arch/x86_64/cpuid.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace mini_vmm::arch::x86_64 {
namespace {

// Leaf 1.
constexpr uint32_t kLeafFeatures = 0x1;
constexpr uint32_t kEcxTscDeadline = 1u << 24;
constexpr uint32_t kEcxHypervisor = 1u << 31;
constexpr uint32_t kEdxHtt = 1u << 28;
// Leaf 4 (Intel deterministic cache parameters): EAX[31:26] = cores - 1.
constexpr uint32_t kLeafCacheParams = 0x4;
// Leaves 0xB and 0x1F (extended topology).
constexpr uint32_t kLeafTopology = 0xb;
constexpr uint32_t kLeafTopologyV2 = 0x1f;
constexpr uint32_t kTopologyLevelSmt = 1;
constexpr uint32_t kTopologyLevelCore = 2;
// KVM paravirtual leaves.
constexpr uint32_t kLeafKvmSignature = 0x40000000;
constexpr uint32_t kLeafKvmFeatures = 0x40000001;
// AMD: 0x80000008 ECX = NC and ApicIdCoreIdSize; 0x8000001E = topology ext.
constexpr uint32_t kLeafAmdAddressSizes = 0x80000008;
constexpr uint32_t kLeafAmdTopologyExt = 0x8000001e;

uint32_t CoreIdBits(uint32_t num_cpus) {
  return num_cpus <= 1 ? 0 : static_cast<uint32_t>(std::bit_width(num_cpus - 1));
}

void SetFeatureLeaf(kvm_cpuid_entry2& e, const CpuidOptions& o) {
  e.ecx |= kEcxHypervisor;
  e.ecx = o.tsc_deadline ? (e.ecx | kEcxTscDeadline) : (e.ecx & ~kEcxTscDeadline);
  // EBX[31:24] initial APIC ID, [23:16] addressable logical processors,
  // [15:8] CLFLUSH line size in quadwords.
  const uint32_t logical = std::min<uint32_t>(std::bit_ceil(o.num_cpus), 255);
  e.ebx = (o.cpu_index << 24) | (logical << 16) | (8u << 8);
  if (o.num_cpus > 1) {
    e.edx |= kEdxHtt;
  } else {
    e.edx &= ~kEdxHtt;
  }
}

void SetTopologyLeaf(kvm_cpuid_entry2& e, const CpuidOptions& o) {
  e.edx = o.cpu_index;  // x2APIC ID, on every subleaf.
  switch (e.index) {
    case 0:  // SMT level: one thread per core.
      e.eax = 0;
      e.ebx = 1;
      e.ecx = (kTopologyLevelSmt << 8) | 0;
      break;
    case 1:  // Core level: all vCPUs in one package.
      e.eax = CoreIdBits(o.num_cpus);
      e.ebx = o.num_cpus;
      e.ecx = (kTopologyLevelCore << 8) | 1;
      break;
    default:  // Invalid level ends the enumeration.
      e.eax = 0;
      e.ebx = 0;
      e.ecx = e.index;
      break;
  }
}

void SetKvmSignature(kvm_cpuid_entry2& e) {
  // "KVMKVMKVM\0\0\0" in EBX, ECX, EDX: Linux then uses kvm-clock and the
  // other paravirtual features of leaf 0x40000001.
  constexpr char kSignature[12] = {'K', 'V', 'M', 'K', 'V', 'M', 'K', 'V', 'M', 0, 0, 0};
  std::memcpy(&e.ebx, kSignature, 4);
  std::memcpy(&e.ecx, kSignature + 4, 4);
  std::memcpy(&e.edx, kSignature + 8, 4);
  e.eax = std::max(e.eax, kLeafKvmFeatures);
}

void Adjust(kvm_cpuid_entry2& e, const CpuidOptions& o) {
  switch (e.function) {
    case kLeafFeatures:
      SetFeatureLeaf(e, o);
      break;
    case kLeafCacheParams:
      if (e.eax != 0) e.eax = (e.eax & 0x03ffffff) | ((o.num_cpus - 1) << 26);
      break;
    case kLeafTopology:
    case kLeafTopologyV2:
      SetTopologyLeaf(e, o);
      break;
    case kLeafKvmSignature:
      SetKvmSignature(e);
      break;
    case kLeafAmdAddressSizes:
      e.ecx = (CoreIdBits(o.num_cpus) << 12) | (o.num_cpus - 1);
      break;
    case kLeafAmdTopologyExt:
      e.eax = o.cpu_index;  // Extended APIC ID.
      e.ebx = o.cpu_index;  // Core ID; ThreadsPerCore - 1 = 0.
      e.ecx = 0;            // Node 0, one node per package.
      break;
    default:
      break;
  }
}

// KVM may report fewer topology subleaves than the guest needs (often just
// subleaf 0): replace them with SMT, core and the terminating invalid level.
void ExpandTopologyLeaf(std::vector<kvm_cpuid_entry2>& entries, uint32_t function) {
  const auto is_leaf = [function](const kvm_cpuid_entry2& e) { return e.function == function; };
  if (std::none_of(entries.begin(), entries.end(), is_leaf)) return;
  std::erase_if(entries, is_leaf);
  for (uint32_t index = 0; index < 3; ++index) {
    kvm_cpuid_entry2 e{};
    e.function = function;
    e.index = index;
    e.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    entries.push_back(e);
  }
}

}  // namespace

std::vector<kvm_cpuid_entry2> BuildCpuid(std::span<const kvm_cpuid_entry2> supported,
                                         const CpuidOptions& options) {
  std::vector<kvm_cpuid_entry2> entries(supported.begin(), supported.end());
  ExpandTopologyLeaf(entries, kLeafTopology);
  ExpandTopologyLeaf(entries, kLeafTopologyV2);
  const bool has_kvm_leaf = std::any_of(entries.begin(), entries.end(), [](const auto& e) {
    return e.function == kLeafKvmSignature;
  });
  if (!has_kvm_leaf) {
    kvm_cpuid_entry2 signature{};
    signature.function = kLeafKvmSignature;
    entries.push_back(signature);
  }
  for (kvm_cpuid_entry2& e : entries) Adjust(e, options);
  return entries;
}

}  // namespace mini_vmm::arch::x86_64
