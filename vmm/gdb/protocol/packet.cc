#include "vmm/gdb/protocol/packet.h"

#include "vmm/gdb/protocol/hex.h"

namespace mini_vmm::gdb {
namespace {

constexpr char kPacketStart = '$';
constexpr char kPacketEnd = '#';
constexpr char kEscape = '}';
constexpr uint8_t kEscapeXor = 0x20;
constexpr char kRunLength = '*';
// A run-length count byte n means n - 29 more copies; the protocol allows
// printable n only (space, 3 copies, to '~', 97 copies).
constexpr uint8_t kRunBias = 29;
constexpr uint8_t kRunCountMin = ' ';
constexpr uint8_t kRunCountMax = '~';

bool MustEscape(char c) {
  return c == kPacketStart || c == kPacketEnd || c == kEscape || c == kRunLength;
}

}  // namespace

uint8_t Checksum(std::string_view bytes) {
  uint8_t sum = 0;
  for (char c : bytes) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
  return sum;
}

std::optional<Frame> PacketDecoder::Feed(uint8_t byte) {
  switch (state_) {
    case State::kIdle:
      if (byte == kPacketStart) {
        raw_.clear();
        oversized_ = false;
        sum_ = 0;
        state_ = State::kPayload;
      } else if (byte == kAckByte) {
        return Frame{Frame::Kind::kAck, {}};
      } else if (byte == kNakByte) {
        return Frame{Frame::Kind::kNak, {}};
      } else if (byte == kInterruptByte) {
        return Frame{Frame::Kind::kInterrupt, {}};
      }
      return std::nullopt;  // Noise between packets is ignored.
    case State::kPayload:
      if (byte == kPacketStart) {  // The previous packet was truncated.
        raw_.clear();
        oversized_ = false;
        sum_ = 0;
      } else if (byte == kPacketEnd) {
        state_ = State::kChecksumHigh;
      } else {
        sum_ = static_cast<uint8_t>(sum_ + byte);
        if (raw_.size() < kMaxPacketSize) {
          raw_.push_back(static_cast<char>(byte));
        } else {
          oversized_ = true;  // Keep counting, stop storing.
        }
      }
      return std::nullopt;
    case State::kChecksumHigh: {
      std::optional<uint8_t> nibble = HexDigitValue(static_cast<char>(byte));
      checksum_valid_ = nibble.has_value();
      checksum_high_ = nibble.value_or(0);
      state_ = State::kChecksumLow;
      return std::nullopt;
    }
    case State::kChecksumLow:
      state_ = State::kIdle;
      return Finish(byte);
  }
  return std::nullopt;
}

std::optional<Frame> PacketDecoder::Finish(uint8_t received_checksum_low) {
  std::optional<uint8_t> low = HexDigitValue(static_cast<char>(received_checksum_low));
  const bool checksum_ok =
      checksum_valid_ && low && static_cast<uint8_t>((checksum_high_ << 4) | *low) == sum_;
  std::string raw = std::move(raw_);
  raw_.clear();
  raw_.reserve(kMaxPacketSize);
  if (oversized_) return Frame{Frame::Kind::kOversized, {}};
  if (!checksum_ok) return Frame{Frame::Kind::kBadChecksum, {}};
  std::optional<std::string> payload = DecodePayload(raw, kMaxPacketSize);
  if (!payload) return Frame{Frame::Kind::kBadEncoding, {}};
  return Frame{Frame::Kind::kPacket, std::move(*payload)};
}

void PacketDecoder::Reset() {
  state_ = State::kIdle;
  raw_.clear();
  oversized_ = false;
  sum_ = 0;
}

std::optional<std::string> DecodePayload(std::string_view raw, size_t max_size) {
  std::string out;
  out.reserve(std::min(raw.size(), max_size));
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == kEscape) {
      if (++i == raw.size()) return std::nullopt;  // `}` as the last byte.
      c = static_cast<char>(static_cast<uint8_t>(raw[i]) ^ kEscapeXor);
    } else if (c == kRunLength) {
      if (out.empty() || ++i == raw.size()) return std::nullopt;
      const auto count_byte = static_cast<uint8_t>(raw[i]);
      if (count_byte < kRunCountMin || count_byte > kRunCountMax) return std::nullopt;
      const size_t copies = count_byte - kRunBias;
      if (copies > max_size - out.size()) return std::nullopt;
      out.append(copies, out.back());
      continue;
    }
    if (out.size() == max_size) return std::nullopt;
    out.push_back(c);
  }
  return out;
}

std::string EscapeBinary(std::string_view data) {
  std::string out;
  out.reserve(data.size());
  for (char c : data) {
    if (MustEscape(c)) {
      out.push_back(kEscape);
      out.push_back(static_cast<char>(static_cast<uint8_t>(c) ^ kEscapeXor));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

namespace {

// Appends `payload` with runs compressed. A run of n copies becomes the byte
// and `*` plus the count byte for the rest; counts 6 and 7 would be `#` and
// `$`, so such runs are shortened to 5 and the remainder left as is.
void AppendRunLength(std::string_view payload, std::string& out) {
  constexpr size_t kMaxExtra = kRunCountMax - kRunBias;
  size_t i = 0;
  while (i < payload.size()) {
    const char c = payload[i];
    size_t run = 1;
    while (i + run < payload.size() && payload[i + run] == c && run - 1 < kMaxExtra) ++run;
    out.push_back(c);
    size_t extra = run - 1;
    if (extra == 6 || extra == 7) extra = 5;
    if (extra >= 3) {
      out.push_back(kRunLength);
      out.push_back(static_cast<char>(extra + kRunBias));
    } else {
      extra = 0;
    }
    i += 1 + extra;
  }
}

}  // namespace

std::string EncodePacket(std::string_view payload, bool run_length) {
  std::string out;
  out.reserve(payload.size() + 4);
  out.push_back(kPacketStart);
  if (run_length) {
    AppendRunLength(payload, out);
  } else {
    out.append(payload);
  }
  const uint8_t sum = Checksum(std::string_view(out).substr(1));
  out.push_back(kPacketEnd);
  out.push_back(HexDigit(sum >> 4));
  out.push_back(HexDigit(sum & 0xf));
  return out;
}

}  // namespace mini_vmm::gdb
