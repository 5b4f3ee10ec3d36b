#!/usr/bin/env python3
"""Writes the seed corpus of gdb_fuzzer (tests/fuzz/corpus/gdb/).

Each seed is one conversation from the unit tests in tests/unit/vmm/gdb/,
in the fuzzer's operation format (see gdb_fuzzer.cc): 0 raw bytes, 1 a
packet with a correct checksum, 2 a stop event, anything else ends.
Keep the format in sync with the fuzzer.
Usage: tests/fuzz/gdb_seeds.py
"""
import struct

from seed_corpus import write_corpus

TEXT = 0xffffffff81000000
SOFTWARE_BREAKPOINT, HARDWARE_BREAKPOINT, STEP, PAUSED = range(4)


def packet(payload):
    data = payload.encode() if isinstance(payload, str) else payload
    return struct.pack('<BH', 1, len(data)) + data


def raw(data):
    data = data.encode() if isinstance(data, str) else data
    out = b''
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        out += struct.pack('<BB', 0, len(chunk)) + chunk
    return out


def stop(vcpu, reason, pc=0, slot=0):
    return struct.pack('<BBBQB', 2, vcpu, reason, pc, slot)


def racing(first, second):
    """Two stops delivered together (op 3): each a stop() without its op byte."""
    return bytes([3]) + first[1:] + second[1:]


def session(*ops):
    return b''.join(ops)


HANDSHAKE = [packet('qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386'),
             packet('QStartNoAckMode'), packet('?'),
             packet('qXfer:features:read:target.xml:0,ffb'), packet('qfThreadInfo'),
             packet('qsThreadInfo'), packet('qC'), packet('qAttached')]

SEEDS = {
    'handshake': session(*HANDSHAKE),
    'registers': session(packet('g'), packet('Hg2'), packet('g'), packet('p10'),
                         packet('P10=0000008100000000'), packet('p3f'), packet('G' + '00' * 616)),
    'memory': session(packet(f'm{TEXT:x},40'), packet(f'M{TEXT:x},2:beef'),
                      packet(f'X{TEXT:x},2:' + '}\x03*'.replace('*', '}\x0a')),
                      packet(f'm{TEXT + 0xfff:x},2'), packet('m1000,4'),
                      packet(f'X{TEXT:x},0:')),
    'breakpoints': session(packet(f'Z0,{TEXT + 0x10:x},1'), packet(f'Z0,{TEXT + 0x10:x},1'),
                           packet(f'm{TEXT:x},20'), packet(f'z0,{TEXT + 0x10:x},1'),
                           packet(f'z0,{TEXT + 0x10:x},1'), packet('Z1,ffffffff81000000,1'),
                           packet('Z2,ffffffff82000000,8'), packet('Z3,ffffffff82000008,4'),
                           packet('Z4,ffffffff82000010,2'), packet('Z4,ffffffff82000020,1'),
                           packet('Z2,ffffffff82000001,8')),
    'step_over': session(packet(f'Z0,{TEXT + 0x10:x},1'), packet('vCont;c'),
                         stop(0, STEP), stop(1, SOFTWARE_BREAKPOINT, TEXT + 0x10),
                         packet('vCont;s:2;c'), stop(1, STEP)),
    'watch_stop': session(packet('Z2,ffffffff81000100,8'), packet('c'),
                          stop(2, HARDWARE_BREAKPOINT, 0, 0), packet('?'), packet('D')),
    'foreign_int3': session(packet('vCont;c'), stop(0, SOFTWARE_BREAKPOINT, TEXT + 0x40),
                            raw(b'\x03'), packet('k')),
    'interrupt': session(packet('c'), raw(b'\x03'), packet('?'), packet('s'), stop(0, STEP)),
    'racing_stops': session(packet('Z2,ffffffff81000100,8'), packet('vCont;s:1;c'),
                            racing(stop(0, STEP), stop(2, HARDWARE_BREAKPOINT, 0, 0)),
                            packet('c'), packet('c'), stop(1, STEP), packet('D')),
    'stop_after_interrupt': session(packet('c'), raw(b'\x03'), stop(1, STEP), packet('c'),
                                    packet('k')),
    'bad_frames': session(raw('$qC#00'), raw('-'), raw('$m ffff$qC#b4'), raw('}}}*'),
                          raw('$' + 'a' * 600 + '#00'), packet('vCont;x'),
                          packet('Hg9'), packet('Z0')),
    'run_length': session(raw('$m0* ,4#00'), raw('$qC#b4')),
    'disconnect_mid_packet': session(packet(f'Z0,{TEXT:x},1'), raw('$m ffffffff810')),
}


def main():
    write_corpus('gdb', SEEDS)


if __name__ == '__main__':
    main()
