// AML: encoders for the small subset of ACPI Machine Language the DSDT needs.
// Each function returns the byte encoding of one term; nesting terms is
// plain concatenation, so a namespace is built bottom-up:
//
//   aml::Bytes com1 = aml::Device("COM1", {
//       aml::Name("_HID", aml::EisaId("PNP0501")),
//       aml::Name("_CRS", ResourceTemplate().Io(0x3f8, 0x3f8, 1, 8).IrqNoFlags(4).ToAml()),
//   });
//   aml::Bytes sb = aml::Scope("\\_SB_", {com1});
//
// Names and EISA ids come from our own code, never from the guest or the
// user, so a malformed one is a programming error (VMM_CHECK), not a Result.
// Section numbers refer to the ACPI 6.5 specification, chapter 20 (AML).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace mini_vmm::firmware::acpi::aml {

using Bytes = std::vector<uint8_t>;

// Appends `more` to `out`.
void Append(Bytes& out, std::span<const uint8_t> more);

// 20.2.4 PkgLength for a package whose total length, counting the PkgLength
// bytes themselves, is `length` (< 2^28). One byte up to 63, then the lead
// byte carries the low nibble and 1-3 further bytes the rest.
Bytes PkgLength(uint32_t length);

// `body` prefixed by the PkgLength that covers itself and the body.
Bytes WithPkgLength(std::span<const uint8_t> body);

// 20.2.2 NameString: "\\" and "^" prefixes, then dot-separated segments of
// up to 4 characters ([A-Z_] then [A-Z0-9_]), each padded with '_'.
// Examples: "_HID", "\\_SB_", "\\_SB.PCI0", "^FOO".
Bytes NameString(std::string_view path);

// 20.2.3 ComputationalData: the shortest of ZeroOp, OneOp, BytePrefix,
// WordPrefix, DWordPrefix, QWordPrefix that holds `value`.
Bytes Integer(uint64_t value);

// 20.2.3 String: StringPrefix, ASCII characters 0x01-0x7f, NullChar.
Bytes String(std::string_view text);

// 6.1.5 _HID: a PNP id such as "PNP0501" compressed to the 32-bit EISA id,
// encoded as a DWordConst (what ASL's EisaId() produces).
uint32_t CompressEisaId(std::string_view id);
Bytes EisaId(std::string_view id);

// 20.2.5.4 DefPackage with up to 255 data elements.
Bytes Package(const std::vector<Bytes>& elements);

// 20.2.5.4 DefBuffer holding `data`.
Bytes Buffer(std::span<const uint8_t> data);

// 20.2.5.1 DefName: binds `name` to a data object.
Bytes Name(std::string_view name, std::span<const uint8_t> object);

// 20.2.5.1 DefScope and 20.2.5.2 DefDevice: a named container of terms.
Bytes Scope(std::string_view name, const std::vector<Bytes>& terms);
Bytes Device(std::string_view name, const std::vector<Bytes>& terms);

// 20.2.5.2 DefMethod with `arg_count` (0-7) arguments and sync level 0, and
// 20.2.5.3 DefReturn. For objects that must be computed (_STA, _OSC...).
Bytes Method(std::string_view name, uint8_t arg_count, bool serialized,
             const std::vector<Bytes>& terms);
Bytes Return(std::span<const uint8_t> value);

}  // namespace mini_vmm::firmware::acpi::aml
