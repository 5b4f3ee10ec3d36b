// <linux/virtio_ring.h> for C++: its legacy vring_init() helper converts
// void* implicitly, which is not C++; the split-ring constants and structs
// mini-vmm uses are outside that block.
#pragma once

#define VIRTIO_RING_NO_LEGACY
#include <linux/virtio_ring.h>
