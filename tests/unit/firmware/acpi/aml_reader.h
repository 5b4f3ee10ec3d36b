// A tiny AML reader for tests: it decodes the subset of AML the DSDT uses
// (Scope, Device, Name, Method, integers, strings, buffers, packages) into a
// tree, and resource templates into descriptors. It is written separately
// from the encoder, from the spec's grammar, so the two check each other.
// Anything it does not understand throws, failing the test.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mini_vmm::firmware::acpi::testing {

struct AmlObject {
  enum class Kind { kScope, kDevice, kName, kMethod, kInteger, kString, kBuffer, kPackage };
  Kind kind = Kind::kInteger;
  // Scope, Device, Name, Method: the name as written, segments joined with
  // '.', e.g. "\\_SB_", "COM1", "_S5_".
  std::string name;
  uint64_t integer = 0;
  std::string string;
  std::vector<uint8_t> buffer;  // Buffer contents; a Method's raw body.
  // Scope/Device terms; a Name's single value; Package elements.
  std::vector<AmlObject> children;
};

// Parses a whole TermList (the DSDT after its 36-byte header).
std::vector<AmlObject> ParseTermList(std::span<const uint8_t> aml);

// Parses exactly one data object (Integer, String, Buffer or Package).
AmlObject ParseDataObject(std::span<const uint8_t> aml);

// The first term of `kind` named `name`, or nullptr.
const AmlObject* Find(const std::vector<AmlObject>& terms, AmlObject::Kind kind,
                      std::string_view name);

// The value bound by Name(`name`, ...) directly inside `container`; throws
// if there is none.
const AmlObject& NamedValue(const AmlObject& container, std::string_view name);

// Every Device directly inside `terms`.
std::vector<const AmlObject*> Devices(const std::vector<AmlObject>& terms);

// One resource descriptor: its item name (small: bits 6-3 of the tag; large:
// 0x80 | item) and the bytes after the tag and length.
struct ResourceDescriptor {
  uint8_t item = 0;
  std::vector<uint8_t> data;
};
inline constexpr uint8_t kSmallIrq = 0x04;
inline constexpr uint8_t kSmallIo = 0x08;
inline constexpr uint8_t kLargeMemory32Fixed = 0x86;
inline constexpr uint8_t kLargeExtendedInterrupt = 0x89;

// Splits a resource template up to and excluding its End Tag; throws if the
// End Tag is missing or not last.
std::vector<ResourceDescriptor> ParseResources(std::span<const uint8_t> resource_template);

}  // namespace mini_vmm::firmware::acpi::testing
