// What the transport sees of the device before it runs: identity, features
// and the configuration space.
#include "devices/virtio/blk/block_device.h"

#include <linux/virtio_config.h>

#include <catch2/catch.hpp>
#include <cstddef>
#include <limits>

#include "devices/virtio/virtio_ring.h"
#include "tests/unit/devices/virtio/blk/device_fixture.h"

namespace mini_vmm::virtio::blk {
namespace {

using testing::DeviceTest;
using testing::kDiskSectors;

constexpr uint64_t Bit(unsigned feature) { return uint64_t{1} << feature; }

class ConfigTest : public DeviceTest {
 protected:
  template <typename T>
  T Read(size_t offset) {
    T value{};
    device_->ReadConfig(offset, {reinterpret_cast<uint8_t*>(&value), sizeof(T)});
    return value;
  }
  std::vector<uint8_t> ReadBytes(uint64_t offset, size_t len) {
    std::vector<uint8_t> bytes(len, 0xee);
    device_->ReadConfig(offset, bytes);
    return bytes;
  }
};

TEST_CASE_METHOD(ConfigTest, "The device is a block device with one 256-entry queue") {
  MakeDevice();

  CHECK(device_->device_type() == VIRTIO_ID_BLOCK);
  REQUIRE(device_->queue_max_sizes().size() == 1);
  CHECK(device_->queue_max_sizes()[0] == 256);
  CHECK(device_->name() == "virtio-blk-test");
}

TEST_CASE_METHOD(ConfigTest, "A writable disk offers discard and write zeroes") {
  MakeDevice();

  CHECK(device_->features() ==
        (Bit(VIRTIO_F_VERSION_1) | Bit(VIRTIO_RING_F_INDIRECT_DESC) | Bit(VIRTIO_RING_F_EVENT_IDX) |
         Bit(VIRTIO_BLK_F_SEG_MAX) | Bit(VIRTIO_BLK_F_BLK_SIZE) | Bit(VIRTIO_BLK_F_FLUSH) |
         Bit(VIRTIO_BLK_F_DISCARD) | Bit(VIRTIO_BLK_F_WRITE_ZEROES)));
}

TEST_CASE_METHOD(ConfigTest, "A read-only disk offers RO instead") {
  MakeDevice(/*read_only=*/true);

  CHECK(device_->features() ==
        (Bit(VIRTIO_F_VERSION_1) | Bit(VIRTIO_RING_F_INDIRECT_DESC) | Bit(VIRTIO_RING_F_EVENT_IDX) |
         Bit(VIRTIO_BLK_F_SEG_MAX) | Bit(VIRTIO_BLK_F_BLK_SIZE) | Bit(VIRTIO_BLK_F_FLUSH) |
         Bit(VIRTIO_BLK_F_RO)));
}

TEST_CASE_METHOD(ConfigTest, "The configuration space describes the disk") {
  MakeDevice();

  CHECK(Read<uint64_t>(offsetof(virtio_blk_config, capacity)) == kDiskSectors);
  CHECK(Read<uint32_t>(offsetof(virtio_blk_config, seg_max)) == 254);
  CHECK(Read<uint32_t>(offsetof(virtio_blk_config, blk_size)) == 512);
  CHECK(Read<uint32_t>(offsetof(virtio_blk_config, max_discard_sectors)) == kMaxDiscardSectors);
  CHECK(Read<uint32_t>(offsetof(virtio_blk_config, max_discard_seg)) == kMaxDiscardSegments);
  CHECK(Read<uint32_t>(offsetof(virtio_blk_config, discard_sector_alignment)) == 1);
  CHECK(Read<uint32_t>(offsetof(virtio_blk_config, max_write_zeroes_sectors)) ==
        kMaxWriteZeroesSectors);
  CHECK(Read<uint32_t>(offsetof(virtio_blk_config, max_write_zeroes_seg)) ==
        kMaxWriteZeroesSegments);
  CHECK(Read<uint8_t>(offsetof(virtio_blk_config, write_zeroes_may_unmap)) == 1);
  CHECK(Read<uint8_t>(offsetof(virtio_blk_config, wce)) == 0);
}

TEST_CASE_METHOD(ConfigTest, "A read-only disk has no discard limits") {
  MakeDevice(/*read_only=*/true);

  CHECK(Read<uint32_t>(offsetof(virtio_blk_config, max_discard_seg)) == 0);
  CHECK(Read<uint32_t>(offsetof(virtio_blk_config, max_write_zeroes_seg)) == 0);
}

TEST_CASE_METHOD(ConfigTest, "Reads at any offset and width see the struct's bytes") {
  MakeDevice();

  // capacity = 128 = 0x80, little-endian.
  CHECK(ReadBytes(0, 3) == std::vector<uint8_t>{0x80, 0, 0});
  CHECK(ReadBytes(1, 2) == std::vector<uint8_t>{0, 0});
}

TEST_CASE_METHOD(ConfigTest, "Reads past the struct see zeros") {
  MakeDevice();

  CHECK(ReadBytes(sizeof(virtio_blk_config) - 1, 4) == std::vector<uint8_t>{0, 0, 0, 0});
  CHECK(ReadBytes(0x800, 4) == std::vector<uint8_t>{0, 0, 0, 0});
  CHECK(ReadBytes(std::numeric_limits<uint64_t>::max(), 2) == std::vector<uint8_t>{0, 0});
}

TEST_CASE_METHOD(ConfigTest, "Writes to the configuration space are ignored") {
  MakeDevice();
  const std::vector<uint8_t> ones(8, 0xff);

  device_->WriteConfig(0, ones);
  device_->WriteConfig(offsetof(virtio_blk_config, wce), std::span(ones).first(1));

  CHECK(Read<uint64_t>(offsetof(virtio_blk_config, capacity)) == kDiskSectors);
  CHECK(Read<uint8_t>(offsetof(virtio_blk_config, wce)) == 0);
}

}  // namespace
}  // namespace mini_vmm::virtio::blk
