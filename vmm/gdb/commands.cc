#include "vmm/gdb/commands.h"

#include <algorithm>
#include <array>

#include "vmm/base/format.h"
#include "vmm/gdb/memory_access.h"
#include "vmm/gdb/protocol/hex.h"
#include "vmm/gdb/replies.h"

namespace mini_vmm::gdb {
namespace {

// The most memory one m packet returns: two hex digits per byte must fit in
// a packet.
constexpr size_t kMaxMemoryTransfer = kMaxPacketSize / 2;
constexpr std::string_view kFeaturesAnnex = "qXfer:features:read:target.xml:";
constexpr std::string_view kSupported =
    "PacketSize=4000;qXfer:features:read+;QStartNoAckMode+;swbreak+;hwbreak+;vContSupported+";
static_assert(kMaxPacketSize == 0x4000, "qSupported advertises PacketSize in hex");

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// "ADDR,LEN" followed by `delimiter` (or the end when delimiter is 0).
struct Range {
  uint64_t address;
  uint64_t length;
};
std::optional<Range> ParseRange(std::string_view* text, char delimiter) {
  std::optional<uint64_t> address = ConsumeHexNumber(text, ',');
  if (!address || text->empty()) return std::nullopt;
  const size_t end = delimiter == 0 ? text->size() : text->find(delimiter);
  if (end == std::string_view::npos) return std::nullopt;
  std::optional<uint64_t> length = ParseHexNumber(text->substr(0, end));
  if (!length) return std::nullopt;
  text->remove_prefix(end == text->size() ? end : end + 1);
  return Range{*address, *length};
}

std::optional<Register> ParseRegisterNumber(std::string_view text) {
  std::optional<uint64_t> number = ParseHexNumber(text);
  if (!number || *number >= kRegisterCount) return std::nullopt;
  return static_cast<Register>(*number);
}

std::string_view BreakpointReply(BreakpointStatus status) {
  switch (status) {
    case BreakpointStatus::kOk:
      return reply::kOk;
    case BreakpointStatus::kInvalid:
      return reply::kMalformed;
    case BreakpointStatus::kNoSpace:
      return reply::kNoSpace;
    case BreakpointStatus::kFault:
      return reply::kFault;
    case BreakpointStatus::kNotFound:
      return reply::kNotFound;
    case BreakpointStatus::kTargetError:
      return reply::kTargetError;
  }
  return reply::kTargetError;
}

}  // namespace

std::optional<ThreadId> ParseThreadId(std::string_view text, uint32_t vcpu_count) {
  if (text == "-1") return ThreadId{ThreadId::Kind::kAll};
  std::optional<uint64_t> id = ParseHexNumber(text);
  if (!id) return std::nullopt;
  if (*id == 0) return ThreadId{ThreadId::Kind::kAny};
  if (*id > vcpu_count) return std::nullopt;
  return ThreadId{ThreadId::Kind::kOne, static_cast<VcpuIndex>(*id - 1)};
}

std::string FormatThreadId(VcpuIndex vcpu) { return Format("{:02x}", uint64_t{vcpu} + 1); }

std::string Commands::ReadRegisters(Session& s) {
  RegisterFile registers;
  if (!s.target_.ReadRegisters(s.general_thread_, registers).ok()) {
    return std::string(reply::kTargetError);
  }
  return registers.ToHex();
}

std::string Commands::WriteRegisters(Session& s, std::string_view packet) {
  RegisterFile registers;
  if (!registers.FromHex(packet.substr(1))) return std::string(reply::kMalformed);
  if (!s.target_.WriteRegisters(s.general_thread_, registers).ok()) {
    return std::string(reply::kTargetError);
  }
  return std::string(reply::kOk);
}

std::string Commands::ReadRegister(Session& s, std::string_view packet) {
  std::optional<Register> reg = ParseRegisterNumber(packet.substr(1));
  if (!reg) return std::string(reply::kMalformed);
  RegisterFile registers;
  if (!s.target_.ReadRegisters(s.general_thread_, registers).ok()) {
    return std::string(reply::kTargetError);
  }
  std::string hex;
  AppendHexBytes(registers.Bytes(*reg), hex);
  return hex;
}

std::string Commands::WriteRegister(Session& s, std::string_view packet) {
  packet.remove_prefix(1);
  const size_t equals = packet.find('=');
  if (equals == std::string_view::npos) return std::string(reply::kMalformed);
  std::optional<Register> reg = ParseRegisterNumber(packet.substr(0, equals));
  if (!reg) return std::string(reply::kMalformed);
  RegisterFile registers;
  if (!s.target_.ReadRegisters(s.general_thread_, registers).ok()) {
    return std::string(reply::kTargetError);
  }
  if (!DecodeHexBytes(packet.substr(equals + 1), registers.Bytes(*reg))) {
    return std::string(reply::kMalformed);
  }
  if (!s.target_.WriteRegisters(s.general_thread_, registers).ok()) {
    return std::string(reply::kTargetError);
  }
  return std::string(reply::kOk);
}

std::string Commands::ReadMemory(Session& s, std::string_view packet) {
  packet.remove_prefix(1);
  std::optional<Range> range = ParseRange(&packet, 0);
  if (!range || range->length == 0) return std::string(reply::kMalformed);
  // gdb splits reads by PacketSize; a longer request gets a short reply,
  // which the protocol allows.
  std::array<uint8_t, kMaxMemoryTransfer> buffer;
  const size_t length = std::min<uint64_t>(range->length, buffer.size());
  const size_t done = ReadVirtual(s.target_, s.breakpoints_, s.general_thread_, range->address,
                                  std::span(buffer).first(length));
  if (done == 0) return std::string(reply::kFault);
  std::string hex;
  AppendHexBytes(std::span(buffer).first(done), hex);
  return hex;
}

std::string Commands::WriteMemoryHex(Session& s, std::string_view packet) {
  packet.remove_prefix(1);
  std::optional<Range> range = ParseRange(&packet, ':');
  if (!range || range->length > kMaxMemoryTransfer) return std::string(reply::kMalformed);
  std::array<uint8_t, kMaxMemoryTransfer> buffer;
  std::span<uint8_t> data = std::span(buffer).first(range->length);
  if (!DecodeHexBytes(packet, data)) return std::string(reply::kMalformed);
  const size_t done =
      WriteVirtual(s.target_, s.breakpoints_, s.general_thread_, range->address, data);
  return std::string(done == data.size() ? reply::kOk : reply::kFault);
}

std::string Commands::WriteMemoryBinary(Session& s, std::string_view packet) {
  packet.remove_prefix(1);
  std::optional<Range> range = ParseRange(&packet, ':');
  // The packet layer has undone the escapes: what is left is the data.
  if (!range || range->length != packet.size()) return std::string(reply::kMalformed);
  if (packet.empty()) return std::string(reply::kOk);  // gdb's probe for X support.
  std::span<const uint8_t> data(reinterpret_cast<const uint8_t*>(packet.data()), packet.size());
  const size_t done =
      WriteVirtual(s.target_, s.breakpoints_, s.general_thread_, range->address, data);
  return std::string(done == data.size() ? reply::kOk : reply::kFault);
}

std::string Commands::Breakpoint(Session& s, std::string_view packet) {
  const bool insert = packet[0] == 'Z';
  if (packet.size() < 3 || packet[2] != ',') return std::string(reply::kMalformed);
  const char type_digit = packet[1];
  if (type_digit < '0' || type_digit > '4') return std::string(reply::kUnsupported);
  const auto type = static_cast<BreakpointType>(type_digit - '0');
  std::string_view rest = packet.substr(3);
  // No conditions or commands (";X..." suffixes): not advertised.
  std::optional<Range> range = ParseRange(&rest, 0);
  if (!range) return std::string(reply::kMalformed);
  BreakpointStatus status =
      insert ? s.breakpoints_.Insert(type, range->address, range->length, s.general_thread_)
             : s.breakpoints_.Remove(type, range->address, range->length);
  return std::string(BreakpointReply(status));
}

namespace {

std::string ReadFeatures(std::string_view request) {
  std::optional<Range> range = ParseRange(&request, 0);
  if (!range) return std::string(reply::kMalformed);
  const std::string& xml = TargetDescription();
  if (range->address >= xml.size()) return "l";
  // Escaping can double the size; half a packet always fits.
  const size_t length =
      std::min<uint64_t>({range->length, xml.size() - range->address, kMaxPacketSize / 2 - 1});
  const bool last = range->address + length == xml.size();
  return (last ? "l" : "m") + EscapeBinary(std::string_view(xml).substr(range->address, length));
}

std::string ThreadList(uint32_t count) {
  std::string list = "m";
  for (VcpuIndex vcpu = 0; vcpu < count; ++vcpu) {
    if (vcpu != 0) list += ',';
    list += FormatThreadId(vcpu);
  }
  return list;
}

}  // namespace

std::string Commands::Query(Session& s, std::string_view packet) {
  if (StartsWith(packet, "qSupported")) return std::string(kSupported);
  if (StartsWith(packet, kFeaturesAnnex)) {
    return ReadFeatures(packet.substr(kFeaturesAnnex.size()));
  }
  if (StartsWith(packet, "qXfer:features:read:")) return "E00";  // Another annex.
  if (packet == "qAttached") return "1";  // gdb's quit then detaches, not kills.
  if (packet == "qC") return "QC" + FormatThreadId(s.general_thread_);
  // The list is short (one id per vCPU, 3 bytes each), so one reply holds
  // it all and qsThreadInfo ends it.
  if (packet == "qfThreadInfo") return ThreadList(s.target_.VcpuCount());
  if (packet == "qsThreadInfo") return "l";
  return std::string(reply::kUnsupported);
}

std::string Commands::SetThread(Session& s, std::string_view packet) {
  if (packet.size() < 3) return std::string(reply::kMalformed);
  std::optional<ThreadId> id = ParseThreadId(packet.substr(2), s.target_.VcpuCount());
  if (!id) return std::string(reply::kBadThread);
  VcpuIndex* which = nullptr;
  if (packet[1] == 'g') which = &s.general_thread_;
  if (packet[1] == 'c') which = &s.continue_thread_;
  if (which == nullptr) return std::string(reply::kMalformed);
  // "Any" and "all" keep the current choice: one vCPU stands for them.
  if (id->kind == ThreadId::Kind::kOne) *which = id->vcpu;
  return std::string(reply::kOk);
}

std::string Commands::ThreadAlive(Session& s, std::string_view packet) {
  std::optional<ThreadId> id = ParseThreadId(packet.substr(1), s.target_.VcpuCount());
  return std::string(id && id->kind == ThreadId::Kind::kOne ? reply::kOk : reply::kBadThread);
}

}  // namespace mini_vmm::gdb
