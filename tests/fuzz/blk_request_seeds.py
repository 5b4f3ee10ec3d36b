#!/usr/bin/env python3
"""Writes the seed corpus of blk_request_fuzzer (tests/fuzz/corpus/blk_request/).

Each seed is one request shape from the unit tests (request_test.cc,
request_malformed_test.cc) in the fuzzer's input format (see the comment at
the top of blk_request_fuzzer.cc): context byte, capacity, serial length,
completion status, segment list, then the device-readable bytes. Keep the
format in sync with the fuzzer. Usage: tests/fuzz/blk_request_seeds.py
"""
import struct

from seed_corpus import write_corpus

T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WRITE_ZEROES = 0, 1, 4, 8, 11, 13
READ_ONLY, DISCARD, WRITE_ZEROES, DURABLE = 0x01, 0x02, 0x04, 0x08
OK, IOERR = 0, 1
UNMAP = 1
CAPACITY = 64
MAX_SECTOR = 2**64 - 1


def header(type_, sector):
    return struct.pack('<IIQ', type_, 0, sector)


def segment(sector, num, flags=0):
    return struct.pack('<QII', sector, num, flags)


def r(n):
    """A device-readable segment of n bytes."""
    return (False, n)


def w(n):
    """A device-writable segment of n bytes."""
    return (True, n)


def seed(segments, readable, context=DISCARD | WRITE_ZEROES, completion=OK, serial=13,
         capacity=CAPACITY):
    out = struct.pack('<BHBBB', context, capacity, serial, completion, len(segments))
    for writable, n in segments:
        d = 0x80 if writable else 0
        out += struct.pack('<B', d | n) if n < 0x40 else struct.pack('<BH', d | 0x40, n)
    return out + readable


SEEDS = {
    # Well-formed requests.
    'read_split_header': seed([r(5), r(11), w(1024), w(1)], header(T_IN, 3)),
    'read_status_shares_data': seed([r(16), w(513)], header(T_IN, 0)),
    'write': seed([r(16), r(512), r(1024), w(1)], header(T_OUT, 7) + b'\x01' * 1536),
    'write_durable': seed([r(16), r(512), w(1)], header(T_OUT, 0) + b'\x01' * 512,
                          context=DURABLE),
    'write_fails': seed([r(16), r(512), w(1)], header(T_OUT, 0) + b'\x01' * 512,
                        completion=IOERR),
    'read_last_sector': seed([r(16), w(512), w(1)], header(T_IN, CAPACITY - 1)),
    'read_nothing': seed([r(16), w(1)], header(T_IN, 0)),
    'flush': seed([r(16), w(1)], header(T_FLUSH, 99)),
    'get_id': seed([r(16), w(20), w(1)], header(T_GET_ID, 0)),
    'get_id_full_serial': seed([r(16), w(32), w(1)], header(T_GET_ID, 0), serial=20),
    'discard': seed([r(16), r(32), w(1)],
                    header(T_DISCARD, 0) + segment(1, 2) + segment(10, 4)),
    'write_zeroes_unmap': seed([r(16), r(32), w(1)],
                               header(T_WRITE_ZEROES, 0) + segment(0, 8, UNMAP) + segment(8, 8)),
    'discard_nothing': seed([r(16), r(16), w(1)], header(T_DISCARD, 0) + segment(3, 0)),
    # No status byte.
    'no_writable': seed([r(16), r(512), r(1)], header(T_OUT, 0) + b'\x01' * 513),
    'zero_length_status': seed([r(16), r(512), w(0)], header(T_OUT, 0) + b'\x01' * 512),
    'status_moves_into_data': seed([r(16), w(512), w(0)], header(T_IN, 0)),
    # Header and type.
    'short_header': seed([r(15), w(1)], header(T_IN, 0)[:15]),
    'no_header': seed([w(1)], b''),
    'unknown_type': seed([r(16), w(1)], header(42, 0)),
    'barrier_bit': seed([r(16), w(512), w(1)], header(T_IN | 0x80000000, 0)),
    # IN and OUT.
    'read_with_readable_data': seed([r(16), r(512), w(512), w(1)], header(T_IN, 0)),
    'write_with_writable_data': seed([r(16), w(512), w(1)], header(T_OUT, 0)),
    'readable_after_writable': seed([r(16), w(512), r(8), w(1)], header(T_IN, 0)),
    'read_unaligned': seed([r(16), w(513), w(1)], header(T_IN, 0)),
    'write_unaligned': seed([r(16), r(100), w(1)], header(T_OUT, 0) + b'\x01' * 100),
    'read_at_capacity': seed([r(16), w(512), w(1)], header(T_IN, CAPACITY)),
    'write_past_end': seed([r(16), r(1024), w(1)], header(T_OUT, CAPACITY - 1) + b'\x01' * 1024),
    'read_wraps': seed([r(16), w(1024), w(1)], header(T_IN, MAX_SECTOR)),
    'write_read_only': seed([r(16), r(512), w(1)], header(T_OUT, 0) + b'\x01' * 512,
                            context=READ_ONLY),
    # GET_ID.
    'get_id_short_buffer': seed([r(16), w(19), w(1)], header(T_GET_ID, 0)),
    'get_id_readable_data': seed([r(16), r(20), w(20), w(1)], header(T_GET_ID, 0)),
    # DISCARD and WRITE_ZEROES.
    'discard_read_only': seed([r(16), r(16), w(1)], header(T_DISCARD, 0) + segment(0, 1),
                              context=READ_ONLY),
    'discard_not_negotiated': seed([r(16), r(16), w(1)], header(T_DISCARD, 0) + segment(0, 1),
                                   context=WRITE_ZEROES),
    'discard_writable_segments': seed([r(16), w(16), w(1)], header(T_DISCARD, 0)),
    'discard_15_bytes': seed([r(16), r(15), w(1)], header(T_DISCARD, 0) + segment(0, 1)[:15]),
    'discard_no_segments': seed([r(16), w(1)], header(T_DISCARD, 0)),
    'discard_17_segments': seed([r(16), r(17 * 16), w(1)],
                                header(T_DISCARD, 0) + bytes(17 * 16)),
    'discard_reserved_flag': seed([r(16), r(16), w(1)],
                                  header(T_DISCARD, 0) + segment(0, 1, 2)),
    'discard_unmap': seed([r(16), r(16), w(1)], header(T_DISCARD, 0) + segment(0, 1, UNMAP)),
    'discard_too_large': seed([r(16), r(16), w(1)],
                              header(T_DISCARD, 0) + segment(0, 4 * 1024 * 1024 + 1)),
    'write_zeroes_past_end': seed([r(16), r(16), w(1)],
                                  header(T_WRITE_ZEROES, 0) + segment(CAPACITY - 4, 8)),
    'discard_wraps': seed([r(16), r(16), w(1)],
                          header(T_DISCARD, 0) + segment(MAX_SECTOR - 1, 4)),
    'discard_second_segment_bad': seed([r(16), r(32), w(1)],
                                       header(T_DISCARD, 0) + segment(0, 8) +
                                       segment(CAPACITY, 1)),
}


def main():
    write_corpus('blk_request', SEEDS)


if __name__ == '__main__':
    main()
