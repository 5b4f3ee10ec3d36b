#include "devices/virtio/net/tx.h"

#include <climits>

#include "devices/virtio/net/frame.h"
#include "devices/virtio/reader_writer.h"

namespace mini_vmm::virtio::net {

std::variant<IovecList, TxFault> GatherTxFrame(const DescriptorChain& chain, size_t header_bytes) {
  // §5.1.6.2: the driver sends only device-readable buffers; a writable one
  // means the driver is confused about which queue this is.
  if (chain.writable_bytes() != 0) return TxFault::kWritableBuffer;
  const uint64_t length = chain.readable_bytes();
  if (length < header_bytes) return TxFault::kShorterThanHeader;
  if (length > header_bytes + kMaxFrameBytes) return TxFault::kTooLong;
  if (chain.segments().size() > IOV_MAX) return TxFault::kTooManyBuffers;
  return Reader(chain).Iovecs(length);
}

}  // namespace mini_vmm::virtio::net
