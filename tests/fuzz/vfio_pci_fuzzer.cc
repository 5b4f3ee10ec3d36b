// vfio_pci_fuzzer: a hostile guest against a passed-through function (the
// fake NVMe of tests/support/fake_vfio.h), and a hostile device header.
//
// The input first patches the device's configuration header (count, then
// offset/value byte pairs), picks BAR 0's region size and VFIO's MSI
// vector count, and patches extended configuration space (count, then
// u16 offset/value pairs), so the layout parser sees malformed capability
// lists, MSI capabilities, MSI-X tables, BARs and extended capability
// chains; a header it refuses ends the run. The rest is a program: each
// instruction is an opcode byte and operands (little-endian, zero once the
// input runs out); see enum Op. kHostVectors makes the "host" allocate
// fewer MSI or MSI-X vectors than asked from the next enable on, so the
// relay's retry paths run. Invariants:
//   - the guest's extended capability chain (read through ReadConfig) ends
//     within 960 steps and shows no hidden capability;
//   - no write ever reaches the device's BAR registers, its ROM BAR, its
//     MSI capability (emulated) or a hidden capability, an extended
//     capability header, a hidden extended capability, or the MSI-X table
//     or PBA inside BAR 0;
//   - every read fills its buffer (read twice over different fill bytes,
//     the results agree);
//   - at most one interrupt type is enabled on the device; each MSI-X or
//     MSI vector VFIO signals is -1, the vector's KVM route fd, or a
//     parked fd, never another vector's route;
//   - after Shutdown the device has no interrupt enabled.
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

#include "devices/vfio_pci/vfio_pci_function.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/support/fake_vfio.h"
#include "vmm/base/check.h"

namespace mini_vmm {
namespace {

using testing::FakeVectorRoutes;
using testing::FakeVfioDevice;

enum Op : uint8_t {
  kConfigRead,    // offset (u16 % 0x1000), width 1/2/4.
  kConfigWrite,   // offset, width, value (u32).
  kBarRead,       // offset (u16 % BAR size), width 1-8.
  kBarWrite,      // offset, width, value (u64).
  kMsixEntry,     // vector (u8), dword (u8 % 4), value: a write to the table.
  kMsixControl,   // Message Control value (u16).
  kDeviceIrq,     // vector: the device signals whatever VFIO points it at.
  kShutdown,      // Disable everything (teardown).
  kMsiWrite,      // offset (u8 % 24 from the MSI capability), width, value (u32).
  kMsiDeviceIrq,  // vector: the device signals whatever VFIO's MSI index points at.
  kHostVectors,   // index (u8 % 2: MSI, MSI-X), count (u8; 0: no limit): vectors the host has.
  kNumOps,
};

void PatchDevice(fuzz::FuzzInput& in, FakeVfioDevice& dev) {
  const uint8_t patches = in.U8() % 16;
  for (uint8_t i = 0; i < patches; ++i) {
    const uint8_t offset = in.U8();
    dev.config()[offset] = in.U8();
  }
  const uint8_t shift = static_cast<uint8_t>(in.U8() % 20);
  if (shift >= 4) {
    auto& bar0 = dev.regions_[VFIO_PCI_BAR0_REGION_INDEX];
    bar0 = FakeVfioDevice::Region(0, uint64_t{1} << shift, true);
    dev.data_[VFIO_PCI_BAR0_REGION_INDEX].resize(bar0.size);
  }
  const uint8_t msi_vectors = in.U8() % 34;  // 33: no MSI index at all.
  if (msi_vectors == 33) {
    dev.irqs_.erase(VFIO_PCI_MSI_IRQ_INDEX);
  } else {
    dev.irqs_[VFIO_PCI_MSI_IRQ_INDEX].count = msi_vectors;
  }
  const uint8_t extended = in.U8() % 32;
  for (uint8_t i = 0; i < extended; ++i) {
    const uint16_t offset = static_cast<uint16_t>(0x100 + in.U16() % 0xf00);
    dev.config()[offset] = in.U8();
  }
}

// The guest walks the extended chain as Linux's pci_find_next_ext_capability
// does, but checks instead of trusting.
void CheckExtendedChain(vfio_pci::VfioPciFunction& fn) {
  uint32_t at = 0x100;
  for (int steps = 0; at != 0; ++steps) {
    VMM_CHECK(steps < 960 && at >= 0x100 && at <= 0xffc && at % 4 == 0);
    uint8_t bytes[4] = {};
    fn.ReadConfig(at, bytes);
    uint32_t header = 0;
    std::memcpy(&header, bytes, 4);
    const auto id = static_cast<uint16_t>(header & 0xffff);
    // ID 0 only as the placeholder at 0x100 (version 0 too).
    VMM_CHECK(!vfio_pci::HiddenExtendedCapability(id) ||
              (id == 0 && at == 0x100 && ((header >> 16) & 0xf) == 0));
    at = (header >> 20) & 0xffc;
  }
}

bool Inside(uint64_t at, uint64_t from, uint64_t size) { return at >= from && at < from + size; }

// Bytes of config space a guest write must never reach on the device.
bool Protected(uint64_t at, const vfio_pci::FunctionLayout& layout) {
  if (Inside(at, PCI_BASE_ADDRESS_0, 24) || Inside(at, PCI_ROM_ADDRESS, 4)) return true;
  if (layout.msi && Inside(at, layout.msi->offset, layout.msi->size)) return true;
  for (const auto& cap : layout.capabilities) {
    if (cap.hidden && Inside(at, cap.offset, cap.size)) return true;
  }
  const vfio_pci::ExtendedLayout& ext = layout.extended;
  if (at >= 0x100 && (ext.end == 0 || at >= ext.end || Inside(at, 0x100, 4))) return true;
  for (const auto& cap : ext.capabilities) {
    if (Inside(at, cap.offset, 4) || (cap.hidden && at >= cap.offset && at < cap.end)) return true;
  }
  return false;
}

void CheckWrites(const FakeVfioDevice& dev, const vfio_pci::FunctionLayout& layout) {
  for (const FakeVfioDevice::Access& w : dev.writes) {
    for (uint64_t i = 0; i < w.bytes.size(); ++i) {
      const uint64_t at = w.offset + i;
      if (w.index == VFIO_PCI_CONFIG_REGION_INDEX) {
        VMM_CHECK(!Protected(at, layout));
      } else if (layout.msix && w.index == layout.msix->table_bar) {
        const uint64_t table_end =
            layout.msix->table_offset + uint64_t{layout.msix->vectors} * PCI_MSIX_ENTRY_SIZE;
        VMM_CHECK(at < layout.msix->table_offset || at >= table_end);
      }
    }
  }
}

void CheckVectors(FakeVfioDevice& dev, const FakeVectorRoutes& routes, uint32_t index,
                  uint16_t vectors) {
  auto it = dev.triggers.find(index);
  if (it == dev.triggers.end()) return;
  VMM_CHECK(it->second.size() <= dev.irq(index).count);
  for (size_t v = 0; v < it->second.size() && v < vectors; ++v) {
    const int fd = it->second[v];
    if (fd < 0) continue;
    const int route = routes.TriggerFd(static_cast<uint16_t>(v));
    // Either the vector's route or a parked eventfd, which no route uses.
    bool someone_elses = false;
    for (const auto& [other, efd] : routes.fds) someone_elses |= other != v && efd.fd() == fd;
    VMM_CHECK(!someone_elses);
    (void)route;
  }
}

void CheckTriggers(FakeVfioDevice& dev, const FakeVectorRoutes& routes,
                   const vfio_pci::VfioPciFunction& fn) {
  VMM_CHECK(dev.triggers.size() <= 1);  // One interrupt type at a time.
  CheckVectors(dev, routes, VFIO_PCI_MSIX_IRQ_INDEX, fn.msix_vectors());
  CheckVectors(dev, routes, VFIO_PCI_MSI_IRQ_INDEX, fn.msi_vectors());
}

// Reads twice, over two fill patterns: a byte the read left alone differs.
template <typename Read>
void CheckFills(size_t width, Read read) {
  uint8_t a[8];
  uint8_t b[8];
  std::fill(a, a + 8, 0x5a);
  std::fill(b, b + 8, 0xa5);
  read(std::span(a, width));
  read(std::span(b, width));
  VMM_CHECK(std::equal(a, a + width, b));
}

void Step(fuzz::FuzzInput& in, FakeVfioDevice& dev, vfio_pci::VfioPciFunction& fn) {
  const uint64_t bar_size = dev.regions_[VFIO_PCI_BAR0_REGION_INDEX].size;
  uint8_t buf[8];
  switch (static_cast<Op>(in.U8() % kNumOps)) {
    case kConfigRead: {
      const uint32_t offset = in.U16() % pci::kConfigSpaceSize;
      const size_t width = size_t{1} << (in.U8() % 3);
      CheckFills(std::min<size_t>(width, pci::kConfigSpaceSize - offset),
                 [&fn, offset](std::span<uint8_t> data) { fn.ReadConfig(offset, data); });
      break;
    }
    case kConfigWrite: {
      const uint32_t offset = in.U16() % pci::kConfigSpaceSize;
      const size_t width = size_t{1} << (in.U8() % 3);
      in.Copy(std::span(buf, 4));
      fn.WriteConfig(offset,
                     std::span(buf, std::min<size_t>(width, pci::kConfigSpaceSize - offset)));
      break;
    }
    case kBarRead: {
      const uint64_t offset = in.U16() % std::max<uint64_t>(bar_size, 1);
      const size_t width = 1 + in.U8() % 8;
      CheckFills(width, [&fn, offset](std::span<uint8_t> data) { fn.ReadBar(0, offset, data); });
      break;
    }
    case kBarWrite: {
      const uint64_t offset = in.U16() % std::max<uint64_t>(bar_size, 1);
      const size_t width = 1 + in.U8() % 8;
      in.Copy(std::span(buf, width));
      fn.WriteBar(0, offset, std::span(buf, width));
      break;
    }
    case kMsixEntry: {
      if (!fn.layout().msix) break;
      const auto& m = *fn.layout().msix;
      const uint64_t offset = m.table_offset + (in.U8() % m.vectors) * 16u + (in.U8() % 4) * 4u;
      in.Copy(std::span(buf, 4));
      fn.WriteBar(m.table_bar, offset, std::span(buf, 4));
      break;
    }
    case kMsixControl: {
      if (!fn.layout().msix) break;
      in.Copy(std::span(buf, 2));
      fn.WriteConfig(fn.layout().msix->offset + PCI_MSIX_FLAGS, std::span(buf, 2));
      break;
    }
    case kDeviceIrq: {
      auto it = dev.triggers.find(VFIO_PCI_MSIX_IRQ_INDEX);
      const uint8_t v = in.U8();
      if (it == dev.triggers.end() || v >= it->second.size() || it->second[v] < 0) break;
      const uint64_t one = 1;
      VMM_CHECK(::write(it->second[v], &one, sizeof(one)) == sizeof(one));
      break;
    }
    case kShutdown:
      fn.Shutdown();
      VMM_CHECK(dev.triggers.empty());
      break;
    case kMsiWrite: {
      const uint32_t offset = in.U8() % 24u;
      const size_t width = size_t{1} << (in.U8() % 3);
      in.Copy(std::span(buf, 4));
      if (!fn.layout().msi) break;
      fn.WriteConfig(fn.layout().msi->offset + offset, std::span(buf, width));
      break;
    }
    case kMsiDeviceIrq: {
      auto it = dev.triggers.find(VFIO_PCI_MSI_IRQ_INDEX);
      const uint8_t v = in.U8();
      if (it == dev.triggers.end() || v >= it->second.size() || it->second[v] < 0) break;
      const uint64_t one = 1;
      VMM_CHECK(::write(it->second[v], &one, sizeof(one)) == sizeof(one));
      break;
    }
    case kHostVectors: {
      const uint32_t index = in.U8() % 2 == 0 ? VFIO_PCI_MSI_IRQ_INDEX : VFIO_PCI_MSIX_IRQ_INDEX;
      const uint8_t count = in.U8();
      if (count == 0) {
        dev.host_vectors.erase(index);
      } else {
        dev.host_vectors[index] = count;
      }
      break;
    }
    case kNumOps:
      break;
  }
}

}  // namespace
}  // namespace mini_vmm

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mini_vmm;
  fuzz::FuzzInput in({data, size});
  FakeVfioDevice dev;
  PatchDevice(in, dev);
  FakeVectorRoutes routes;
  auto made = vfio_pci::VfioPciFunction::Create(dev, routes, 0x1000);
  if (!made.ok()) return 0;
  vfio_pci::VfioPciFunction& fn = **made;
  CheckExtendedChain(fn);
  for (int steps = 0; !in.done() && steps < 4096; ++steps) {
    Step(in, dev, fn);
    CheckWrites(dev, fn.layout());
    CheckTriggers(dev, routes, fn);
  }
  return 0;
}
