#include "vmm/gdb/breakpoints.h"

#include <algorithm>

namespace mini_vmm::gdb {
namespace {

bool IsDebugRegisterLength(uint64_t length) {
  return length == 1 || length == 2 || length == 4 || length == 8;
}

HardwareBreakpoint::Kind KindOf(BreakpointType type) {
  switch (type) {
    case BreakpointType::kHardware:
      return HardwareBreakpoint::Kind::kExecute;
    case BreakpointType::kWriteWatch:
      return HardwareBreakpoint::Kind::kWrite;
    default:
      // x86 has no read-only data breakpoint (DR7 R/W 10 is I/O): a read
      // watchpoint is a read/write one, and gdb tells reads from writes by
      // whether the value changed.
      return HardwareBreakpoint::Kind::kReadWrite;
  }
}

}  // namespace

BreakpointStatus Breakpoints::Insert(BreakpointType type, uint64_t address, uint64_t length,
                                     VcpuIndex vcpu) {
  if (type == BreakpointType::kSoftware) {
    // gdb's x86 breakpoint kind is the length of int3: 1.
    if (length != 1) return BreakpointStatus::kInvalid;
    return InsertSoftware(address, vcpu);
  }
  return InsertHardware(type, address, length);
}

BreakpointStatus Breakpoints::Remove(BreakpointType type, uint64_t address, uint64_t length) {
  if (type == BreakpointType::kSoftware) return RemoveSoftware(address);
  return RemoveHardware(type, address, length);
}

Breakpoints::Software* Breakpoints::FindSoftware(uint64_t address) {
  auto it = std::find_if(software_.begin(), software_.end(),
                         [address](const Software& bp) { return bp.address == address; });
  return it == software_.end() ? nullptr : &*it;
}

bool Breakpoints::HasSoftware(uint64_t address) const {
  return std::any_of(software_.begin(), software_.end(),
                     [address](const Software& bp) { return bp.address == address; });
}

BreakpointStatus Breakpoints::InsertSoftware(uint64_t address, VcpuIndex vcpu) {
  if (FindSoftware(address) != nullptr) return BreakpointStatus::kOk;
  if (software_.size() >= kMaxSoftware) return BreakpointStatus::kNoSpace;
  std::optional<Translation> translation = target_.Translate(vcpu, address);
  if (!translation) return BreakpointStatus::kFault;
  // Two virtual aliases of one physical byte: the second would save the
  // first one's int3 as "original".
  const bool aliased = std::any_of(software_.begin(), software_.end(), [&](const Software& bp) {
    return bp.physical == translation->physical;
  });
  if (aliased) return BreakpointStatus::kInvalid;
  uint8_t original = 0;
  if (!target_.ReadPhysical(translation->physical, {&original, 1})) {
    return BreakpointStatus::kFault;
  }
  const uint8_t int3 = kInt3;
  if (!target_.WritePhysical(translation->physical, {&int3, 1})) return BreakpointStatus::kFault;
  software_.push_back({address, translation->physical, original, /*planted=*/true});
  return BreakpointStatus::kOk;
}

void Breakpoints::Restore(const Software& breakpoint) {
  if (!breakpoint.planted) return;
  uint8_t current = 0;
  if (!target_.ReadPhysical(breakpoint.physical, {&current, 1}) || current != kInt3) return;
  (void)target_.WritePhysical(breakpoint.physical, {&breakpoint.original, 1});
}

BreakpointStatus Breakpoints::RemoveSoftware(uint64_t address) {
  Software* breakpoint = FindSoftware(address);
  if (breakpoint == nullptr) return BreakpointStatus::kNotFound;
  Restore(*breakpoint);
  software_.erase(software_.begin() + (breakpoint - software_.data()));
  return BreakpointStatus::kOk;
}

void Breakpoints::Lift(uint64_t address) {
  Software* breakpoint = FindSoftware(address);
  if (breakpoint == nullptr) return;
  Restore(*breakpoint);
  breakpoint->planted = false;
}

void Breakpoints::Rearm(uint64_t address) {
  Software* breakpoint = FindSoftware(address);
  if (breakpoint == nullptr || breakpoint->planted) return;
  // The guest may have changed the byte while it was lifted (only the
  // stepped instruction ran, but that may be a store to itself).
  uint8_t current = 0;
  if (target_.ReadPhysical(breakpoint->physical, {&current, 1})) breakpoint->original = current;
  const uint8_t int3 = kInt3;
  breakpoint->planted = target_.WritePhysical(breakpoint->physical, {&int3, 1});
}

BreakpointStatus Breakpoints::InsertHardware(BreakpointType type, uint64_t address,
                                             uint64_t length) {
  if (type == BreakpointType::kHardware ? length != 1 : !IsDebugRegisterLength(length)) {
    return BreakpointStatus::kInvalid;
  }
  if (address % length != 0) return BreakpointStatus::kInvalid;
  const auto len = static_cast<uint8_t>(length);
  auto same = [&](const std::optional<Slot>& slot) {
    return slot && slot->type == type && slot->address == address && slot->length == len;
  };
  if (std::any_of(slots_.begin(), slots_.end(), same)) return BreakpointStatus::kOk;
  auto free_slot = std::find(slots_.begin(), slots_.end(), std::nullopt);
  if (free_slot == slots_.end()) return BreakpointStatus::kNoSpace;
  *free_slot = Slot{type, address, len};
  BreakpointStatus status = ApplySlots();
  if (status != BreakpointStatus::kOk) {
    *free_slot = std::nullopt;
    (void)ApplySlots();
  }
  return status;
}

BreakpointStatus Breakpoints::RemoveHardware(BreakpointType type, uint64_t address,
                                             uint64_t length) {
  auto same = [&](const std::optional<Slot>& slot) {
    return slot && slot->type == type && slot->address == address && slot->length == length;
  };
  auto it = std::find_if(slots_.begin(), slots_.end(), same);
  if (it == slots_.end()) return BreakpointStatus::kNotFound;
  *it = std::nullopt;
  return ApplySlots();
}

BreakpointStatus Breakpoints::ApplySlots() {
  HardwareBreakpoints hardware;
  for (size_t i = 0; i < kDebugRegisterCount; ++i) {
    if (slots_[i]) {
      hardware[i] =
          HardwareBreakpoint{KindOf(slots_[i]->type), slots_[i]->address, slots_[i]->length};
    }
  }
  return target_.SetHardwareBreakpoints(hardware).ok() ? BreakpointStatus::kOk
                                                       : BreakpointStatus::kTargetError;
}

void Breakpoints::RemoveAll() {
  for (const Software& breakpoint : software_) Restore(breakpoint);
  software_.clear();
  slots_.fill(std::nullopt);
  (void)ApplySlots();
}

void Breakpoints::HideInt3s(uint64_t physical, std::span<uint8_t> data) const {
  for (const Software& breakpoint : software_) {
    if (breakpoint.planted && breakpoint.physical >= physical &&
        breakpoint.physical - physical < data.size()) {
      data[breakpoint.physical - physical] = breakpoint.original;
    }
  }
}

void Breakpoints::AfterWrite(uint64_t physical, std::span<const uint8_t> data) {
  const uint8_t int3 = kInt3;
  for (Software& breakpoint : software_) {
    if (breakpoint.physical >= physical && breakpoint.physical - physical < data.size()) {
      breakpoint.original = data[breakpoint.physical - physical];
      if (breakpoint.planted) {
        breakpoint.planted = target_.WritePhysical(breakpoint.physical, {&int3, 1});
      }
    }
  }
}

}  // namespace mini_vmm::gdb
