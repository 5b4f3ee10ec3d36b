// Device: one VFIO device fd (VFIO_GROUP_GET_DEVICE_FD), a vfio-pci
// function, with its region and interrupt descriptions read once at open.
// Implements DeviceIo (device_io.h).
//
//   vfio::Device dev = TRY(vfio::Device::Open(group, bdf));
//   TRY(dev.Reset());
//
// Move-only; closing the fd releases the device (the kernel resets it on
// last close).
#pragma once

#include <linux/vfio.h>

#include <array>
#include <string>

#include "vmm/base/unique_fd.h"
#include "vmm/vfio/device_io.h"
#include "vmm/vfio/group.h"
#include "vmm/vfio/pci_address.h"

namespace mini_vmm::vfio {

// Parses a VFIO_DEVICE_GET_REGION_INFO result (the fixed struct and its
// capabilities: sparse mmap, MSI-X mappable).
Result<RegionInfo> ParseRegionInfo(std::span<const uint8_t> buffer);

// What VFIO_DEVICE_SET_IRQS's return value `rc` means, `saved_errno` being
// errno right after the ioctl: negative, an error; 0, done; positive, the
// vectors the host could allocate when it could not allocate all that
// were asked (nothing enabled; see IrqsSet). `what` describes the call
// for the error message.
Result<IrqsSet> InterpretSetIrqs(int rc, int saved_errno, std::string_view what);

class Device final : public DeviceIo {
 public:
  static Result<Device> Open(const Group& group, const HostPciAddress& address);

  Device(Device&&) noexcept = default;
  Device& operator=(Device&&) noexcept = default;

  std::string_view name() const override { return name_; }
  const RegionInfo* region(uint32_t index) const override;
  IrqInfo irq(uint32_t index) const override;
  Result<void> ReadRegion(uint32_t index, uint64_t offset, std::span<uint8_t> data) override;
  Result<void> WriteRegion(uint32_t index, uint64_t offset, std::span<const uint8_t> data) override;
  Result<MmapRegion> MapRegion(uint32_t index, uint64_t offset, uint64_t size) override;
  Result<IrqsSet> SetIrqTriggers(uint32_t index, uint32_t start, std::span<const int> fds) override;
  Result<void> SetIrqUnmask(uint32_t index, int fd) override;
  Result<void> DisableIrqs(uint32_t index) override;
  Result<void> Reset() override;

  bool reset_supported() const { return (flags_ & VFIO_DEVICE_FLAGS_RESET) != 0; }

 private:
  Device(std::string name, UniqueFd fd) : name_(std::move(name)), fd_(std::move(fd)) {}
  Result<void> LoadInfo();
  Result<RegionInfo> QueryRegion(uint32_t index) const;
  Result<IrqsSet> SetIrqs(uint32_t index, uint32_t flags, uint32_t start, std::span<const int> fds);
  // SetIrqs for an action that allocates nothing: a positive result is an error.
  Result<void> SetIrqsNoAlloc(uint32_t index, uint32_t flags, std::span<const int> fds);
  // The region's span in the device fd, if [offset, offset + size) is in it.
  Result<uint64_t> FileOffset(uint32_t index, uint64_t offset, uint64_t size) const;

  std::string name_;
  UniqueFd fd_;
  uint32_t flags_ = 0;
  std::array<RegionInfo, VFIO_PCI_NUM_REGIONS> regions_{};
  std::array<IrqInfo, VFIO_PCI_NUM_IRQS> irqs_{};
};

}  // namespace mini_vmm::vfio
