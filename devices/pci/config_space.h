// PciConfigSpace: the type-0 configuration header of one PCI function, its
// BARs and its capability list, with the register semantics a guest sees:
// read-only fields, write masks, write-1-to-clear status bits, BAR sizing.
//
//   PciConfigSpace config({.vendor_id = 0x1af4, .device_id = 0x1042,
//                          .class_code = 0x018000, .interrupt_pin = 1});
//   config.AddBar(0, {.kind = BarKind::kMemory64, .size = 0x4000});
//   uint8_t cap = config.AddCapability(PCI_CAP_ID_VNDR, body);
//   config.set_bar_observer(&machine_side);   // told when BAR 0 moves
//   config.Write(PCI_COMMAND, bytes);          // guest access, any width
//
// Every access is handled byte by byte through the masks, so reads and
// writes of any width at any offset (unaligned, straddling two registers)
// behave as the same bytes written one at a time would. Offsets past the
// 256-byte header, up to the 4 KiB of PCI Express configuration space, read
// as zero and ignore writes.
//
// Not thread-safe: the owner serializes calls (PciRootBus holds its config
// lock around every guest access). The BarObserver is called synchronously
// from Write(), with whatever locks the caller holds.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace mini_vmm::pci {

inline constexpr uint32_t kHeaderSize = 0x100;
inline constexpr int kNumBars = 6;

struct PciHeader {
  uint16_t vendor_id = 0;
  uint16_t device_id = 0;
  uint32_t class_code = 0;  // 24 bits: base class, sub-class, prog-if.
  uint8_t revision = 0;
  uint16_t subsystem_vendor_id = 0;
  uint16_t subsystem_id = 0;
  uint8_t interrupt_pin = 0;  // 0: none, 1-4: INTA#-INTD#.
};

enum class BarKind : uint8_t {
  kNone,
  kMemory32,
  kMemory64,  // Uses the next BAR slot for the upper 32 bits.
  kIo,
};

struct BarSpec {
  BarKind kind = BarKind::kNone;
  uint64_t size = 0;  // Power of two; >= 16 for memory, >= 4 for I/O.
  bool prefetchable = false;
};

// Told when a BAR starts or stops decoding or moves. `old_address` and
// `new_address` are the guest-physical (or port) base before and after, or
// nullopt while the BAR was / is not mapped. A BAR is mapped while its
// decode bit in the command register (memory or I/O space) is set and its
// address is valid: nonzero, not the all-ones sizing pattern, and the
// whole range inside its address space. Linux sizes BARs with decode
// disabled, so sizing does not map anything.
class BarObserver {
 public:
  virtual ~BarObserver() = default;
  virtual void BarMoved(int bar, std::optional<uint64_t> old_address,
                        std::optional<uint64_t> new_address) noexcept = 0;
};

class PciConfigSpace {
 public:
  explicit PciConfigSpace(const PciHeader& header);
  PciConfigSpace(const PciConfigSpace&) = delete;
  PciConfigSpace& operator=(const PciConfigSpace&) = delete;

  // ---- Set-up by the owner (programming errors abort). ----

  // Declares BAR `index` (a 64-bit BAR also takes index + 1).
  void AddBar(int index, const BarSpec& spec);
  // Appends a capability with `id` and `body` (the bytes after the ID and
  // next pointer) at the next dword-aligned offset, links it and sets
  // PCI_STATUS_CAP_LIST. The body is read-only to the guest until the owner
  // calls SetWriteMask. Returns the capability's offset.
  uint8_t AddCapability(uint8_t id, std::span<const uint8_t> body);
  // Makes the bits set in `mask` writable by the guest, from `offset` on.
  void SetWriteMask(uint32_t offset, std::span<const uint8_t> mask);
  void set_bar_observer(BarObserver* observer) { observer_ = observer; }

  // ---- Guest accesses. ----

  // Any width, any offset below kConfigSpaceSize; bytes past the header
  // read as zero.
  void Read(uint32_t offset, std::span<uint8_t> data) const;
  // Any width, any offset; read-only bits keep their value, RW1C status bits
  // are cleared by writing 1. BAR changes are reported to the observer.
  void Write(uint32_t offset, std::span<const uint8_t> data);

  // ---- Owner's view. ----

  uint16_t command() const { return Get16(0x04); }
  // PCI_STATUS_INTERRUPT, which mirrors the state of the INTx line.
  void SetInterruptStatus(bool asserted);
  // What the guest programmed, whether or not decoding is on.
  uint64_t BarAddress(int index) const;
  const BarSpec& bar(int index) const { return bars_[static_cast<size_t>(index)]; }
  // The BAR's address if it is mapped (see BarObserver), else nullopt.
  std::optional<uint64_t> MappedBar(int index) const { return mapped_[static_cast<size_t>(index)]; }
  // Owner-side little-endian accessors for fields the owner maintains; an
  // offset past the header aborts.
  uint8_t Get8(uint32_t offset) const;
  uint16_t Get16(uint32_t offset) const;
  uint32_t Get32(uint32_t offset) const;
  void Set8(uint32_t offset, uint8_t value);
  void Set16(uint32_t offset, uint16_t value);
  void Set32(uint32_t offset, uint32_t value);

 private:
  std::optional<uint64_t> ComputeMapping(int index) const;
  void UpdateMappings();

  std::array<uint8_t, kHeaderSize> data_{};  // guest-controlled where wmask_ allows
  std::array<uint8_t, kHeaderSize> wmask_{};
  std::array<uint8_t, kHeaderSize> w1c_mask_{};
  std::array<BarSpec, kNumBars> bars_{};  // kNone for the upper half of a 64-bit BAR.
  std::array<std::optional<uint64_t>, kNumBars> mapped_{};
  uint8_t next_capability_ = 0x40;  // Where the next capability goes.
  uint8_t last_capability_ = 0;     // 0: none yet.
  BarObserver* observer_ = nullptr;
};

}  // namespace mini_vmm::pci
