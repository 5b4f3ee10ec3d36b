// vfio_pci_fuzzer: a hostile guest against a passed-through function (the
// fake NVMe of tests/support/fake_vfio.h), and a hostile device header.
//
// The input first patches the device's configuration header (count, then
// offset/value byte pairs) and picks BAR 0's region size, so the layout
// parser sees malformed capability lists, MSI-X tables and BARs; a header
// it refuses ends the run. The rest is a program: each instruction is an
// opcode byte and operands (little-endian, zero once the input runs out);
// see enum Op. Invariants, checked after every instruction:
//   - no write ever reaches the device's BAR registers, its ROM BAR,
//     extended configuration space, its hidden MSI capability, or the
//     MSI-X table or PBA inside BAR 0;
//   - every read fills its buffer;
//   - each MSI-X vector VFIO signals is -1, the vector's KVM route fd, or
//     a parked fd; a vector pointed at the guest has a route;
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
  kConfigRead,   // offset (u16 % 0x1000), width 1/2/4.
  kConfigWrite,  // offset, width, value (u32).
  kBarRead,      // offset (u16 % BAR size), width 1-8.
  kBarWrite,     // offset, width, value (u64).
  kMsixEntry,    // vector (u8), dword (u8 % 4), value: a write to the table.
  kMsixControl,  // Message Control value (u16).
  kDeviceIrq,    // vector: the device signals whatever VFIO points it at.
  kShutdown,     // Disable everything (teardown).
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
}

// Bytes of config space a guest write must never reach on the device.
bool Protected(uint64_t offset) {
  return (offset >= PCI_BASE_ADDRESS_0 && offset < PCI_BASE_ADDRESS_5 + 4) ||
         (offset >= PCI_ROM_ADDRESS && offset < PCI_ROM_ADDRESS + 4) || offset >= 0x100;
}

void CheckWrites(const FakeVfioDevice& dev, const vfio_pci::FunctionLayout& layout) {
  for (const FakeVfioDevice::Access& w : dev.writes) {
    for (uint64_t i = 0; i < w.bytes.size(); ++i) {
      const uint64_t at = w.offset + i;
      if (w.index == VFIO_PCI_CONFIG_REGION_INDEX) {
        VMM_CHECK(!Protected(at));
        for (const auto& cap : layout.capabilities) {
          VMM_CHECK(!cap.hidden || at < cap.offset || at >= uint64_t{cap.offset} + cap.size);
        }
      } else if (layout.msix && w.index == layout.msix->table_bar) {
        const uint64_t table_end =
            layout.msix->table_offset + uint64_t{layout.msix->vectors} * PCI_MSIX_ENTRY_SIZE;
        VMM_CHECK(at < layout.msix->table_offset || at >= table_end);
      }
    }
  }
}

void CheckTriggers(FakeVfioDevice& dev, const FakeVectorRoutes& routes, uint16_t vectors) {
  auto it = dev.triggers.find(VFIO_PCI_MSIX_IRQ_INDEX);
  if (it == dev.triggers.end()) return;
  VMM_CHECK(it->second.size() <= FakeVfioDevice::kVectors);
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

void Step(fuzz::FuzzInput& in, FakeVfioDevice& dev, vfio_pci::VfioPciFunction& fn) {
  const uint64_t bar_size = dev.regions_[VFIO_PCI_BAR0_REGION_INDEX].size;
  uint8_t buf[8];
  switch (static_cast<Op>(in.U8() % kNumOps)) {
    case kConfigRead: {
      const uint32_t offset = in.U16() % pci::kConfigSpaceSize;
      const size_t width = size_t{1} << (in.U8() % 3);
      std::fill(buf, buf + 8, 0x5a);
      fn.ReadConfig(offset,
                    std::span(buf, std::min<size_t>(width, pci::kConfigSpaceSize - offset)));
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
      fn.ReadBar(0, offset, std::span(buf, width));
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
  const uint16_t vectors = fn.msix_vectors();
  for (int steps = 0; !in.done() && steps < 4096; ++steps) {
    Step(in, dev, fn);
    CheckWrites(dev, fn.layout());
    CheckTriggers(dev, routes, vectors);
  }
  return 0;
}
