#!/usr/bin/env python3
"""Writes the seed corpus of net_fuzzer (tests/fuzz/corpus/net/).

Each seed is one shape from the unit tests (tests/unit/devices/virtio/net/:
tx_test.cc, rx_test.cc, control_test.cc) in the fuzzer's input format (see
the comment at the top of net_fuzzer.cc): a flags byte, then operations.
Keep the format in sync with the fuzzer. Usage: tests/fuzz/net_seeds.py
"""
import struct

from seed_corpus import write_corpus

MRG, EVENT_IDX, MQ, LEGACY = 0x01, 0x02, 0x04, 0x08
TX, RX, CTRL, INJECT, RAW_DESC, RAW_PUBLISH, RUN = range(7)
CTRL_RX, CTRL_MQ, CTRL_VLAN = 0, 4, 2
PAIRS_SET = 0
HEADER = 12


def seg(length, writable, data=b''):
    d = 0x80 if writable else 0
    if length % 8 == 0 and length // 8 < 0x3f:
        out = struct.pack('<B', d | length // 8)
    else:
        out = struct.pack('<BH', d | 0x3f, length)
    return out + data


def r(data):
    """A device-readable segment holding `data`."""
    return ('r', data)


def w(n):
    """A device-writable segment of n bytes."""
    return ('w', n)


def chain(op, segments, indirect=False):
    out = struct.pack('<BB', op, len(segments))
    for i, (kind, value) in enumerate(segments):
        s = seg(len(value), False, value) if kind == 'r' else seg(value, True)
        if i == 0 and indirect:
            s = bytes([s[0] | 0x40]) + s[1:]
        out += s
    return out


def frame(payload, seed=0, header=HEADER):
    # flags NEEDS_CSUM, csum_start 34, csum_offset 16, as net_test_util.h.
    hdr = struct.pack('<BBHHHH', 1, 0, 0, 0, 34, 16) + b'\0' * (header - 10)
    return hdr + bytes((seed + i) & 0xff for i in range(payload))


def inject(data):
    return struct.pack('<BH', INJECT, len(data)) + data


def run(budget=64):
    return struct.pack('<BB', RUN, budget)


def seed(flags, *ops):
    return bytes([flags]) + b''.join(ops)


F = frame(100)
BIG = frame(250)

SEEDS = {
    # Transmit.
    'tx_split_header': seed(MRG, chain(TX, [r(F[:3]), r(F[3:23]), r(F[23:])]), run()),
    'tx_header_only': seed(MRG, chain(TX, [r(frame(0))]), run()),
    'tx_indirect': seed(MRG, chain(TX, [r(F[:5]), r(F[5:])], indirect=True), run()),
    'tx_writable_buffer': seed(MRG, chain(TX, [r(frame(20)), w(16)]), run()),
    'tx_shorter_than_header': seed(MRG, chain(TX, [r(b'\0' * 5), r(b'\0' * 6)]), run()),
    'tx_budget': seed(MRG, *[chain(TX, [r(frame(10, i))]) for i in range(3)], run(2), run(2)),
    'tx_legacy_header': seed(LEGACY, chain(TX, [r(frame(30, header=10))]), run()),
    # Receive.
    'rx_single_chain': seed(MRG, chain(RX, [w(1600)]), inject(frame(200)), run()),
    'rx_mergeable_three': seed(MRG, *[chain(RX, [w(100)]) for _ in range(3)], inject(BIG), run()),
    'rx_stall_then_resume': seed(MRG, chain(RX, [w(100)]), inject(BIG), run(),
                                 chain(RX, [w(100)]), chain(RX, [w(100)]), run()),
    'rx_event_idx_stall': seed(MRG | EVENT_IDX, chain(RX, [w(1600)]), inject(frame(30)),
                               inject(frame(30)), run()),
    'rx_no_mrg_too_big': seed(0, chain(RX, [w(100)]), inject(frame(200)),
                              inject(frame(50, 9)), run()),
    'rx_chain_too_small': seed(MRG, chain(RX, [w(8)]), chain(RX, [w(1600)]),
                               inject(frame(20)), run()),
    'rx_readable_only': seed(MRG, chain(RX, [r(b'\0' * 64)]), chain(RX, [w(1600)]),
                             inject(frame(20)), run()),
    'rx_short_frame': seed(MRG, chain(RX, [w(1600)]), inject(b'\1' * 5), run()),
    # Control queue.
    'ctrl_pairs_set': seed(MRG | MQ, chain(CTRL, [r(bytes([CTRL_MQ, PAIRS_SET, 3, 0])), w(8)]),
                           run()),
    'ctrl_pairs_split': seed(MRG | MQ, chain(CTRL, [r(bytes([CTRL_MQ])), r(bytes([PAIRS_SET, 2])),
                                                     r(b'\0'), w(8)]), run()),
    'ctrl_pairs_zero': seed(MRG | MQ, chain(CTRL, [r(bytes([CTRL_MQ, PAIRS_SET, 0, 0])), w(8)]),
                            run()),
    'ctrl_pairs_without_mq': seed(MRG, chain(CTRL, [r(bytes([CTRL_MQ, PAIRS_SET, 1, 0])), w(8)]),
                                  run()),
    'ctrl_rx_promisc': seed(MRG, chain(CTRL, [r(bytes([CTRL_RX, 0, 1])), w(8)]), run()),
    'ctrl_unknown_class': seed(MRG, chain(CTRL, [r(bytes([CTRL_VLAN, 0, 1, 0])), w(8)]), run()),
    'ctrl_short_header': seed(MRG, chain(CTRL, [r(bytes([CTRL_MQ])), w(8)]), run()),
    'ctrl_no_ack': seed(MRG | MQ, chain(CTRL, [r(bytes([CTRL_MQ, PAIRS_SET, 2, 0]))]), run()),
    # Hostile rings.
    'ring_head_out_of_range': seed(MRG, struct.pack('<BBH', RAW_PUBLISH, 1, 16), run()),
    'ring_buffer_outside_ram': seed(MRG, struct.pack('<BBBQIHH', RAW_DESC, 1, 0, 1 << 40, 64, 0, 0),
                                    struct.pack('<BBH', RAW_PUBLISH, 1, 0), run()),
}

if __name__ == '__main__':
    write_corpus('net', SEEDS)
