// NetDevice: a virtio-net NIC (virtio 1.2 §5.1) on a host tap.
//
//   std::unique_ptr<HostTap> tap = TRY(HostTap::Open("tap0", 2));
//   auto net = TRY(NetDevice::Create(std::move(tap), {.name = "virtio-net0",
//                                                      .mac = mac, .queue_pairs = 2}));
//   auto mmio = std::make_shared<MmioTransport>(net, memory, std::move(queue_events), line);
//
// Queues: receiveq/transmitq pairs 0..queue_pairs-1 (queues 2i, 2i+1), then
// the control queue (queue 2*queue_pairs; queue 2 if the driver does not
// negotiate MQ, §5.1.2). queue_events holds one eventfd per queue, each the
// KVM ioeventfd of its doorbell, so kicks wake the I/O threads directly.
//
// Each queue pair is served by its own I/O thread (net_worker.h) between
// Activate() and Reset(); nothing runs on a vCPU thread. With vhost
// backends (NetDeviceOptions::vhost, one per pair) the pairs run in the
// kernel's vhost-net instead and only the control queue has a thread here
// (vhost_data_path.h).
//
// Threading: the VirtioDevice calls come from the transport, serialised by
// it; counters() from anywhere.
#pragma once

#include <linux/virtio_ids.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "devices/virtio/device.h"
#include "devices/virtio/net/net_config.h"
#include "devices/virtio/net/net_counters.h"
#include "devices/virtio/net/net_worker.h"
#include "devices/virtio/net/tap.h"
#include "devices/virtio/net/vhost_data_path.h"
#include "devices/virtio/net/virtio_net_uapi.h"

namespace mini_vmm::virtio::net {

struct NetDeviceOptions {
  // For logs; also the I/O threads' names ("virtio-net0" + "q<pair>").
  std::string name = "virtio-net0";
  MacAddress mac{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  uint16_t queue_pairs = 1;  // 1..kMaxQueuePairs, at most tap->queue_count().
  // Empty: the userspace data path. Otherwise one vhost-net backend per
  // queue pair, not yet owned (Create sets the owner).
  std::vector<std::unique_ptr<vhost::VhostBackend>> vhost;
};

class NetDevice final : public VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;
  static constexpr uint16_t kControlQueueSize = 64;

  static Result<std::shared_ptr<NetDevice>> Create(std::unique_ptr<Tap> tap,
                                                   NetDeviceOptions options);
  NetDevice(std::unique_ptr<Tap> tap, NetDeviceOptions options,
            std::unique_ptr<VhostDataPath> vhost = nullptr);
  ~NetDevice() override;
  NetDevice(const NetDevice&) = delete;
  NetDevice& operator=(const NetDevice&) = delete;

  std::string_view name() const override { return name_; }
  uint32_t device_type() const override { return VIRTIO_ID_NET; }
  uint64_t features() const override { return features_; }
  std::span<const uint16_t> queue_max_sizes() const override { return queue_max_sizes_; }
  void ReadConfig(uint64_t offset, std::span<uint8_t> data) override;
  void WriteConfig(uint64_t offset, std::span<const uint8_t> data) override;
  Result<void> Activate(const ActivateContext& context) override;
  void Reset() override;

  const NetCounters& counters() const { return counters_; }
  // True between an Activate() that started I/O threads and Reset().
  bool serving() const { return !workers_.empty() || (vhost_ && vhost_->running()); }
  // Whether the queue pairs run in the kernel's vhost-net.
  bool uses_vhost() const { return vhost_ != nullptr; }
  // Queue pairs the driver uses (VQ_PAIRS_SET); 1 after activation.
  uint16_t active_pairs() const { return active_pairs_.load(std::memory_order_relaxed); }

 private:
  Result<void> ConfigureTap(uint64_t driver_features);
  NetWorker::Session MakeSession(const ActivateContext& context, uint16_t pair, size_t header_bytes,
                                 bool mergeable);
  std::optional<NetWorker::Control> MakeControl(const ActivateContext& context, uint16_t pairs);
  void SetActivePairs(uint16_t pairs);
  // VQ_PAIRS_SET with vhost: on the control thread, the only user of the
  // tap's queues then (the kernel reads and writes them itself).
  void SetActiveVhostPairs(uint16_t pairs);

  std::unique_ptr<Tap> tap_;
  std::string name_;
  const uint16_t max_pairs_;
  uint64_t features_;
  std::vector<uint16_t> queue_max_sizes_;
  virtio_net_config config_{};
  NetCounters counters_;
  std::atomic<uint16_t> active_pairs_{1};
  std::unique_ptr<VhostDataPath> vhost_;  // Null: the userspace data path.
  // Between Activate() and Reset(); declared last. Not resized while any of
  // their threads runs (pair 0's thread reads it for VQ_PAIRS_SET).
  std::vector<std::unique_ptr<NetWorker>> workers_;
};

}  // namespace mini_vmm::virtio::net
