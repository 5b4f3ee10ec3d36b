#include "firmware/linux/bzimage.h"

#include <cstring>

namespace mini_vmm::firmware::linux_boot {
namespace {

constexpr uint16_t kBootFlag = 0xaa55;
constexpr uint32_t kHeaderMagic = 0x53726448;  // "HdrS"
constexpr size_t kSectorSize = 512;
// setup_sects == 0 means 4 for compatibility (boot.rst).
constexpr uint8_t kDefaultSetupSects = 4;
// The header's own extent: the jump at 0x200 skips over it, so
// 0x202 + jump's displacement byte ends it.
constexpr size_t kJumpOffset = 0x200;
constexpr size_t kHeaderEndBase = 0x202;

}  // namespace

uint32_t CmdlineLimit(const setup_header& header) {
  constexpr uint16_t kCmdlineSizeField = 0x0206;
  return header.version >= kCmdlineSizeField ? header.cmdline_size : 255;
}

namespace {

// The setup header as the kernel's own header defines it: the header ends
// where the jump at 0x200 lands (0x202 + its displacement byte). Fields past
// that end belong to newer protocols, and the bytes there are setup code:
// they are zeroed so that they are never mistaken for fields.
Result<setup_header> ReadHeader(std::span<const uint8_t> image) {
  if (image.size() < kSetupHeaderOffset + sizeof(setup_header)) {
    return Error::Invalid("the file is too small to be a Linux kernel ({} bytes)", image.size());
  }
  setup_header hdr;
  std::memcpy(&hdr, image.data() + kSetupHeaderOffset, sizeof(hdr));
  if (hdr.boot_flag != kBootFlag || hdr.header != kHeaderMagic) {
    return Error::Invalid("not a Linux bzImage (no boot signature and \"HdrS\" header)");
  }
  const size_t header_len = kHeaderEndBase + image[kJumpOffset + 1] - kSetupHeaderOffset;
  if (header_len < sizeof(hdr)) {
    std::memset(reinterpret_cast<uint8_t*>(&hdr) + header_len, 0, sizeof(hdr) - header_len);
  }
  return hdr;
}

Result<void> CheckBootable(const setup_header& hdr) {
  if (hdr.version < kMinBootProtocol) {
    return Error::Invalid(
        "boot protocol {}.{:02} is too old: mini-vmm needs 2.12 or later (Linux 3.8+) for 64-bit "
        "entry",
        hdr.version >> 8, hdr.version & 0xff);
  }
  if ((hdr.xloadflags & XLF_KERNEL_64) == 0) {
    return Error::Invalid("this kernel cannot be entered in 64-bit mode (not an x86_64 kernel?)");
  }
  if ((hdr.loadflags & LOADED_HIGH) == 0) {
    return Error::Invalid("this kernel does not load at 1 MiB (zImage); rebuild it as bzImage");
  }
  return {};
}

}  // namespace

Result<BzImage> ParseBzImage(std::span<const uint8_t> image) {
  const setup_header hdr = TRY(ReadHeader(image));
  TRY(CheckBootable(hdr));
  const size_t setup_sects = hdr.setup_sects == 0 ? kDefaultSetupSects : hdr.setup_sects;
  const size_t setup_size = (setup_sects + 1) * kSectorSize;
  if (setup_size >= image.size()) {
    return Error::Invalid("the kernel image is truncated: it ends inside its {}-byte setup code",
                          setup_size);
  }
  const uint64_t kernel_size = uint64_t{hdr.syssize} * 16;
  if (kernel_size > image.size() - setup_size) {
    return Error::Invalid(
        "the kernel image is truncated: its header describes {} bytes, the file "
        "has {}",
        setup_size + kernel_size, image.size());
  }
  BzImage bz{};
  bz.header = hdr;
  bz.protected_mode = image.subspan(setup_size);
  if (hdr.payload_offset > bz.protected_mode.size() ||
      hdr.payload_length > bz.protected_mode.size() - hdr.payload_offset) {
    return Error::Invalid(
        "the kernel image is truncated: its compressed payload runs past the end");
  }
  bz.payload = bz.protected_mode.subspan(hdr.payload_offset, hdr.payload_length);
  return bz;
}

}  // namespace mini_vmm::firmware::linux_boot
