#include "devices/virtio/vhost/vhost_kernel.h"

#include <fcntl.h>
// clang-format off
#include "devices/virtio/virtio_ring.h"  // Before <linux/vhost.h>, which includes it.
// clang-format on
#include <linux/vhost.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

namespace mini_vmm::virtio::vhost {
namespace {

constexpr uint32_t kDefaultMaxMemRegions = 64;  // drivers/vhost/vhost.c max_mem_regions

}  // namespace

Result<std::unique_ptr<VhostKernel>> VhostKernel::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Error::Errno(errno, "cannot open \"{}\"", path);
  return std::make_unique<VhostKernel>(UniqueFd(fd));
}

Result<void> VhostKernel::SetOwner() {
  if (::ioctl(fd_.get(), VHOST_SET_OWNER) < 0) return Error::Errno(errno, "VHOST_SET_OWNER failed");
  return {};
}

Result<uint64_t> VhostKernel::GetFeatures() {
  uint64_t features = 0;
  if (::ioctl(fd_.get(), VHOST_GET_FEATURES, &features) < 0) {
    return Error::Errno(errno, "VHOST_GET_FEATURES failed");
  }
  return features;
}

Result<void> VhostKernel::SetFeatures(uint64_t features) {
  if (::ioctl(fd_.get(), VHOST_SET_FEATURES, &features) < 0) {
    return Error::Errno(errno, "VHOST_SET_FEATURES {:#x} failed", features);
  }
  return {};
}

Result<void> VhostKernel::SetMemTable(std::span<const VhostMemoryRegion> regions) {
  // struct vhost_memory ends in a flexible array; uint64_t storage keeps
  // the 8-byte alignment its __u64 fields need.
  const size_t bytes = sizeof(vhost_memory) + regions.size() * sizeof(vhost_memory_region);
  std::vector<uint64_t> storage((bytes + sizeof(uint64_t) - 1) / sizeof(uint64_t), 0);
  auto* table = reinterpret_cast<vhost_memory*>(storage.data());
  table->nregions = static_cast<uint32_t>(regions.size());
  for (size_t i = 0; i < regions.size(); ++i) {
    table->regions[i] = vhost_memory_region{.guest_phys_addr = regions[i].guest_phys_addr,
                                            .memory_size = regions[i].size,
                                            .userspace_addr = regions[i].userspace_addr,
                                            .flags_padding = 0};
  }
  if (::ioctl(fd_.get(), VHOST_SET_MEM_TABLE, table) < 0) {
    return Error::Errno(errno, "VHOST_SET_MEM_TABLE with {} regions failed", regions.size());
  }
  return {};
}

Result<void> VhostKernel::SetVringNum(uint32_t ring, uint32_t size) {
  vhost_vring_state state{.index = ring, .num = size};
  if (::ioctl(fd_.get(), VHOST_SET_VRING_NUM, &state) < 0) {
    return Error::Errno(errno, "VHOST_SET_VRING_NUM {} for ring {} failed", size, ring);
  }
  return {};
}

Result<void> VhostKernel::SetVringAddr(uint32_t ring, const VringHostAddresses& addresses) {
  vhost_vring_addr addr{};
  addr.index = ring;
  addr.flags = 0;  // No VHOST_VRING_F_LOG: dirty logging (VHOST_F_LOG_ALL) is never enabled.
  addr.desc_user_addr = addresses.desc;
  addr.avail_user_addr = addresses.avail;
  addr.used_user_addr = addresses.used;
  if (::ioctl(fd_.get(), VHOST_SET_VRING_ADDR, &addr) < 0) {
    return Error::Errno(errno, "VHOST_SET_VRING_ADDR for ring {} failed", ring);
  }
  return {};
}

Result<void> VhostKernel::SetVringBase(uint32_t ring, uint16_t next_avail) {
  vhost_vring_state state{.index = ring, .num = next_avail};
  if (::ioctl(fd_.get(), VHOST_SET_VRING_BASE, &state) < 0) {
    return Error::Errno(errno, "VHOST_SET_VRING_BASE {} for ring {} failed", next_avail, ring);
  }
  return {};
}

Result<uint16_t> VhostKernel::GetVringBase(uint32_t ring) {
  vhost_vring_state state{.index = ring, .num = 0};
  if (::ioctl(fd_.get(), VHOST_GET_VRING_BASE, &state) < 0) {
    return Error::Errno(errno, "VHOST_GET_VRING_BASE for ring {} failed", ring);
  }
  // Split rings: last_avail_idx, a 16-bit index (packed rings would add a
  // wrap counter in bit 15 and the used index above; not negotiated).
  return static_cast<uint16_t>(state.num);
}

Result<void> VhostKernel::SetVringFile(unsigned long request, const char* what, uint32_t ring,
                                       int fd) {
  vhost_vring_file file{.index = ring, .fd = fd};
  if (::ioctl(fd_.get(), request, &file) < 0) {
    return Error::Errno(errno, "{} (fd {}) for ring {} failed", what, fd, ring);
  }
  return {};
}

Result<void> VhostKernel::SetVringKick(uint32_t ring, int fd) {
  return SetVringFile(VHOST_SET_VRING_KICK, "VHOST_SET_VRING_KICK", ring, fd);
}

Result<void> VhostKernel::SetVringCall(uint32_t ring, int fd) {
  return SetVringFile(VHOST_SET_VRING_CALL, "VHOST_SET_VRING_CALL", ring, fd);
}

Result<void> VhostKernel::SetVringErr(uint32_t ring, int fd) {
  return SetVringFile(VHOST_SET_VRING_ERR, "VHOST_SET_VRING_ERR", ring, fd);
}

Result<void> VhostKernel::NetSetBackend(uint32_t ring, int fd) {
  return SetVringFile(VHOST_NET_SET_BACKEND, "VHOST_NET_SET_BACKEND", ring, fd);
}

Result<void> CheckVhostNet(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return Error::Errno(
        errno, "vhost=on needs \"{}\" (load vhost_net, or use vhost=auto), which does not open",
        path);
  }
  ::close(fd);
  return {};
}

uint32_t VhostMaxMemRegions() {
  std::ifstream file("/sys/module/vhost/parameters/max_mem_regions");
  uint32_t value = 0;
  if (file >> value && value > 0) return value;
  return kDefaultMaxMemRegions;
}

}  // namespace mini_vmm::virtio::vhost
