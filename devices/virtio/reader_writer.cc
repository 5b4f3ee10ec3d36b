#include "devices/virtio/reader_writer.h"

#include <algorithm>

#include "vmm/base/check.h"

namespace mini_vmm::virtio {
namespace {

std::vector<std::span<uint8_t>> Buffers(const DescriptorChain& chain, bool writable) {
  std::vector<std::span<uint8_t>> buffers;
  for (const Segment& s : chain.segments()) {
    if (s.writable == writable && !s.data.empty()) buffers.push_back(s.data);
  }
  return buffers;
}

}  // namespace

ByteStream::ByteStream(std::vector<std::span<uint8_t>> buffers) : buffers_(std::move(buffers)) {
  for (const auto& b : buffers_) available_ += b.size();
}

std::vector<iovec> ByteStream::Iovecs(uint64_t n) const {
  VMM_CHECK(n <= available_);
  std::vector<iovec> iov;
  size_t offset = offset_;
  for (size_t i = index_; n > 0 && i < buffers_.size(); ++i) {
    const uint64_t take = std::min<uint64_t>(n, buffers_[i].size() - offset);
    iov.push_back(iovec{buffers_[i].data() + offset, static_cast<size_t>(take)});
    n -= take;
    offset = 0;
  }
  return iov;
}

void ByteStream::Consume(uint64_t n) {
  VMM_CHECK(n <= available_);
  available_ -= n;
  while (n > 0) {
    const uint64_t take = std::min<uint64_t>(n, buffers_[index_].size() - offset_);
    offset_ += take;
    n -= take;
    if (offset_ == buffers_[index_].size()) {
      ++index_;
      offset_ = 0;
    }
  }
}

ByteStream ByteStream::SplitTail(uint64_t n) {
  VMM_CHECK(n <= available_);
  std::vector<std::span<uint8_t>> tail;
  uint64_t left = n;
  while (left > 0) {
    std::span<uint8_t>& last = buffers_.back();
    // Bytes of the last buffer already consumed (only if it is the current one).
    const size_t consumed = buffers_.size() - 1 == index_ ? offset_ : 0;
    const uint64_t take = std::min<uint64_t>(left, last.size() - consumed);
    tail.insert(tail.begin(), last.last(static_cast<size_t>(take)));
    last = last.first(last.size() - static_cast<size_t>(take));
    left -= take;
    if (last.size() == consumed && buffers_.size() - 1 > index_) buffers_.pop_back();
  }
  available_ -= n;
  return ByteStream(std::move(tail));
}

bool ByteStream::CopyOut(std::span<uint8_t> bytes) {
  if (bytes.size() > available_) return false;
  size_t done = 0;
  for (const iovec& v : Iovecs(bytes.size())) {
    std::memcpy(bytes.data() + done, v.iov_base, v.iov_len);
    done += v.iov_len;
  }
  Consume(bytes.size());
  return true;
}

bool ByteStream::CopyIn(std::span<const uint8_t> bytes) {
  if (bytes.size() > available_) return false;
  size_t done = 0;
  for (const iovec& v : Iovecs(bytes.size())) {
    std::memcpy(v.iov_base, bytes.data() + done, v.iov_len);
    done += v.iov_len;
  }
  Consume(bytes.size());
  return true;
}

Reader::Reader(const DescriptorChain& chain) : ByteStream(Buffers(chain, false)) {}

Writer::Writer(const DescriptorChain& chain) : ByteStream(Buffers(chain, true)) {}

Writer Writer::SplitTail(uint64_t n) { return Writer(ByteStream::SplitTail(n)); }

}  // namespace mini_vmm::virtio
