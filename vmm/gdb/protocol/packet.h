// The GDB Remote Serial Protocol packet layer: framing, checksums, `}`
// escaping and run-length encoding, acknowledgements. Pure byte
// manipulation, no knowledge of what a packet means (vmm/gdb/session.h
// gives packets their meaning) and no I/O.
//
// The client is untrusted input: a connection on the stub's port may send
// anything. PacketDecoder therefore keeps at most kMaxPacketSize raw bytes;
// a longer packet is consumed to its end and reported as oversized, never
// buffered, so the decoder's memory is fixed whatever the peer sends.
//
//   PacketDecoder decoder;
//   for (uint8_t byte : bytes_from_socket) {
//     std::optional<Frame> frame = decoder.Feed(byte);
//     if (!frame) continue;
//     switch (frame->kind) { case Frame::Kind::kPacket: ... }
//   }
//   socket.Write(EncodePacket("OK"));   // "$OK#9a"
//
// Threading: PacketDecoder is a plain value; one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mini_vmm::gdb {

// The largest packet payload (between `$` and `#`, still escaped) the stub
// accepts, and what it advertises as qSupported's PacketSize. Big enough for
// a `G` packet of the whole x86_64 register file (vmm/gdb/x86_64_registers.h)
// in hex, and for gdb's bulk memory transfers.
inline constexpr size_t kMaxPacketSize = 16384;

// Single bytes of the protocol outside packets.
inline constexpr uint8_t kAckByte = '+';
inline constexpr uint8_t kNakByte = '-';
// Ctrl-C: gdb asks a running target to stop.
inline constexpr uint8_t kInterruptByte = 0x03;

// One thing the peer sent.
struct Frame {
  enum class Kind {
    kPacket,       // A well-formed packet; `payload` holds its decoded bytes.
    kAck,          // `+`
    kNak,          // `-`: the peer wants the last packet sent again.
    kInterrupt,    // 0x03 outside a packet.
    kBadChecksum,  // Complete, but the checksum does not match (or is not hex).
    kOversized,    // Longer than kMaxPacketSize; dropped.
    kBadEncoding,  // Checksum fine, but the escapes or run lengths are malformed.
  };
  Kind kind;
  std::string payload;  // Only for kPacket.

  // Whether a packet arrived, good or bad, that acknowledgement mode answers
  // with `+` (kPacket) or `-` (the three failures).
  bool IsPacket() const {
    return kind == Kind::kPacket || kind == Kind::kBadChecksum || kind == Kind::kOversized ||
           kind == Kind::kBadEncoding;
  }
};

// Turns the byte stream from the peer into Frames, one byte at a time.
//
// Resynchronisation: a `$` inside a packet starts a new packet and the
// truncated one is forgotten silently (gdb escapes `$` in binary data, so a
// raw `$` can only mean the previous packet was cut short). Bytes outside a
// packet other than `+`, `-`, `$` and 0x03 are ignored, as the protocol
// asks.
class PacketDecoder {
 public:
  PacketDecoder() { raw_.reserve(kMaxPacketSize); }

  std::optional<Frame> Feed(uint8_t byte);

  // Forgets a partly received packet (e.g. after a reconnect).
  void Reset();

 private:
  enum class State { kIdle, kPayload, kChecksumHigh, kChecksumLow };

  std::optional<Frame> Finish(uint8_t received_checksum_low);

  State state_ = State::kIdle;
  std::string raw_;  // Escaped payload so far; never above kMaxPacketSize.
  bool oversized_ = false;
  uint8_t sum_ = 0;  // Modulo-256 sum of every payload byte, including dropped ones.
  uint8_t checksum_high_ = 0;
  bool checksum_valid_ = true;
};

// The modulo-256 sum of `bytes`, the protocol's checksum.
uint8_t Checksum(std::string_view bytes);

// Undoes `}` escaping and `*` run-length encoding in a raw payload. Returns
// nullopt for a dangling `}`, a `*` with nothing before it or without a
// count, a count outside the printable range the protocol allows, or a
// result longer than `max_size`.
std::optional<std::string> DecodePayload(std::string_view raw, size_t max_size);

// Escapes the bytes that may not appear raw in a packet (`$`, `#`, `}`,
// `*`): for binary data such as qXfer replies and X packets.
std::string EscapeBinary(std::string_view data);

// Frames `payload` as `$payload#xx`. The payload must not contain raw `$`,
// `#`, `}` or `*` (text replies never do; binary data goes through
// EscapeBinary first). With `run_length`, runs of 4 or more equal bytes are
// compressed (the protocol's `*` encoding); off by default, as not every
// client handles it in every packet.
std::string EncodePacket(std::string_view payload, bool run_length = false);

}  // namespace mini_vmm::gdb
