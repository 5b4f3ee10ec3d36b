#!/usr/bin/env python3
"""Writes the seed corpus of mmio_fuzzer (tests/fuzz/corpus/mmio/).

Each seed is a register sequence from mmio_test.cc / transport_core_test.cc
in the fuzzer's program format (see mmio_fuzzer.cc: enum Op and Step()).
Keep the opcode numbers, kRegisters order and operand order in sync.
Usage: tests/fuzz/mmio_seeds.py
"""
import struct

from seed_corpus import write_corpus

WRITE_REG, READ_REG, RAW, SET_STATUS_BIT, POINT_QUEUE, NOTIFY, NEEDS_RESET = range(7)
# Indices into kRegisters.
(DEV_FEAT_SEL, DRV_FEAT, DRV_FEAT_SEL, QUEUE_SEL, QUEUE_NUM, QUEUE_READY, QUEUE_NOTIFY,
 INT_ACK, STATUS, DESC_LO, DESC_HI, AVAIL_LO, AVAIL_HI, USED_LO, USED_HI, SHM_SEL, CONFIG,
 CONFIG_GEN) = range(18)
# Status bits, by bit number (SET_STATUS_BIT takes 1 << n).
ACK, DRIVER, DRIVER_OK, FEATURES_OK, NEEDS_RESET_BIT, FAILED = 0, 1, 2, 3, 6, 7


def write(reg, value): return struct.pack('<BBI', WRITE_REG, reg, value)
def read(offset): return struct.pack('<BB', READ_REG, offset)
def status_bit(n): return struct.pack('<BB', SET_STATUS_BIT, n)
def raw_write(offset, data): return struct.pack('<BBH', RAW, 0x80 | (len(data) - 1), offset) + data
def raw_read(offset, width): return struct.pack('<BBH', RAW, width - 1, offset)


def negotiate(high, low):
    return (status_bit(ACK) + status_bit(DRIVER) + write(DEV_FEAT_SEL, 1) + read(0x10)
            + write(DEV_FEAT_SEL, 0) + read(0x10) + write(DRV_FEAT_SEL, 1) + write(DRV_FEAT, high)
            + write(DRV_FEAT_SEL, 0) + write(DRV_FEAT, low) + status_bit(FEATURES_OK) + read(0x70))


def queue(index):
    return (write(QUEUE_SEL, index) + read(0x44) + read(0x34) + bytes([POINT_QUEUE])
            + write(QUEUE_READY, 1))


START = negotiate(1, 1 << 28) + queue(0) + status_bit(DRIVER_OK)

SEEDS = {
    'linux_init': START + bytes([NOTIFY, 0]) + read(0x60) + write(INT_ACK, 1)
    + write(QUEUE_NOTIFY, 0) + write(STATUS, 0),
    'unoffered_feature': negotiate(1, 1 << 6) + status_bit(DRIVER_OK),
    'no_version_1': negotiate(0, 1 << 28) + status_bit(DRIVER_OK),
    'driver_ok_without_features_ok': status_bit(ACK) + status_bit(DRIVER) + queue(0)
    + status_bit(DRIVER_OK),
    'bad_queue_size': negotiate(1, 0) + queue(0) + write(QUEUE_READY, 0) + write(QUEUE_NUM, 3)
    + write(QUEUE_READY, 1) + status_bit(DRIVER_OK) + read(0x60) + read(0x70),
    'ring_outside_ram': negotiate(1, 0) + queue(1) + write(QUEUE_READY, 0)
    + write(DESC_HI, 1) + write(QUEUE_READY, 1) + status_bit(DRIVER_OK),
    'device_needs_reset': START + bytes([NEEDS_RESET, NEEDS_RESET]) + read(0x70) + read(0x60)
    + write(INT_ACK, 2) + write(STATUS, 0) + START,
    'config_after_ready': START + write(QUEUE_NUM, 4) + write(DESC_LO, 0x3000)
    + write(QUEUE_SEL, 5) + read(0x34) + write(QUEUE_READY, 1),
    'odd_widths': raw_write(0x70, b'\x01\x00') + raw_write(0x71, b'\x01\x00\x00\x00')
    + raw_read(0x00, 1) + raw_read(0x100, 8) + raw_write(0x102, b'\x7f') + raw_read(0xffc, 4),
    'status_high_bits': START + write(STATUS, 0x100) + write(STATUS, 0xffffffff),
    'clear_status_bits': negotiate(1, 0) + write(STATUS, 1) + status_bit(FAILED),
}


def main():
    write_corpus('mmio', SEEDS)


if __name__ == '__main__':
    main()
