#include "devices/virtio/blk/disk_config.h"

#include <linux/virtio_blk.h>

#include <string>

#include "vmm/base/key_value.h"

namespace mini_vmm::virtio::blk {
namespace {

Result<void> ApplyKey(std::string_view key, std::string_view value, DiskConfig& disk) {
  if (key == "path") {
    if (value.empty()) return Error::Invalid("path= is empty");
    disk.path = std::string(value);
  } else if (key == "readonly" || key == "ro") {
    disk.read_only = TRY(ParseOnOff(key, value));
  } else if (key == "serial") {
    if (value.size() > VIRTIO_BLK_ID_BYTES) {
      return Error::Invalid("serial \"{}\" is longer than {} bytes", value,
                            VIRTIO_BLK_ID_BYTES);
    }
    disk.serial = std::string(value);
  } else {
    return Error::Invalid("unknown key \"{}\" (known: path, readonly, serial)", key);
  }
  return {};
}

}  // namespace

Result<DiskConfig> ParseDiskOption(std::string_view text) {
  DiskConfig disk;
  bool have_path = false;
  const KeyValueHandler apply = [&](std::string_view key, std::string_view value) {
    have_path = have_path || key == "path";
    return ApplyKey(key, value, disk);
  };
  TRY(ForEachKeyValue(text, "path=disk.img,readonly=on", apply));
  if (!have_path) return Error::Invalid("path=FILE is missing");
  return disk;
}

}  // namespace mini_vmm::virtio::blk
