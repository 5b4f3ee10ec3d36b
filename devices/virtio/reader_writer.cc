#include "devices/virtio/reader_writer.h"

#include <algorithm>

#include "vmm/base/check.h"

namespace mini_vmm::virtio {

ByteStream::ByteStream(Buffers buffers) : buffers_(std::move(buffers)) {
  for (const auto& b : buffers_) available_ += b.size();
}

// Straight from the chain, without a list to move in: once per stream per
// request.
ByteStream::ByteStream(const DescriptorChain& chain, bool writable) {
  for (const Segment& s : chain.segments()) {
    if (s.writable != writable || s.data.empty()) continue;
    buffers_.push_back(s.data);
    available_ += s.data.size();
  }
}

void ByteStream::AppendIovecs(uint64_t n, IovecList& iov) const {
  VMM_CHECK(n <= available_);
  size_t offset = offset_;
  for (size_t i = index_; n > 0 && i < buffers_.size(); ++i) {
    const uint64_t take = std::min<uint64_t>(n, buffers_[i].size() - offset);
    iov.push_back(iovec{buffers_[i].data() + offset, static_cast<size_t>(take)});
    n -= take;
    offset = 0;
  }
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
  ByteStream tail;
  if (n == 0) return tail;
  // Walk back from the last buffer to the first one the tail reaches into,
  // and how much of that one it takes (the rest it takes whole). Bytes of
  // the current buffer already consumed are not the tail's to take.
  size_t first = buffers_.size();
  uint64_t take = 0;
  for (uint64_t left = n; left > 0; left -= take) {
    --first;
    const size_t consumed = first == index_ ? offset_ : 0;
    take = std::min<uint64_t>(left, buffers_[first].size() - consumed);
  }
  std::span<uint8_t>& split = buffers_[first];
  tail.buffers_.push_back(split.last(static_cast<size_t>(take)));
  for (size_t i = first + 1; i < buffers_.size(); ++i) tail.buffers_.push_back(buffers_[i]);
  tail.available_ = n;
  split = split.first(split.size() - static_cast<size_t>(take));
  // Drop the buffers now wholly in the tail; the current one stays even if
  // emptied, since index_ and offset_ point into it.
  const size_t consumed = first == index_ ? offset_ : 0;
  const size_t keep = split.size() == consumed && first > index_ ? first : first + 1;
  while (buffers_.size() > keep) buffers_.pop_back();
  available_ -= n;
  return tail;
}

bool ByteStream::CopyOut(std::span<uint8_t> bytes) {
  if (bytes.size() > available_) return false;
  if (bytes.empty()) return true;
  // Most objects (a request header) lie in one buffer: no walk.
  if (const std::span<uint8_t> buffer = buffers_[index_]; bytes.size() <= buffer.size() - offset_) {
    std::memcpy(bytes.data(), buffer.data() + offset_, bytes.size());
    offset_ += bytes.size();
    available_ -= bytes.size();
    if (offset_ == buffer.size()) {
      ++index_;
      offset_ = 0;
    }
    return true;
  }
  size_t done = 0;
  size_t offset = offset_;
  for (size_t i = index_; done < bytes.size(); ++i) {
    const size_t take = std::min(bytes.size() - done, buffers_[i].size() - offset);
    std::memcpy(bytes.data() + done, buffers_[i].data() + offset, take);
    done += take;
    offset = 0;
  }
  Consume(bytes.size());
  return true;
}

bool ByteStream::CopyIn(std::span<const uint8_t> bytes) {
  if (bytes.size() > available_) return false;
  size_t done = 0;
  size_t offset = offset_;
  for (size_t i = index_; done < bytes.size(); ++i) {
    const size_t take = std::min(bytes.size() - done, buffers_[i].size() - offset);
    std::memcpy(buffers_[i].data() + offset, bytes.data() + done, take);
    done += take;
    offset = 0;
  }
  Consume(bytes.size());
  return true;
}

Reader::Reader(const DescriptorChain& chain) : ByteStream(chain, false) {}

Writer::Writer(const DescriptorChain& chain) : ByteStream(chain, true) {}

Writer Writer::SplitTail(uint64_t n) { return Writer(ByteStream::SplitTail(n)); }

uint8_t* ByteStream::SplitLastByte() {
  VMM_CHECK(available_ > 0);
  std::span<uint8_t>& last = buffers_.back();
  const size_t consumed = buffers_.size() - 1 == index_ ? offset_ : 0;
  // An empty last buffer (a stream built with one): the general way.
  if (last.size() == consumed) return SplitTail(1).buffers_[0].data();
  // Otherwise SplitTail(1) without building the tail stream.
  uint8_t* byte = &last.back();
  last = last.first(last.size() - 1);
  if (last.size() == consumed && buffers_.size() - 1 > index_) buffers_.pop_back();
  --available_;
  return byte;
}

}  // namespace mini_vmm::virtio
