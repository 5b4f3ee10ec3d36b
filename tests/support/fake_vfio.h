// FakeVfioDevice: a vfio::DeviceIo over plain memory, shaped by default
// like the nested harness's emulated NVMe (../shared/nested-notes.md):
// vendor 1b36:0010, class 010802, one 64-bit 16 KiB BAR 0 that may be
// mmapped whole (MSIX_MAPPABLE), MSI-X with 65 vectors (table at BAR 0 +
// 0x2000, PBA at + 0x3000), a 64-bit MSI capability with per-vector
// masking and 4 vectors, a power-management capability, INTA#, and a 4 KiB
// config region whose extended space is empty. Records every write and
// SET_IRQS so tests can check what reached the "device"; like the kernel,
// it refuses to enable a second interrupt type while one is on, and an
// index with more vectors than `host_vectors` allows makes the enabling
// call set nothing and return that count (vfio_msi_enable() on a host
// short of vectors). FakeVectorRoutes stands in for the machine's KVM
// routes. Catch2-free, so the fuzzers use them too.
#pragma once

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "devices/vfio_pci/interrupt_relay.h"
#include "vmm/vfio/device_io.h"

namespace mini_vmm::testing {

class FakeVfioDevice final : public vfio::DeviceIo {
 public:
  static constexpr uint8_t kMsixCap = 0x40;
  static constexpr uint8_t kMsiCap = 0x50;
  static constexpr uint8_t kPmCap = 0x68;
  static constexpr uint16_t kVectors = 65;
  static constexpr uint8_t kMsiVectors = 4;
  static constexpr uint64_t kBar0Size = 0x4000;
  static constexpr uint32_t kTableOffset = 0x2000;
  static constexpr uint32_t kPbaOffset = 0x3000;

  FakeVfioDevice() {
    regions_[VFIO_PCI_CONFIG_REGION_INDEX] = Region(VFIO_PCI_CONFIG_REGION_INDEX, 0x1000, false);
    regions_[VFIO_PCI_BAR0_REGION_INDEX] = Region(VFIO_PCI_BAR0_REGION_INDEX, kBar0Size, true);
    regions_[VFIO_PCI_BAR0_REGION_INDEX].msix_mappable = true;
    data_[VFIO_PCI_CONFIG_REGION_INDEX].resize(0x1000);
    data_[VFIO_PCI_BAR0_REGION_INDEX].resize(kBar0Size);
    Put16(PCI_VENDOR_ID, 0x1b36);
    Put16(PCI_DEVICE_ID, 0x0010);
    Put32(PCI_CLASS_REVISION, 0x01080202);
    Put16(PCI_STATUS, PCI_STATUS_CAP_LIST);
    Put32(PCI_BASE_ADDRESS_0, 0xfebd0000 | PCI_BASE_ADDRESS_MEM_TYPE_64);  // The host's address.
    config()[PCI_INTERRUPT_PIN] = 1;
    config()[PCI_CAPABILITY_LIST] = kMsixCap;
    // MSI-X: 65 vectors, table and PBA in BAR 0.
    config()[kMsixCap] = PCI_CAP_ID_MSIX;
    config()[kMsixCap + 1] = kMsiCap;
    Put16(kMsixCap + PCI_MSIX_FLAGS, kVectors - 1);
    Put32(kMsixCap + PCI_MSIX_TABLE, kTableOffset | 0);
    Put32(kMsixCap + PCI_MSIX_PBA, kPbaOffset | 0);
    // MSI, 64-bit with per-vector masks, 4 vectors (MMC 2).
    config()[kMsiCap] = PCI_CAP_ID_MSI;
    config()[kMsiCap + 1] = kPmCap;
    Put16(kMsiCap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | (2 << 1));
    // Power management, last.
    config()[kPmCap] = PCI_CAP_ID_PM;
    config()[kPmCap + 1] = 0;
    irqs_[VFIO_PCI_INTX_IRQ_INDEX] = {.index = VFIO_PCI_INTX_IRQ_INDEX, .flags = 0, .count = 1};
    irqs_[VFIO_PCI_MSI_IRQ_INDEX] = {
        .index = VFIO_PCI_MSI_IRQ_INDEX, .flags = VFIO_IRQ_INFO_NORESIZE, .count = kMsiVectors};
    irqs_[VFIO_PCI_MSIX_IRQ_INDEX] = {
        .index = VFIO_PCI_MSIX_IRQ_INDEX, .flags = VFIO_IRQ_INFO_NORESIZE, .count = kVectors};
  }

  static vfio::RegionInfo Region(uint32_t index, uint64_t size, bool mmap) {
    vfio::RegionInfo r;
    r.index = index;
    r.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    r.size = size;
    if (mmap) r.mmap_areas = {vfio::SparseArea{.offset = 0, .size = size}};
    return r;
  }

  std::vector<uint8_t>& config() { return data_[VFIO_PCI_CONFIG_REGION_INDEX]; }
  void Put16(size_t at, uint16_t v) { std::memcpy(&config()[at], &v, sizeof(v)); }
  void Put32(size_t at, uint32_t v) { std::memcpy(&config()[at], &v, sizeof(v)); }
  uint32_t Get32(size_t at) {
    uint32_t v = 0;
    std::memcpy(&v, &config()[at], sizeof(v));
    return v;
  }
  uint16_t Get16(size_t at) {
    uint16_t v = 0;
    std::memcpy(&v, &config()[at], sizeof(v));
    return v;
  }

  // ---- vfio::DeviceIo ----
  std::string_view name() const override { return "0000:00:04.0"; }
  const vfio::RegionInfo* region(uint32_t index) const override {
    auto it = regions_.find(index);
    return it == regions_.end() || it->second.size == 0 ? nullptr : &it->second;
  }
  vfio::IrqInfo irq(uint32_t index) const override {
    auto it = irqs_.find(index);
    return it == irqs_.end() ? vfio::IrqInfo{.index = index} : it->second;
  }
  Result<void> ReadRegion(uint32_t index, uint64_t offset, std::span<uint8_t> data) override {
    std::lock_guard lock(mutex_);
    auto& bytes = data_[index];
    if (offset > bytes.size() || data.size() > bytes.size() - offset) {
      return Error::Errno(EINVAL, "fake: read outside region {}", index);
    }
    std::memcpy(data.data(), bytes.data() + offset, data.size());
    return {};
  }
  Result<void> WriteRegion(uint32_t index, uint64_t offset,
                           std::span<const uint8_t> data) override {
    std::lock_guard lock(mutex_);
    auto& bytes = data_[index];
    if (offset > bytes.size() || data.size() > bytes.size() - offset) {
      return Error::Errno(EINVAL, "fake: write outside region {}", index);
    }
    std::memcpy(bytes.data() + offset, data.data(), data.size());
    writes.push_back({index, offset, {data.begin(), data.end()}});
    return {};
  }
  Result<MmapRegion> MapRegion(uint32_t index, uint64_t offset, uint64_t size) override {
    std::lock_guard lock(mutex_);
    if (refuse_map) return Error::Errno(EINVAL, "fake: mmap refused");
    maps.push_back({index, offset, {}});
    maps.back().bytes.resize(size);
    return MmapRegion::MapAnonymous(size);
  }
  Result<vfio::IrqsSet> SetIrqTriggers(uint32_t index, uint32_t start,
                                       std::span<const int> fds) override {
    std::lock_guard lock(mutex_);
    const size_t count = irq(index).count;
    if (start > count || fds.size() > count - start) {
      return Error::Errno(EINVAL, "fake: vectors out of range");
    }
    for (const auto& [other, fds_of_other] : triggers) {
      if (other != index) return Error::Errno(EINVAL, "fake: index {} is enabled", other);
    }
    // As the kernel: the first call enables [0, start + fds.size()); later
    // ones may only set vectors inside that block.
    auto it = triggers.find(index);
    if (it != triggers.end() && start + fds.size() > it->second.size()) {
      return Error::Errno(EINVAL, "fake: vectors past the enabled block");
    }
    if (it == triggers.end()) {
      enables[index].push_back(start + fds.size());
      auto limit = host_vectors.find(index);
      if (limit != host_vectors.end() && start + fds.size() > limit->second) {
        return vfio::IrqsSet{.only_available = limit->second};
      }
    }
    auto& v = triggers[index];
    if (v.empty()) v.assign(start + fds.size(), -1);
    std::copy(fds.begin(), fds.end(), v.begin() + start);
    ++set_irqs_calls;
    return vfio::IrqsSet{};
  }
  Result<void> SetIrqUnmask(uint32_t index, int fd) override {
    std::lock_guard lock(mutex_);
    unmask[index] = fd;
    return {};
  }
  Result<void> DisableIrqs(uint32_t index) override {
    std::lock_guard lock(mutex_);
    triggers.erase(index);
    unmask.erase(index);
    ++disables[index];
    return {};
  }
  Result<void> Reset() override {
    std::lock_guard lock(mutex_);
    ++resets;
    return {};
  }

  struct Access {
    uint32_t index;
    uint64_t offset;
    std::vector<uint8_t> bytes;
  };
  // Writes that reached config space at [from, from + size).
  size_t ConfigWritesIn(uint64_t from, uint64_t size) const {
    size_t n = 0;
    for (const Access& w : writes) {
      if (w.index == VFIO_PCI_CONFIG_REGION_INDEX && w.offset < from + size &&
          w.offset + w.bytes.size() > from) {
        ++n;
      }
    }
    return n;
  }

  std::map<uint32_t, vfio::RegionInfo> regions_;
  std::map<uint32_t, vfio::IrqInfo> irqs_;
  std::map<uint32_t, std::vector<uint8_t>> data_;
  std::vector<Access> writes;
  std::vector<Access> maps;
  std::map<uint32_t, std::vector<int>> triggers;  // Live: index -> fd per vector.
  std::map<uint32_t, int> unmask;
  std::map<uint32_t, int> disables;
  // Index -> the most vectors the "host" can allocate for it (absent: all).
  std::map<uint32_t, uint32_t> host_vectors;
  // Index -> the vector count of every call that tried to enable it.
  std::map<uint32_t, std::vector<size_t>> enables;
  int set_irqs_calls = 0;
  int resets = 0;
  bool refuse_map = false;
  std::mutex mutex_;
};

// The machine's KVM side of MSI-X: an eventfd per routed vector.
class FakeVectorRoutes final : public vfio_pci::VectorRoutes {
 public:
  void UpdateRoute(uint16_t vector, std::optional<pci::MsiMessage> message) noexcept override {
    routes[vector] = message;
    if (message && !fds.count(vector) && !refuse) fds.emplace(vector, EventFd::Create().value());
  }
  void Fire(uint16_t vector) noexcept override { fired.push_back(vector); }
  int TriggerFd(uint16_t vector) const override {
    auto it = fds.find(vector);
    return it == fds.end() ? -1 : it->second.fd();
  }

  std::map<uint16_t, std::optional<pci::MsiMessage>> routes;
  std::map<uint16_t, EventFd> fds;
  std::vector<uint16_t> fired;
  bool refuse = false;
};

}  // namespace mini_vmm::testing
