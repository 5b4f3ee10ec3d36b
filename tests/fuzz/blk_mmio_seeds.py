#!/usr/bin/env python3
"""Writes the seed corpus of blk_mmio_fuzzer (tests/fuzz/corpus/blk_mmio/).

Each seed is a driver session from block_device_test.cc and
block_device_io_test.cc in the fuzzer's program format (see
blk_mmio_fuzzer.cc: enum Op and Step()). Keep opcodes, kRegisters and
kRequestTypes in sync with the fuzzer. Usage: tests/fuzz/blk_mmio_seeds.py
"""
import struct

from seed_corpus import write_corpus

(INIT, REQUEST, RAW_DESC, PUBLISH_HEAD, SET_AVAIL_IDX, KICK, WRITE_REG,
 RAW_ACCESS) = range(8)
T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WRITE_ZEROES, T_BOGUS = range(7)
INDIRECT, LEN16, SECTOR64 = 0x20, 0x40, 0x80
STATUS_REG = 8  # Index of VIRTIO_MMIO_STATUS in kRegisters.
EVENT_IDX = 1 << 29
FLUSH = 1 << 9


def init(features=0xffffffff):
    return struct.pack('<BI', INIT, features)


def request(type_, sector=0, sectors=1, flags=0):
    out = struct.pack('<BB', REQUEST, type_ | flags)
    out += struct.pack('<Q', sector) if flags & SECTOR64 else struct.pack('<B', sector)
    out += struct.pack('<H', sectors) if flags & LEN16 else struct.pack('<B', sectors)
    return out


def kick():
    return bytes([KICK])


def reset():
    return struct.pack('<BBI', WRITE_REG, STATUS_REG, 0)


SEEDS = {
    'read_write': init() + request(T_OUT, 3, 2) + request(T_IN, 3, 2) + kick(),
    'every_type': init() + b''.join(request(t) for t in range(7)) + kick(),
    'indirect': init() + request(T_IN, 1, 1, INDIRECT) + request(T_OUT, 2, 3, INDIRECT) + kick(),
    'past_end': init() + request(T_IN, 64, 1) + request(T_OUT, 63, 2) + kick(),
    'huge_sector': init() + request(T_IN, 2**64 - 1, 1, SECTOR64) + kick(),
    'odd_length': init() + request(T_OUT, 0, 513, LEN16) + request(T_IN, 0, 1, LEN16) + kick(),
    'no_event_idx': init(0xffffffff & ~EVENT_IDX) + request(T_FLUSH) + kick(),
    'no_flush': init(0) + request(T_FLUSH) + request(T_OUT) + kick(),
    'reset_in_flight': init() + request(T_OUT, 0, 3) + request(T_IN, 0, 3) + bytes([KICK])
    + reset() + init() + request(T_GET_ID) + kick(),
    'ring_loop': init() + struct.pack('<BBBIIHH', RAW_DESC, 0, 0, 0x8000, 16, 1, 0)
    + struct.pack('<BH', PUBLISH_HEAD, 0) + kick(),
    'avail_jump': init() + request(T_IN) + struct.pack('<BH', SET_AVAIL_IDX, 40) + kick(),
    'head_out_of_range': init() + struct.pack('<BH', PUBLISH_HEAD, 9) + kick(),
    'notify_before_init': kick() + request(T_IN) + kick() + init() + kick(),
}


def main():
    write_corpus('blk_mmio', SEEDS)


if __name__ == '__main__':
    main()
