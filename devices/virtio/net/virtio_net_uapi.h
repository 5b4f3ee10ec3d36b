// <linux/virtio_net.h> for C++: its struct virtio_net_ctrl_hdr has a member
// named `class`, a C++ keyword, so the name is changed while the header is
// read. Include this instead of the uAPI header.
#pragma once

#define class class_  // NOLINT: renames the uAPI field, nothing else.
#include <linux/virtio_net.h>
#undef class
