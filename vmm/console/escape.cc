#include "vmm/console/escape.h"

namespace mini_vmm::console {

EscapeParser::Output EscapeParser::Feed(std::span<const uint8_t> input) {
  Output out;
  out.to_guest.reserve(input.size());
  for (uint8_t byte : input) {
    if (!pending_escape_) {
      if (byte == kEscapeByte) {
        pending_escape_ = true;
      } else {
        out.to_guest.push_back(byte);
      }
      continue;
    }
    pending_escape_ = false;
    if (byte == 'x' || byte == 'X') {
      out.quit = true;
      return out;
    }
    if (byte == kEscapeByte) {
      out.to_guest.push_back(kEscapeByte);
    }
    // Any other key after Ctrl-A is swallowed, as QEMU does for unknown
    // escape commands.
  }
  return out;
}

}  // namespace mini_vmm::console
