#include "tests/unit/firmware/acpi/aml_reader.h"

#include <fmt/core.h>

#include <stdexcept>

namespace mini_vmm::firmware::acpi::testing {
namespace {

using Kind = AmlObject::Kind;

AmlObject Make(Kind kind) {
  AmlObject object;
  object.kind = kind;
  return object;
}

AmlObject MakeInteger(uint64_t value) {
  AmlObject object = Make(Kind::kInteger);
  object.integer = value;
  return object;
}

class Reader {
 public:
  Reader(std::span<const uint8_t> data, size_t end) : data_(data), end_(end) {}

  bool AtEnd() const { return pos_ >= end_; }
  size_t pos() const { return pos_; }
  std::span<const uint8_t> data() const { return data_; }

  uint8_t Next() {
    if (pos_ >= end_) throw std::runtime_error(fmt::format("AML ends early at {}", pos_));
    return data_[pos_++];
  }
  uint8_t Peek() const {
    if (pos_ >= end_) throw std::runtime_error("AML ends early");
    return data_[pos_];
  }
  uint64_t Le(size_t size) {
    uint64_t value = 0;
    for (size_t i = 0; i < size; ++i) value |= uint64_t{Next()} << (8 * i);
    return value;
  }

  // PkgLength (20.2.4): returns where the package ends.
  size_t PkgEnd() {
    const size_t start = pos_;
    const uint8_t lead = Next();
    const unsigned follow = lead >> 6;
    uint64_t length = follow == 0 ? (lead & 0x3f) : (lead & 0x0f);
    if (follow != 0 && (lead & 0x30) != 0) throw std::runtime_error("PkgLength reserved bits set");
    for (unsigned i = 0; i < follow; ++i) length |= uint64_t{Next()} << (4 + 8 * i);
    if (length > end_ - start) throw std::runtime_error("PkgLength runs past its parent");
    return start + length;
  }

  std::string NameSeg() {
    std::string seg;
    for (int i = 0; i < 4; ++i) seg += static_cast<char>(Next());
    return seg;
  }

  // NameString (20.2.2), as "\\A.B" text.
  std::string NameString() {
    std::string name;
    while (Peek() == '\\' || Peek() == '^') name += static_cast<char>(Next());
    size_t segments = 1;
    if (Peek() == 0x00) {
      Next();
      return name;
    }
    if (Peek() == 0x2e) {
      Next();
      segments = 2;
    } else if (Peek() == 0x2f) {
      Next();
      segments = Next();
    }
    for (size_t i = 0; i < segments; ++i) name += (i > 0 ? "." : "") + NameSeg();
    return name;
  }

  Reader Sub(size_t end) const {
    Reader sub(data_, end);
    sub.pos_ = pos_;
    return sub;
  }
  void Skip(size_t to) { pos_ = to; }

 private:
  std::span<const uint8_t> data_;
  size_t end_;
  size_t pos_ = 0;
};

AmlObject ReadData(Reader& r);
AmlObject ReadTerm(Reader& r);

AmlObject ReadPackage(Reader& r) {
  AmlObject package = Make(Kind::kPackage);
  const size_t end = r.PkgEnd();
  Reader body = r.Sub(end);
  const uint8_t count = body.Next();
  for (uint8_t i = 0; i < count; ++i) package.children.push_back(ReadData(body));
  if (!body.AtEnd()) throw std::runtime_error("Package has bytes after its elements");
  r.Skip(end);
  return package;
}

AmlObject ReadBuffer(Reader& r) {
  AmlObject buffer = Make(Kind::kBuffer);
  const size_t end = r.PkgEnd();
  Reader body = r.Sub(end);
  const AmlObject size = ReadData(body);
  if (size.kind != Kind::kInteger || size.integer != end - body.pos()) {
    throw std::runtime_error("BufferSize does not match the bytes that follow");
  }
  buffer.buffer.assign(r.data().begin() + static_cast<ptrdiff_t>(body.pos()),
                       r.data().begin() + static_cast<ptrdiff_t>(end));
  r.Skip(end);
  return buffer;
}

AmlObject ReadData(Reader& r) {
  const uint8_t op = r.Next();
  switch (op) {
    case 0x00:
      return MakeInteger(0);
    case 0x01:
      return MakeInteger(1);
    case 0x0a:
      return MakeInteger(r.Le(1));
    case 0x0b:
      return MakeInteger(r.Le(2));
    case 0x0c:
      return MakeInteger(r.Le(4));
    case 0x0e:
      return MakeInteger(r.Le(8));
    case 0x0d: {
      AmlObject s = Make(Kind::kString);
      for (uint8_t c = r.Next(); c != 0; c = r.Next()) s.string += static_cast<char>(c);
      return s;
    }
    case 0x11:
      return ReadBuffer(r);
    case 0x12:
      return ReadPackage(r);
    default:
      throw std::runtime_error(fmt::format("unexpected data opcode {:#04x}", op));
  }
}

AmlObject ReadContainer(Reader& r, Kind kind) {
  AmlObject object = Make(kind);
  const size_t end = r.PkgEnd();
  Reader body = r.Sub(end);
  object.name = body.NameString();
  if (kind == Kind::kMethod) {
    body.Next();  // MethodFlags.
    object.buffer.assign(r.data().begin() + static_cast<ptrdiff_t>(body.pos()),
                         r.data().begin() + static_cast<ptrdiff_t>(end));
  } else {
    while (!body.AtEnd()) object.children.push_back(ReadTerm(body));
  }
  r.Skip(end);
  return object;
}

AmlObject ReadTerm(Reader& r) {
  const uint8_t op = r.Next();
  switch (op) {
    case 0x08: {
      AmlObject name = Make(Kind::kName);
      name.name = r.NameString();
      name.children.push_back(ReadData(r));
      return name;
    }
    case 0x10:
      return ReadContainer(r, Kind::kScope);
    case 0x14:
      return ReadContainer(r, Kind::kMethod);
    case 0x5b:
      if (r.Next() == 0x82) return ReadContainer(r, Kind::kDevice);
      throw std::runtime_error("unexpected extended opcode");
    default:
      throw std::runtime_error(fmt::format("unexpected term opcode {:#04x}", op));
  }
}

}  // namespace

std::vector<AmlObject> ParseTermList(std::span<const uint8_t> aml) {
  Reader r(aml, aml.size());
  std::vector<AmlObject> terms;
  while (!r.AtEnd()) terms.push_back(ReadTerm(r));
  return terms;
}

AmlObject ParseDataObject(std::span<const uint8_t> aml) {
  Reader r(aml, aml.size());
  AmlObject object = ReadData(r);
  if (!r.AtEnd()) throw std::runtime_error("bytes left after the data object");
  return object;
}

const AmlObject* Find(const std::vector<AmlObject>& terms, AmlObject::Kind kind,
                      std::string_view name) {
  for (const AmlObject& term : terms) {
    if (term.kind == kind && term.name == name) return &term;
  }
  return nullptr;
}

const AmlObject& NamedValue(const AmlObject& container, std::string_view name) {
  const AmlObject* named = Find(container.children, Kind::kName, name);
  if (named == nullptr) {
    throw std::runtime_error(fmt::format("{} has no {}", container.name, name));
  }
  return named->children.at(0);
}

std::vector<const AmlObject*> Devices(const std::vector<AmlObject>& terms) {
  std::vector<const AmlObject*> devices;
  for (const AmlObject& term : terms) {
    if (term.kind == Kind::kDevice) devices.push_back(&term);
  }
  return devices;
}

std::vector<ResourceDescriptor> ParseResources(std::span<const uint8_t> resource_template) {
  std::vector<ResourceDescriptor> descriptors;
  Reader r(resource_template, resource_template.size());
  while (!r.AtEnd()) {
    const uint8_t tag = r.Next();
    const bool large = (tag & 0x80) != 0;
    const uint8_t item = large ? tag : static_cast<uint8_t>((tag >> 3) & 0x0f);
    const size_t length = large ? static_cast<size_t>(r.Le(2)) : static_cast<size_t>(tag & 0x07);
    ResourceDescriptor descriptor;
    descriptor.item = item;
    for (size_t i = 0; i < length; ++i) descriptor.data.push_back(r.Next());
    if (!large && item == 0x0f) {  // End Tag.
      if (!r.AtEnd()) throw std::runtime_error("bytes after the End Tag");
      return descriptors;
    }
    descriptors.push_back(std::move(descriptor));
  }
  throw std::runtime_error("resource template has no End Tag");
}

}  // namespace mini_vmm::firmware::acpi::testing
