// FakeGdbTarget: a gdb::Target with N vCPUs of plain register files, a
// small guest-physical memory and a 4 KiB-page "page table" the test fills
// in, recording what the stub asks of it (resumes, pauses, debug
// registers). No Catch2, so the gdb fuzzer links it too.
//
//   FakeGdbTarget target(/*vcpus=*/2);
//   target.Map(0xffffffff81000000, 0x1000);   // virtual page -> physical
//   target.registers[0].Set(gdb::Register::kRip, 0xffffffff81000000);
#pragma once

#include <cstring>
#include <map>
#include <vector>

#include "vmm/gdb/target.h"

namespace mini_vmm::testing {

class FakeGdbTarget final : public gdb::Target {
 public:
  static constexpr uint64_t kPageSize = 4096;
  static constexpr uint64_t kMemorySize = 16 * kPageSize;

  explicit FakeGdbTarget(uint32_t vcpus) : registers(vcpus), memory(kMemorySize, 0) {}

  // Maps the 4 KiB virtual page at `virtual_page` to `physical_page`.
  void Map(uint64_t virtual_page, uint64_t physical_page) { pages_[virtual_page] = physical_page; }

  uint32_t VcpuCount() const override { return static_cast<uint32_t>(registers.size()); }

  Result<void> ReadRegisters(gdb::VcpuIndex vcpu, gdb::RegisterFile& out) override {
    if (fail_registers) return Error::Invalid("fake: registers refused");
    out = registers.at(vcpu);
    return {};
  }
  Result<void> WriteRegisters(gdb::VcpuIndex vcpu, const gdb::RegisterFile& in) override {
    if (fail_registers) return Error::Invalid("fake: registers refused");
    registers.at(vcpu) = in;
    return {};
  }

  std::optional<gdb::Translation> Translate(gdb::VcpuIndex vcpu, uint64_t address) override {
    last_translate_vcpu = vcpu;
    auto it = pages_.find(address & ~(kPageSize - 1));
    if (it == pages_.end()) return std::nullopt;
    const uint64_t offset = address & (kPageSize - 1);
    return gdb::Translation{it->second + offset, kPageSize - offset};
  }

  bool ReadPhysical(uint64_t address, std::span<uint8_t> out) override {
    if (address > memory.size() || out.size() > memory.size() - address) return false;
    if (!out.empty()) std::memcpy(out.data(), memory.data() + address, out.size());
    return true;
  }
  bool WritePhysical(uint64_t address, std::span<const uint8_t> in) override {
    if (address > memory.size() || in.size() > memory.size() - address) return false;
    if (!in.empty()) std::memcpy(memory.data() + address, in.data(), in.size());
    return true;
  }

  Result<void> SetHardwareBreakpoints(const gdb::HardwareBreakpoints& breakpoints) override {
    if (fail_debug_registers) return Error::Invalid("fake: debug registers refused");
    hardware = breakpoints;
    ++hardware_updates;
    return {};
  }

  void Resume(std::span<const gdb::ResumeAction> actions) override {
    resumes.emplace_back(actions.begin(), actions.end());
  }
  void PauseAll() override { ++pauses; }
  void Detach() override { detached = true; }
  void Kill() override { killed = true; }

  std::vector<gdb::RegisterFile> registers;
  std::vector<uint8_t> memory;
  gdb::HardwareBreakpoints hardware;
  int hardware_updates = 0;
  std::vector<std::vector<gdb::ResumeAction>> resumes;
  int pauses = 0;
  gdb::VcpuIndex last_translate_vcpu = 0;
  bool detached = false;
  bool killed = false;
  bool fail_registers = false;
  bool fail_debug_registers = false;

 private:
  std::map<uint64_t, uint64_t> pages_;
};

}  // namespace mini_vmm::testing
