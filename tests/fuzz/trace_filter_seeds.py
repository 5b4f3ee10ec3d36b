#!/usr/bin/env python3
"""Writes the seed corpus of trace_filter_fuzzer (tests/fuzz/corpus/trace_filter/).

Each seed is a FILTER from exit_filter_test.cc (length byte, text) followed
by a few exits (kind byte, u64 address, size byte, 8 data bytes), as the
fuzzer reads them. Usage: tests/fuzz/trace_filter_seeds.py
"""
import struct

from seed_corpus import write_corpus

PIO, MMIO, HLT, INTR, OTHER = 0, 1, 2, 3, 4


def exit_(kind, address=0, size=1, write=True):
    return bytes([kind | (8 if write else 0)]) + struct.pack('<Q', address) + bytes([size]) + bytes(8)


def seed(text, *exits):
    data = text.encode()
    assert len(data) < 256
    return bytes([len(data)]) + data + b''.join(exits)


SERIAL = exit_(PIO, 0x3f8)
LAPIC = exit_(MMIO, 0xfee00030, 4, False)
SEEDS = {
    'all': seed('all', SERIAL, LAPIC, exit_(HLT), exit_(INTR), exit_(OTHER)),
    'kind_mmio': seed('mmio', SERIAL, LAPIC),
    'pio_range': seed('pio=0x3f8-0x3ff', SERIAL, exit_(PIO, 0x400)),
    'pio_straddle': seed('pio=0xcfc', exit_(PIO, 0xcfa, 4)),
    'mmio_base_length': seed('mmio=0xfee00000+0x1000', LAPIC, exit_(MMIO, 0xfee01000, 4)),
    'terms_add_up': seed('pio=0x60,pio=0x64,hlt', exit_(PIO, 0x60), exit_(HLT)),
    'mmio_top': seed('mmio=0xffffffffffffffff', exit_(MMIO, 0xfffffffffffffffe, 8)),
    'decimal': seed('pio=1016-1023', SERIAL),
    'empty': seed(''),
    'empty_term': seed('pio,,hlt'),
    'trailing_comma': seed('pio,'),
    'unknown_kind': seed('serial'),
    'range_on_hlt': seed('hlt=1'),
    'no_end': seed('pio=0x3f8-'),
    'bare_0x': seed('pio=0x'),
    'reversed': seed('pio=0x3ff-0x3f8'),
    'port_too_big': seed('pio=0x10000'),
    'zero_length': seed('mmio=0x1000+0'),
    'wraps': seed('mmio=0xfffffffffffffff0+0x11'),
    'too_many_ranges': seed(','.join(['pio=1'] * 17)),
}


def main():
    write_corpus('trace_filter', SEEDS)


if __name__ == '__main__':
    main()
