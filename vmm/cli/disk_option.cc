#include "vmm/cli/disk_option.h"

#include <linux/virtio_blk.h>

#include <string>

namespace mini_vmm::cli {
namespace {

Result<bool> ParseOnOff(std::string_view key, std::string_view value) {
  if (value == "on" || value == "true" || value == "yes") return true;
  if (value == "off" || value == "false" || value == "no") return false;
  return Error::Invalid("--disk: {}={} is not on or off", key, value);
}

Result<void> ApplyKey(std::string_view key, std::string_view value, DiskConfig& disk) {
  if (key == "path") {
    if (value.empty()) return Error::Invalid("--disk: path= is empty");
    disk.path = std::string(value);
  } else if (key == "readonly" || key == "ro") {
    disk.read_only = TRY(ParseOnOff(key, value));
  } else if (key == "serial") {
    if (value.size() > VIRTIO_BLK_ID_BYTES) {
      return Error::Invalid("--disk: serial \"{}\" is longer than {} bytes", value,
                            VIRTIO_BLK_ID_BYTES);
    }
    disk.serial = std::string(value);
  } else {
    return Error::Invalid("--disk: unknown key \"{}\" (known: path, readonly, serial)", key);
  }
  return {};
}

}  // namespace

Result<DiskConfig> ParseDiskOption(std::string_view text) {
  DiskConfig disk;
  bool have_path = false;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Error::Invalid("--disk: \"{}\" is not key=value (example: path=disk.img,readonly=on)",
                            item);
    }
    const std::string_view key = item.substr(0, eq);
    TRY(ApplyKey(key, item.substr(eq + 1), disk));
    have_path = have_path || key == "path";
  }
  if (!have_path) return Error::Invalid("--disk needs path=FILE");
  return disk;
}

}  // namespace mini_vmm::cli
