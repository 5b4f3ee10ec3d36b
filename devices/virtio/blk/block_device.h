// BlockDevice: a virtio-blk disk (virtio 1.2 §5.2) over a DiskImage.
//
//   DiskImage image = TRY(DiskImage::Open({.path = path, .read_only = ro, .serial = serial}));
//   std::shared_ptr<BlockDevice> blk =
//       TRY(BlockDevice::Create(std::move(image), {.name = "virtio-blk0"}));
//   auto mmio = std::make_shared<MmioTransport>(blk, memory, std::move(queue_events), line);
//
// queue_events holds one EventFd (one request queue); the VM builder
// registers it with KVM as the ioeventfd of QueueNotify, datamatch 0, so a
// kick wakes the device's I/O thread without a vCPU exit (see
// transport/mmio.h; vmm/machine/virtio_mmio_devices.cc does all of this).
//
// Requests are served on that I/O thread (block_worker.h) from Activate()
// until Reset(); the disk itself is asynchronous (io_uring, or a synchronous
// fallback where io_uring is unavailable).
#pragma once

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include <array>
#include <memory>
#include <span>
#include <string>

#include "devices/virtio/blk/block_worker.h"
#include "devices/virtio/blk/disk_backend.h"
#include "devices/virtio/blk/disk_image.h"
#include "devices/virtio/device.h"

namespace mini_vmm::virtio::blk {

struct BlockDeviceOptions {
  // For logs; also the I/O thread's name ("virtio-blk0", "virtio-blk1", ...).
  std::string name = "virtio-blk0";
  BackendKind backend = BackendKind::kAuto;
};

class BlockDevice final : public VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;

  static Result<std::shared_ptr<BlockDevice>> Create(DiskImage image,
                                                     BlockDeviceOptions options = {});
  BlockDevice(DiskImage image, std::unique_ptr<DiskBackend> backend, std::string name);
  ~BlockDevice() override;
  BlockDevice(const BlockDevice&) = delete;
  BlockDevice& operator=(const BlockDevice&) = delete;

  std::string_view name() const override { return name_; }
  uint32_t device_type() const override { return VIRTIO_ID_BLOCK; }
  uint64_t features() const override { return features_; }
  std::span<const uint16_t> queue_max_sizes() const override { return kQueueMaxSizes; }
  void ReadConfig(uint64_t offset, std::span<uint8_t> data) override;
  void WriteConfig(uint64_t offset, std::span<const uint8_t> data) override;
  Result<void> Activate(const ActivateContext& context) override;
  void Reset() override;

  const BlockCounters& counters() const { return counters_; }
  // True between an Activate() with a ready request queue and Reset().
  bool serving() const { return worker_ != nullptr; }
  std::string_view backend_name() const { return backend_->name(); }

 private:
  static constexpr std::array<uint16_t, 1> kQueueMaxSizes = {kQueueSize};

  DiskImage image_;
  std::unique_ptr<DiskBackend> backend_;  // Uses image_'s fd: declared after it.
  std::string name_;
  uint64_t features_;
  virtio_blk_config config_;
  BlockCounters counters_;
  std::unique_ptr<BlockWorker> worker_;  // Between Activate() and Reset(); declared last.
};

}  // namespace mini_vmm::virtio::blk
