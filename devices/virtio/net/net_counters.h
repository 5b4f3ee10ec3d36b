// NetCounters: what a virtio-net device did and what it refused, for tests
// and diagnostics. Written by the device's I/O threads with relaxed atomics,
// read by anyone.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace mini_vmm::virtio::net {

// A malformed transmit chain: dropped (returned to the driver unsent).
enum class TxFault {
  kWritableBuffer,     // a tx chain has device-writable descriptors
  kShorterThanHeader,  // fewer readable bytes than the virtio_net_hdr
  kTooLong,            // more than the header plus the largest frame
  kTooManyBuffers,     // more segments than writev takes (IOV_MAX)
};
inline constexpr size_t kTxFaultCount = 4;
const char* TxFaultName(TxFault fault);

// A receive chain or frame that could not be used.
enum class RxFault {
  kBufferTooSmall,  // an rx chain too small for the header: returned empty
  kFrameTooBig,     // without MRG_RXBUF the chain cannot hold the frame: frame dropped
  kShortFrame,      // the tap gave less than a header, or a truncated frame: dropped
};
inline constexpr size_t kRxFaultCount = 3;
const char* RxFaultName(RxFault fault);

// A control-queue request answered VIRTIO_NET_ERR (or dropped: kNoAck).
enum class ControlFault {
  kNoAck,         // no device-writable byte for the ack: dropped
  kShortHeader,   // fewer than two readable bytes (class, command)
  kShortPayload,  // the command's data is missing
  kUnknownClass,
  kUnknownCommand,
  kMqNotNegotiated,  // VIRTIO_NET_CTRL_MQ without VIRTIO_NET_F_MQ
  kPairsOutOfRange,  // VQ_PAIRS_SET outside 1..max_virtqueue_pairs
};
inline constexpr size_t kControlFaultCount = 7;
const char* ControlFaultName(ControlFault fault);

struct NetCounters {
  std::atomic<uint64_t> tx_frames{0};    // Frames written to the tap.
  std::atomic<uint64_t> tx_errors{0};    // The tap refused a frame (host side).
  std::atomic<uint64_t> rx_frames{0};    // Frames put in guest buffers.
  std::atomic<uint64_t> rx_errors{0};    // Tap read failures (host side).
  std::atomic<uint64_t> rx_stalls{0};    // Times rx waited for the driver's buffers.
  std::atomic<uint64_t> control_ok{0};   // Control commands acked VIRTIO_NET_OK.
  std::atomic<uint64_t> ring_faults{0};  // Queue faults (DEVICE_NEEDS_RESET).
  std::array<std::atomic<uint64_t>, kTxFaultCount> tx_faults{};
  std::array<std::atomic<uint64_t>, kRxFaultCount> rx_faults{};
  std::array<std::atomic<uint64_t>, kControlFaultCount> control_faults{};

  uint64_t fault(TxFault f) const { return Load(tx_faults[static_cast<size_t>(f)]); }
  uint64_t fault(RxFault f) const { return Load(rx_faults[static_cast<size_t>(f)]); }
  uint64_t fault(ControlFault f) const { return Load(control_faults[static_cast<size_t>(f)]); }
  void Count(TxFault f) { Bump(tx_faults[static_cast<size_t>(f)]); }
  void Count(RxFault f) { Bump(rx_faults[static_cast<size_t>(f)]); }
  void Count(ControlFault f) { Bump(control_faults[static_cast<size_t>(f)]); }

  static void Bump(std::atomic<uint64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }
  static uint64_t Load(const std::atomic<uint64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
  }
};

}  // namespace mini_vmm::virtio::net
