#!/usr/bin/env python3
"""Writes the seed corpus of virtqueue_fuzzer (tests/fuzz/corpus/virtqueue/).

Each seed is one scenario from the unit tests (chain_walker_test.cc,
queue_test.cc, reader_writer_test.cc) encoded in the fuzzer's program format
(see the comment at the top of virtqueue_fuzzer.cc and its Step()): a config
byte, then opcodes with little-endian operands. Keep the opcode numbers and
operand order in sync with the fuzzer. Usage: tests/fuzz/virtqueue_seeds.py
"""
import struct

from seed_corpus import write_corpus

# Opcodes (enum Op in virtqueue_fuzzer.cc).
WRITE_DESC, WRITE_INDIRECT, PUBLISH, SET_AVAIL_IDX, SET_AVAIL_FLAGS, SET_USED_EVENT, POP, \
    ADD_USED, ENABLE, DISABLE, SHOULD_NOTIFY, POKE, READ_CHAIN, WRITE_CHAIN, RESET = range(15)

NEXT, WRITE, INDIRECT = 1, 2, 4
EVENT_IDX, INDIRECT_DESC, SET_INDICES = 0x08, 0x10, 0x20
SIZE_8 = 3  # (config & 7) % 5 is log2(queue size)
HIGH_RAM = 0xFFFF_FFFF_FFFF_0000
TABLE = 0x4000  # kIndirectTables


def u8(v): return struct.pack('<B', v)
def u16(v): return struct.pack('<H', v)
def u32(v): return struct.pack('<I', v)
def u64(v): return struct.pack('<Q', v)


def addr(a):
    if a < 0x10000:
        return u8(0) + u16(a)
    if HIGH_RAM <= a < HIGH_RAM + 0x10000:
        return u8(1) + u16(a - HIGH_RAM)
    return u8(2) + u64(a)


def length(n):
    return u8(0) + u8(n) if n < 256 else u8(1) + u32(n)


def desc(index, a, n, flags=0, nxt=0):
    return u8(WRITE_DESC) + u8(index) + addr(a) + length(n) + u8(flags) + u8(nxt)


def indirect(index, a, n, flags=0, nxt=0):
    return u8(WRITE_INDIRECT) + u8(index) + addr(a) + length(n) + u8(flags) + u8(nxt)


def publish(head): return u8(PUBLISH) + u8(head)
def pop(): return u8(POP)
def add_used(which=0, written=0): return u8(ADD_USED) + u8(which) + u32(written)
def read_chain(n, skip=0, which=0): return u8(READ_CHAIN) + u8(which) + u16(n) + u16(skip)


def write_chain(n, tail, tail_bytes, which=0):
    return u8(WRITE_CHAIN) + u8(which) + u16(n) + u16(tail) + u8(tail_bytes)


def reset(config, next_avail=0, next_used=0):
    return u8(RESET) + u8(config) + u16(next_avail) + u16(next_used)


def one_chain(index=0):
    return desc(index, 0x1000, 4, WRITE) + publish(index) + pop() + add_used(0, 4)


SEEDS = {
    # chain_walker_test: valid shapes.
    'direct_chain': u8(SIZE_8)
    + desc(0, 0x1000, 16, NEXT, 1) + desc(1, 0x2000, 512, NEXT | WRITE, 2) + desc(2, 0x3000, 1, WRITE)
    + publish(0) + pop() + read_chain(16) + write_chain(512, 1, 1) + add_used(0, 513)
    + u8(SHOULD_NOTIFY),
    'indirect_chain': u8(SIZE_8 | INDIRECT_DESC)
    + indirect(0, 0x1000, 16, NEXT, 1) + indirect(1, 0x2000, 8, WRITE)
    + desc(0, TABLE, 32, INDIRECT) + publish(0) + pop() + write_chain(8, 1, 1) + add_used(0, 8),
    'direct_then_indirect': u8(SIZE_8 | INDIRECT_DESC)
    + indirect(0, 0x1000, 4) + desc(0, 0x2000, 2, NEXT, 1) + desc(1, TABLE, 16, INDIRECT)
    + publish(0) + pop() + read_chain(6) + add_used(),
    'zero_length_buffer': u8(SIZE_8) + desc(0, 0x1000, 0, NEXT, 1) + desc(1, 0x2000, 1, WRITE)
    + publish(0) + pop() + write_chain(1, 0, 0) + add_used(0, 1),
    # chain_walker_test: one seed per malformed shape.
    'head_out_of_range': u8(SIZE_8) + publish(8) + pop(),
    'next_out_of_range': u8(SIZE_8) + desc(0, 0x1000, 8, NEXT, 8) + publish(0) + pop(),
    'loop': u8(SIZE_8) + desc(0, 0x1000, 8, NEXT, 1) + desc(1, 0x1000, 8, NEXT, 0) + publish(0) + pop(),
    'indirect_not_negotiated': u8(SIZE_8) + indirect(0, 0x1000, 4) + desc(0, TABLE, 16, INDIRECT)
    + publish(0) + pop(),
    'indirect_nested': u8(SIZE_8 | INDIRECT_DESC) + indirect(0, TABLE, 16, INDIRECT)
    + desc(0, TABLE, 16, INDIRECT) + publish(0) + pop(),
    'indirect_with_next': u8(SIZE_8 | INDIRECT_DESC) + indirect(0, 0x1000, 4)
    + desc(0, TABLE, 16, INDIRECT | NEXT, 1) + desc(1, 0x2000, 4) + publish(0) + pop(),
    'indirect_bad_size': u8(SIZE_8 | INDIRECT_DESC) + indirect(0, 0x1000, 4)
    + desc(0, TABLE, 24, INDIRECT) + publish(0) + pop(),
    'indirect_outside_ram': u8(SIZE_8 | INDIRECT_DESC) + desc(0, 0x10000, 16, INDIRECT)
    + publish(0) + pop(),
    'buffer_across_regions': u8(SIZE_8) + desc(0, 0x7FF0, 32) + publish(0) + pop(),
    'buffer_wraps_address_space': u8(SIZE_8) + desc(0, HIGH_RAM + 0x8000, 0xFFFF_FFFF)
    + publish(0) + pop(),
    'readable_after_writable': u8(SIZE_8) + desc(0, 0x1000, 4, WRITE | NEXT, 1) + desc(1, 0x2000, 4)
    + publish(0) + pop(),
    # queue_test: ring indices and notifications.
    'avail_index_jump': u8(SIZE_8) + desc(0, 0x1000, 4) + u8(SET_AVAIL_IDX) + u16(9) + pop()
    + u8(ENABLE),
    'completion_out_of_order': u8(SIZE_8) + desc(0, 0x1000, 4, WRITE) + publish(0)
    + desc(1, 0x2000, 4, WRITE) + publish(1) + pop() + pop() + add_used(1, 2) + add_used(0, 1),
    'no_interrupt': u8(SIZE_8) + u8(SET_AVAIL_FLAGS) + u16(1) + u8(DISABLE) + one_chain()
    + u8(SHOULD_NOTIFY) + u8(ENABLE),
    'event_idx_window': u8(SIZE_8 | EVENT_IDX) + u8(SHOULD_NOTIFY) + u8(SET_USED_EVENT) + u16(2)
    + one_chain(0) + one_chain(1) + one_chain(2) + u8(SHOULD_NOTIFY) + u8(ENABLE)
    + publish(3) + u8(ENABLE) + pop() + add_used(),
    'index_wrap': u8(SIZE_8) + reset(SIZE_8 | EVENT_IDX | SET_INDICES, 0xFFFE, 0xFFFE)
    + u8(SET_AVAIL_IDX) + u16(0xFFFE) + u8(SHOULD_NOTIFY) + u8(SET_USED_EVENT) + u16(0xFFFF)
    + one_chain(0) + one_chain(1) + one_chain(2) + u8(SHOULD_NOTIFY),
    'reset_and_reuse': u8(SIZE_8) + desc(0, 0x1000, 4, WRITE) + publish(0) + pop()
    + reset(SIZE_8 | INDIRECT_DESC) + u8(SET_AVAIL_IDX) + u16(0) + one_chain(0),
    # reader_writer_test: a 16-byte header split across three descriptors,
    # data and a status byte split off with SplitTail.
    'split_header': u8(SIZE_8) + desc(0, 0x1000, 5, NEXT, 1) + desc(1, 0x2000, 7, NEXT, 2)
    + desc(2, 0x3000, 4, NEXT, 3) + desc(3, 0x5000, 4, WRITE | NEXT, 4) + desc(4, 0x6000, 2, WRITE)
    + publish(0) + pop() + read_chain(16) + read_chain(17) + write_chain(1, 3, 3)
    + add_used(0, 6),
    'ring_corruption': u8(SIZE_8) + one_chain(0) + u8(POKE) + u8(0xFF) + u16(0x82)
    + u8(POKE) + u8(0x40) + u16(0x83) + pop(),
}


def main():
    write_corpus('virtqueue', SEEDS)


if __name__ == '__main__':
    main()
