#!/usr/bin/env python3
"""Writes the seed corpus of vring_fuzzer (tests/fuzz/corpus/vring/).

Each seed is one case of tests/unit/devices/virtio/vhost/vring_test.cc in
the fuzzer's input format (see the top of vring_fuzzer.cc): size, flags,
then three addresses (selector byte and value). Usage:
tests/fuzz/vring_seeds.py
"""
import struct

from seed_corpus import write_corpus

EVENT_IDX = 1


def u8(v): return struct.pack('<B', v)
def u16(v): return struct.pack('<H', v)
def u64(v): return struct.pack('<Q', v)


def low(a): return u8(0) + u16(a)
def high(off): return u8(1) + u16(off)
def raw(a): return u8(2) + u64(a)


def ring(size, flags, desc, avail, used):
    return u16(size) + u8(flags) + desc + avail + used


SEEDS = {
    'inside_low_ram': ring(256, EVENT_IDX, low(0x1000), low(0x2000), low(0x3000)),
    'near_2_64': ring(16, EVENT_IDX, high(0x0), high(0x100), high(0x200)),
    'size_not_power_of_two': ring(100, 0, low(0x1000), low(0x2000), low(0x3000)),
    'desc_misaligned': ring(16, 0, low(0x1008), low(0x2000), low(0x3000)),
    'desc_across_regions': ring(16, 0, low(0x7ff0), low(0x2000), low(0x3000)),
    'desc_wraps': ring(16, 0, raw(0xFFFF_FFFF_FFFF_FFF0), low(0x2000), low(0x3000)),
    # Fits without the used_event field, not with it: 0x8000 - (4 + 2 * 16).
    'avail_event_past_end': ring(16, EVENT_IDX, low(0x1000), high(0xf000 - 36), low(0x3000)),
    'used_outside_ram': ring(16, 0, low(0x1000), low(0x2000), raw(0x40000)),
}


def main():
    write_corpus('vring', SEEDS)


if __name__ == '__main__':
    main()
