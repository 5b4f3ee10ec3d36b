#include "devices/virtio/blk/block_device.h"

#include <linux/virtio_config.h>

#include <algorithm>
#include <cstring>

#include "devices/virtio/blk/request.h"
#include "devices/virtio/virtio_ring.h"
#include "vmm/base/check.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::blk {
namespace {

constexpr uint64_t Bit(unsigned feature) { return uint64_t{1} << feature; }

uint64_t Features(bool read_only) {
  uint64_t features = Bit(VIRTIO_F_VERSION_1) | Bit(VIRTIO_RING_F_INDIRECT_DESC) |
                      Bit(VIRTIO_RING_F_EVENT_IDX) | Bit(VIRTIO_BLK_F_SEG_MAX) |
                      Bit(VIRTIO_BLK_F_BLK_SIZE) |
                      // §5.2.5.2: devices SHOULD always offer FLUSH.
                      Bit(VIRTIO_BLK_F_FLUSH);
  if (read_only) return features | Bit(VIRTIO_BLK_F_RO);
  return features | Bit(VIRTIO_BLK_F_DISCARD) | Bit(VIRTIO_BLK_F_WRITE_ZEROES);
}

virtio_blk_config Config(const DiskImage& image) {
  // Zero-initialised: §5.2.5.2 wants the unused padding bytes 0, and fields
  // of features not offered read as 0 too.
  virtio_blk_config config{};
  config.capacity = image.capacity_sectors();
  // The request header and the status byte take one descriptor each, so a
  // chain of seg_max data segments still fits in the queue (§2.7.5.3.1).
  config.seg_max = BlockDevice::kQueueSize - 2;
  config.blk_size = kSectorSize;
  if (image.read_only()) return config;
  config.max_discard_sectors = kMaxDiscardSectors;
  config.max_discard_seg = kMaxDiscardSegments;
  config.discard_sector_alignment = 1;  // Any sector: a hole punch handles partial blocks.
  config.max_write_zeroes_sectors = kMaxWriteZeroesSectors;
  config.max_write_zeroes_seg = kMaxWriteZeroesSegments;
  // Zeroed ranges may end up as holes (unmap flag, or file systems without
  // FALLOC_FL_ZERO_RANGE), which §5.2.6.2 says this field must admit.
  config.write_zeroes_may_unmap = 1;
  return config;
}

}  // namespace

Result<std::shared_ptr<BlockDevice>> BlockDevice::Create(DiskImage image,
                                                         BlockDeviceOptions options) {
  const int fd = image.fd();
  std::unique_ptr<DiskBackend> backend = TRY(CreateDiskBackend(fd, kQueueSize, options.backend));
  return std::make_shared<BlockDevice>(std::move(image), std::move(backend),
                                       std::move(options.name));
}

BlockDevice::BlockDevice(DiskImage image, std::unique_ptr<DiskBackend> backend, std::string name)
    : image_(std::move(image)),
      backend_(std::move(backend)),
      name_(std::move(name)),
      features_(Features(image_.read_only())),
      config_(Config(image_)) {}

BlockDevice::~BlockDevice() { Reset(); }

void BlockDevice::ReadConfig(uint64_t offset, std::span<uint8_t> data) {
  // Any offset and width: the bytes of the struct that overlap the access,
  // zeros for the rest (device.h's contract for reads past the end).
  std::fill(data.begin(), data.end(), 0);
  if (offset >= sizeof(config_)) return;
  const size_t n = std::min<size_t>(data.size(), sizeof(config_) - offset);
  std::memcpy(data.data(), reinterpret_cast<const uint8_t*>(&config_) + offset, n);
}

void BlockDevice::WriteConfig(uint64_t offset, std::span<const uint8_t> data) {
  // Every field is read-only: `writeback` is writable only with
  // VIRTIO_BLK_F_CONFIG_WCE, which is not offered.
  LOG_DEBUG_RATELIMITED("{}: driver wrote {} bytes of configuration at {:#x}; ignored", name_,
                        data.size(), offset);
}

Result<void> BlockDevice::Activate(const ActivateContext& context) {
  VMM_CHECK(worker_ == nullptr);  // The transport resets before activating again.
  VMM_CHECK(context.queues.size() == 1 && context.queue_events.size() == 1);
  // A driver that did not make the request queue ready asks for no I/O.
  // Its size was never validated, and the worker's tables are sized from
  // it, so nothing is started (or allocated) for it.
  if (!context.queues[0].active()) {
    LOG_DEBUG_RATELIMITED("{}: driver started the device without its request queue", name_);
    return {};
  }
  const auto negotiated = [&](unsigned feature) {
    return (context.driver_features & Bit(feature)) != 0;
  };
  BlockWorker::Session session{
      .name = name_,
      .queue = context.queues[0],
      .kick = context.queue_events[0],
      .interrupt = context.interrupt,
      .needs_reset = context.needs_reset,
      .request_context = RequestContext{.capacity_sectors = image_.capacity_sectors(),
                                        .read_only = image_.read_only(),
                                        .discard = negotiated(VIRTIO_BLK_F_DISCARD),
                                        .write_zeroes = negotiated(VIRTIO_BLK_F_WRITE_ZEROES),
                                        .durable_writes = !negotiated(VIRTIO_BLK_F_FLUSH),
                                        .serial = image_.serial()}};
  worker_ = TRY(BlockWorker::Start(std::move(session), *backend_, counters_));
  return {};
}

void BlockDevice::Reset() {
  // Stops the thread, drains in-flight I/O and forgets its chains.
  worker_.reset();
}

}  // namespace mini_vmm::virtio::blk
