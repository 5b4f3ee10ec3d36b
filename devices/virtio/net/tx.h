// The transmit side's parsing: a tx chain becomes the iovecs of one frame
// (virtio_net_hdr first) for writev on the tap. Pure: no tap, no thread.
//
// §2.7.4 "The device MUST NOT make assumptions about the particular
// arrangement of descriptors": the header may be split anywhere across the
// readable buffers, so the chain is gathered as one byte stream and the
// tap, which reads the header from the front of that stream, is never told
// where the descriptors were.
#pragma once

#include <sys/uio.h>

#include <variant>

#include "devices/virtio/descriptor_chain.h"
#include "devices/virtio/net/net_counters.h"
#include "devices/virtio/reader_writer.h"

namespace mini_vmm::virtio::net {

// The frame's iovecs (into guest RAM: the guest may change the bytes under
// us, which only garbles its own frame), or why the chain is refused. Kept
// inline for the common chains (no allocation per frame).
std::variant<IovecList, TxFault> GatherTxFrame(const DescriptorChain& chain, size_t header_bytes);

}  // namespace mini_vmm::virtio::net
