#include "devices/virtio/net/control.h"

#include "devices/virtio/net/virtio_net_uapi.h"
#include "devices/virtio/reader_writer.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::net {
namespace {

struct Decision {
  uint8_t ack;
  std::optional<uint16_t> queue_pairs;
  std::optional<ControlFault> fault;
};

Decision Err(ControlFault fault) { return {VIRTIO_NET_ERR, std::nullopt, fault}; }

// §5.1.6.5.5: VQ_PAIRS_SET carries a le16 in 1..max_virtqueue_pairs.
Decision Multiqueue(uint8_t command, Reader& reader, const ControlContext& context) {
  if (!context.mq) return Err(ControlFault::kMqNotNegotiated);
  if (command != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET) return Err(ControlFault::kUnknownCommand);
  const auto pairs = reader.ReadObj<uint16_t>();  // le16; x86 hosts only.
  if (!pairs) return Err(ControlFault::kShortPayload);
  if (*pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || *pairs > context.max_pairs) {
    return Err(ControlFault::kPairsOutOfRange);
  }
  return {VIRTIO_NET_OK, *pairs, std::nullopt};
}

// §5.1.6.5.1: the rx-mode switches (promiscuous, all-multicast, ...). The
// tap delivers every frame addressed to it and the guest's stack filters
// the rest, so each switch is accepted as is.
Decision RxMode(uint8_t command, Reader& reader) {
  if (command > VIRTIO_NET_CTRL_RX_NOBCAST) return Err(ControlFault::kUnknownCommand);
  if (!reader.ReadObj<uint8_t>()) return Err(ControlFault::kShortPayload);
  return {VIRTIO_NET_OK, std::nullopt, std::nullopt};
}

Decision Decide(Reader& reader, const ControlContext& context) {
  const auto klass = reader.ReadObj<uint8_t>();
  const auto command = reader.ReadObj<uint8_t>();
  if (!klass || !command) return Err(ControlFault::kShortHeader);
  switch (*klass) {
    case VIRTIO_NET_CTRL_MQ:
      return Multiqueue(*command, reader, context);
    case VIRTIO_NET_CTRL_RX:
      return RxMode(*command, reader);
    default:
      return Err(ControlFault::kUnknownClass);
  }
}

}  // namespace

ControlOutcome HandleControl(const DescriptorChain& chain, const ControlContext& context) {
  Writer writer(chain);
  if (writer.available() == 0) {
    return {.written = 0,
            .ack = VIRTIO_NET_ERR,
            .queue_pairs = std::nullopt,
            .fault = ControlFault::kNoAck};
  }
  Reader reader(chain);
  const Decision decision = Decide(reader, context);
  // The ack is the first device-writable byte (Linux gives exactly one).
  writer.WriteObj(decision.ack);
  return {.written = static_cast<uint32_t>(writer.written()),
          .ack = decision.ack,
          .queue_pairs = decision.queue_pairs,
          .fault = decision.fault};
}

uint32_t ServeControlQueue(Queue& queue, const ControlContext& context, NetCounters& counters,
                           const std::function<void(uint16_t)>& set_pairs, std::string_view name) {
  uint32_t used = 0;
  for (;;) {
    queue.DisableNotification();
    while (std::optional<DescriptorChain> chain = queue.Pop()) {
      const ControlOutcome outcome = HandleControl(*chain, context);
      if (outcome.fault) {
        counters.Count(*outcome.fault);
        LOG_WARN_RATELIMITED("{}: {}", name, ControlFaultName(*outcome.fault));
      } else {
        counters.control_ok.fetch_add(1, std::memory_order_relaxed);
      }
      if (outcome.queue_pairs) set_pairs(*outcome.queue_pairs);
      queue.AddUsed(std::move(*chain), outcome.written);
      ++used;
    }
    if (queue.fault() || !queue.EnableNotification()) return used;
  }
}

}  // namespace mini_vmm::virtio::net
