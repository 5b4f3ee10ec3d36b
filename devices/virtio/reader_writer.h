// Reader and Writer: a descriptor chain's device-readable and
// device-writable buffers as byte streams. Devices never look at individual
// descriptors, so a driver may split a header anywhere (§2.7.4: "The device
// MUST NOT make assumptions about the particular arrangement of
// descriptors").
//
//   Reader reader(chain);
//   auto header = reader.ReadObj<virtio_blk_outhdr>();   // may span descriptors
//   Writer writer(chain);
//   Writer status = writer.SplitTail(1);                  // the last byte
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>

#include "devices/virtio/descriptor_chain.h"
#include "vmm/base/small_vector.h"

namespace mini_vmm::virtio {

// Iovecs into a chain: inline for as many buffers as a chain keeps inline.
using IovecList = SmallVector<iovec, kInlineSegments>;

// A cursor over a list of buffers. Streams copy the chain's buffer list
// (inline for common chains, see kInlineSegments), so they stay valid when
// the chain object moves; they must not outlive the guest RAM it views.
class ByteStream {
 public:
  using Buffers = SmallVector<std::span<uint8_t>, kInlineSegments>;

  ByteStream() = default;
  explicit ByteStream(Buffers buffers);

  uint64_t available() const { return available_; }
  // The next `n` bytes (n <= available()) as iovecs, without consuming.
  IovecList Iovecs(uint64_t n) const {
    IovecList iov;
    AppendIovecs(n, iov);
    return iov;
  }
  // The same, appended to `iov` (which may be a request's, filled in place).
  void AppendIovecs(uint64_t n, IovecList& iov) const;
  // Consumes `n` bytes (n <= available()).
  void Consume(uint64_t n);
  // Removes the last `n` bytes (n <= available()) and returns them as a
  // stream of their own.
  ByteStream SplitTail(uint64_t n);
  // Removes the last byte (available() > 0) and returns where it is in
  // guest RAM: a virtio status byte, which is always a chain's last.
  uint8_t* SplitLastByte();

 protected:
  // The chain's device-writable (or device-readable) buffers.
  ByteStream(const DescriptorChain& chain, bool writable);
  // Copies between the stream and `bytes`, consuming; false (nothing
  // consumed) if fewer than bytes.size() remain.
  bool CopyOut(std::span<uint8_t> bytes);
  bool CopyIn(std::span<const uint8_t> bytes);

 private:
  Buffers buffers_;
  size_t index_ = 0;   // First buffer with bytes left.
  size_t offset_ = 0;  // Bytes of buffers_[index_] already consumed.
  uint64_t available_ = 0;
};

class Reader : public ByteStream {
 public:
  explicit Reader(const DescriptorChain& chain);

  bool Read(std::span<uint8_t> out) { return CopyOut(out); }
  template <typename T>
  std::optional<T> ReadObj() {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    if (!Read({reinterpret_cast<uint8_t*>(&value), sizeof(T)})) return std::nullopt;
    return value;
  }
};

class Writer : public ByteStream {
 public:
  explicit Writer(const DescriptorChain& chain);

  bool Write(std::span<const uint8_t> in) {
    if (!CopyIn(in)) return false;
    written_ += in.size();
    return true;
  }
  template <typename T>
  bool WriteObj(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    return Write({reinterpret_cast<const uint8_t*>(&value), sizeof(T)});
  }
  // Records bytes written behind our back (e.g. by a read(2) into Iovecs()).
  void Advance(uint64_t n) {
    Consume(n);
    written_ += n;
  }
  Writer SplitTail(uint64_t n);
  // Bytes written so far: what goes into the used ring's len.
  uint64_t written() const { return written_; }

 private:
  explicit Writer(ByteStream stream) : ByteStream(std::move(stream)) {}
  uint64_t written_ = 0;
};

}  // namespace mini_vmm::virtio
