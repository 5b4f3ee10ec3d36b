#include "vmm/base/key_value.h"

namespace mini_vmm {

Result<void> ForEachKeyValue(std::string_view text, std::string_view example,
                             const KeyValueHandler& apply) {
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Error::Invalid("\"{}\" is not key=value (example: {})", item, example);
    }
    TRY(apply(item.substr(0, eq), item.substr(eq + 1)));
  }
  return {};
}

Result<bool> ParseOnOff(std::string_view key, std::string_view value) {
  if (value == "on" || value == "true" || value == "yes") return true;
  if (value == "off" || value == "false" || value == "no") return false;
  return Error::Invalid("{}={} is not on or off", key, value);
}

}  // namespace mini_vmm
