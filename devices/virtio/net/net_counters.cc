#include "devices/virtio/net/net_counters.h"

namespace mini_vmm::virtio::net {

const char* TxFaultName(TxFault fault) {
  switch (fault) {
    case TxFault::kWritableBuffer:
      return "tx chain has device-writable buffers";
    case TxFault::kShorterThanHeader:
      return "tx chain is shorter than the virtio-net header";
    case TxFault::kTooLong:
      return "tx chain is longer than the largest frame";
    case TxFault::kTooManyBuffers:
      return "tx chain has more buffers than writev takes";
  }
  return "unknown tx fault";
}

const char* RxFaultName(RxFault fault) {
  switch (fault) {
    case RxFault::kBufferTooSmall:
      return "rx chain is smaller than the virtio-net header";
    case RxFault::kFrameTooBig:
      return "rx chain is too small for the frame (no MRG_RXBUF)";
    case RxFault::kShortFrame:
      return "tap frame is shorter than the virtio-net header, or truncated";
  }
  return "unknown rx fault";
}

const char* ControlFaultName(ControlFault fault) {
  switch (fault) {
    case ControlFault::kNoAck:
      return "control request has no ack byte";
    case ControlFault::kShortHeader:
      return "control request is shorter than its header";
    case ControlFault::kShortPayload:
      return "control command is missing its data";
    case ControlFault::kUnknownClass:
      return "unknown control class";
    case ControlFault::kUnknownCommand:
      return "unknown control command";
    case ControlFault::kMqNotNegotiated:
      return "multiqueue command without VIRTIO_NET_F_MQ";
    case ControlFault::kPairsOutOfRange:
      return "queue pair count out of range";
  }
  return "unknown control fault";
}

}  // namespace mini_vmm::virtio::net
