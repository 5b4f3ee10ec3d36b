#include "firmware/acpi/aml.h"

#include <initializer_list>

#include "vmm/base/check.h"

namespace mini_vmm::firmware::acpi::aml {
namespace {

// 20.2 opcodes and prefixes.
constexpr uint8_t kZeroOp = 0x00;
constexpr uint8_t kOneOp = 0x01;
constexpr uint8_t kNameOp = 0x08;
constexpr uint8_t kBytePrefix = 0x0a;
constexpr uint8_t kWordPrefix = 0x0b;
constexpr uint8_t kDWordPrefix = 0x0c;
constexpr uint8_t kStringPrefix = 0x0d;
constexpr uint8_t kQWordPrefix = 0x0e;
constexpr uint8_t kScopeOp = 0x10;
constexpr uint8_t kBufferOp = 0x11;
constexpr uint8_t kPackageOp = 0x12;
constexpr uint8_t kMethodOp = 0x14;
constexpr uint8_t kDualNamePrefix = 0x2e;
constexpr uint8_t kMultiNamePrefix = 0x2f;
constexpr uint8_t kExtOpPrefix = 0x5b;
constexpr uint8_t kDeviceOp = 0x82;  // After kExtOpPrefix.
constexpr uint8_t kReturnOp = 0xa4;
constexpr uint8_t kNullName = 0x00;
constexpr char kRootChar = '\\';
constexpr char kParentPrefixChar = '^';

constexpr size_t kNameSegSize = 4;
constexpr uint32_t kMaxPkgLength = (1u << 28) - 1;
constexpr uint32_t kMaxOneBytePkgLength = 63;
constexpr uint8_t kMaxMethodArgs = 7;
constexpr uint8_t kMethodSerializedFlag = 1 << 3;

void AppendLe(Bytes& out, uint64_t value, size_t size) {
  for (size_t i = 0; i < size; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

bool IsLeadNameChar(char c) { return (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsLeadNameChar(c) || (c >= '0' && c <= '9'); }

// 20.2.2 NameSeg: a lead character, then up to three more, '_'-padded.
void AppendNameSeg(Bytes& out, std::string_view seg) {
  VMM_CHECK(!seg.empty() && seg.size() <= kNameSegSize);
  VMM_CHECK(IsLeadNameChar(seg[0]));
  for (char c : seg) {
    VMM_CHECK(IsNameChar(c));
    out.push_back(static_cast<uint8_t>(c));
  }
  for (size_t i = seg.size(); i < kNameSegSize; ++i) out.push_back('_');
}

std::vector<std::string_view> SplitSegments(std::string_view path) {
  std::vector<std::string_view> segments;
  while (!path.empty()) {
    const size_t dot = path.find('.');
    segments.push_back(path.substr(0, dot));
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
    VMM_CHECK(!path.empty());  // A trailing dot names nothing.
  }
  return segments;
}

uint8_t HexDigit(char c) {
  if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
  VMM_CHECK(c >= 'A' && c <= 'F');
  return static_cast<uint8_t>(c - 'A' + 10);
}

// An opcode (one or two bytes), then a PkgLength over `body`.
Bytes OpWithPkg(std::initializer_list<uint8_t> op, std::span<const uint8_t> body) {
  Bytes out(op);
  Append(out, WithPkgLength(body));
  return out;
}

Bytes NamedContainerBody(std::string_view name, const std::vector<Bytes>& terms) {
  Bytes body = NameString(name);
  for (const Bytes& term : terms) Append(body, term);
  return body;
}

}  // namespace

void Append(Bytes& out, std::span<const uint8_t> more) {
  out.insert(out.end(), more.begin(), more.end());
}

Bytes PkgLength(uint32_t length) {
  VMM_CHECK(length <= kMaxPkgLength);
  if (length <= kMaxOneBytePkgLength) return {static_cast<uint8_t>(length)};
  const uint32_t following = length < (1u << 12) ? 1 : length < (1u << 20) ? 2 : 3;
  Bytes out{static_cast<uint8_t>((following << 6) | (length & 0x0f))};
  AppendLe(out, length >> 4, following);
  return out;
}

Bytes WithPkgLength(std::span<const uint8_t> body) {
  // The PkgLength counts its own bytes, so the encoding size and the value
  // depend on each other: take the smallest size whose value fits it.
  constexpr uint32_t kLimits[] = {kMaxOneBytePkgLength + 1, 1u << 12, 1u << 20, 1u << 28};
  VMM_CHECK(body.size() < kLimits[3] - 4);
  uint32_t total = 0;
  for (uint32_t size = 1; size <= 4; ++size) {
    total = static_cast<uint32_t>(body.size()) + size;
    if (total < kLimits[size - 1]) break;
  }
  Bytes out = PkgLength(total);
  Append(out, body);
  return out;
}

Bytes NameString(std::string_view path) {
  Bytes out;
  if (!path.empty() && path[0] == kRootChar) {
    out.push_back(kRootChar);
    path.remove_prefix(1);
  } else {
    while (!path.empty() && path[0] == kParentPrefixChar) {
      out.push_back(kParentPrefixChar);
      path.remove_prefix(1);
    }
  }
  const std::vector<std::string_view> segments = SplitSegments(path);
  VMM_CHECK(segments.size() <= 255);
  if (segments.empty()) {
    out.push_back(kNullName);
  } else if (segments.size() == 2) {
    out.push_back(kDualNamePrefix);
  } else if (segments.size() > 2) {
    out.push_back(kMultiNamePrefix);
    out.push_back(static_cast<uint8_t>(segments.size()));
  }
  for (std::string_view seg : segments) AppendNameSeg(out, seg);
  return out;
}

Bytes Integer(uint64_t value) {
  if (value == 0) return {kZeroOp};
  if (value == 1) return {kOneOp};
  Bytes out;
  if (value <= UINT8_MAX) {
    out.push_back(kBytePrefix);
    AppendLe(out, value, 1);
  } else if (value <= UINT16_MAX) {
    out.push_back(kWordPrefix);
    AppendLe(out, value, 2);
  } else if (value <= UINT32_MAX) {
    out.push_back(kDWordPrefix);
    AppendLe(out, value, 4);
  } else {
    out.push_back(kQWordPrefix);
    AppendLe(out, value, 8);
  }
  return out;
}

Bytes String(std::string_view text) {
  Bytes out{kStringPrefix};
  for (char c : text) {
    VMM_CHECK(c >= 0x01 && c <= 0x7f);
    out.push_back(static_cast<uint8_t>(c));
  }
  out.push_back(0);
  return out;
}

uint32_t CompressEisaId(std::string_view id) {
  // Three letters in 5 bits each ('A' = 1), then four hex digits, stored
  // big-endian in the DWord ("PNP0501" -> bytes 41 d0 05 01).
  VMM_CHECK(id.size() == 7);
  uint8_t letters[3];
  for (size_t i = 0; i < 3; ++i) {
    VMM_CHECK(id[i] >= 'A' && id[i] <= 'Z');
    letters[i] = static_cast<uint8_t>(id[i] - 'A' + 1);
  }
  const uint32_t b0 = static_cast<uint32_t>((letters[0] << 2) | (letters[1] >> 3));
  const uint32_t b1 = static_cast<uint32_t>(((letters[1] & 0x7) << 5) | letters[2]);
  const uint32_t b2 = static_cast<uint32_t>((HexDigit(id[3]) << 4) | HexDigit(id[4]));
  const uint32_t b3 = static_cast<uint32_t>((HexDigit(id[5]) << 4) | HexDigit(id[6]));
  return b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
}

Bytes EisaId(std::string_view id) {
  Bytes out{kDWordPrefix};
  AppendLe(out, CompressEisaId(id), 4);
  return out;
}

Bytes Package(const std::vector<Bytes>& elements) {
  VMM_CHECK(elements.size() <= UINT8_MAX);
  Bytes body{static_cast<uint8_t>(elements.size())};
  for (const Bytes& element : elements) Append(body, element);
  return OpWithPkg({kPackageOp}, body);
}

Bytes Buffer(std::span<const uint8_t> data) {
  Bytes body = Integer(data.size());
  Append(body, data);
  return OpWithPkg({kBufferOp}, body);
}

Bytes Name(std::string_view name, std::span<const uint8_t> object) {
  Bytes out{kNameOp};
  Append(out, NameString(name));
  Append(out, object);
  return out;
}

Bytes Scope(std::string_view name, const std::vector<Bytes>& terms) {
  return OpWithPkg({kScopeOp}, NamedContainerBody(name, terms));
}

Bytes Device(std::string_view name, const std::vector<Bytes>& terms) {
  return OpWithPkg({kExtOpPrefix, kDeviceOp}, NamedContainerBody(name, terms));
}

Bytes Method(std::string_view name, uint8_t arg_count, bool serialized,
             const std::vector<Bytes>& terms) {
  VMM_CHECK(arg_count <= kMaxMethodArgs);
  Bytes body = NameString(name);
  body.push_back(static_cast<uint8_t>(arg_count | (serialized ? kMethodSerializedFlag : 0)));
  for (const Bytes& term : terms) Append(body, term);
  return OpWithPkg({kMethodOp}, body);
}

Bytes Return(std::span<const uint8_t> value) {
  Bytes out{kReturnOp};
  Append(out, value);
  return out;
}

}  // namespace mini_vmm::firmware::acpi::aml
