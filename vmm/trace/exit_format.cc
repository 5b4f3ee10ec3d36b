#include "vmm/trace/exit_format.h"

#include <algorithm>
#include <variant>

#include "vmm/base/format.h"

namespace mini_vmm::trace {
namespace {

// `bytes` (1 to 8 of them; more are cut) as the little-endian value they
// hold, zero-padded to their width: 0x41, 0x00050014.
std::string Value(std::span<const uint8_t> bytes) {
  const size_t n = std::min<size_t>(bytes.size(), sizeof(uint64_t));
  uint64_t value = 0;
  for (size_t i = n; i > 0; --i) value = (value << 8) | bytes[i - 1];
  return Format("{:#0{}x}", value, 2 + 2 * n);
}

std::string IoData(const kvm::IoExit& io) {
  if (io.size == 0) return "";
  std::string out;
  const uint32_t limit = std::min(io.count, kMaxTracedItems);
  uint32_t shown = 0;
  // Never past the data window, whatever count and size say.
  for (; shown < limit && size_t{shown + 1} * io.size <= io.data.size(); ++shown) {
    if (shown > 0) out += ',';
    out += Value(io.data.subspan(size_t{shown} * io.size, io.size));
  }
  if (io.count > shown) out += ",...";
  return out;
}

struct Formatter {
  std::string operator()(const kvm::IoExit& io) const {
    std::string out =
        Format("pio {} port={:#x} size={}", io.is_write ? "out" : "in", io.port, io.size);
    if (io.count != 1) out += Format(" count={}", io.count);
    return out + " data=" + IoData(io);
  }
  std::string operator()(const kvm::MmioExit& mmio) const {
    return Format("mmio {} addr={:#x} size={} data={}", mmio.is_write ? "write" : "read",
                  mmio.address, mmio.data.size(), Value(mmio.data));
  }
  std::string operator()(const kvm::HltExit&) const { return "hlt"; }
  std::string operator()(const kvm::ShutdownExit&) const { return "shutdown (triple fault)"; }
  std::string operator()(const kvm::FailEntryExit& e) const {
    return Format("fail-entry hardware_reason={:#x} cpu={}", e.hardware_reason, e.cpu);
  }
  std::string operator()(const kvm::InternalErrorExit& e) const {
    return Format("internal-error suberror={} ndata={}", e.suberror, e.count);
  }
  std::string operator()(const kvm::SystemEventExit& e) const {
    return Format("system-event type={}", e.type);
  }
  std::string operator()(const kvm::DebugExit& e) const {
    return Format("debug exception={} pc={:#x} dr6={:#x} dr7={:#x}", e.arch.exception, e.arch.pc,
                  e.arch.dr6, e.arch.dr7);
  }
  std::string operator()(const kvm::InterruptedExit&) const { return "intr"; }
  std::string operator()(const kvm::RunFailedExit& e) const {
    return Format("run-failed errno={}", e.error);
  }
  std::string operator()(const kvm::UnknownExit& e) const {
    return Format("unknown reason={}", e.reason);
  }
};

}  // namespace

std::string FormatExit(uint32_t vcpu, const kvm::VcpuExit& exit, std::string_view instruction) {
  std::string out = Format("vcpu{} {}", vcpu, std::visit(Formatter{}, exit));
  if (!instruction.empty()) {
    out += " | ";
    out += instruction;
  }
  return out;
}

}  // namespace mini_vmm::trace
