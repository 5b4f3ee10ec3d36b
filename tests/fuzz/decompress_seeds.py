#!/usr/bin/env python3
"""Writes the seed corpus of decompress_fuzzer (tests/fuzz/corpus/decompress/).

Each seed is the fuzzer's input format (see decompress_fuzzer.cc: a 16-bit
output bound, then the compressed data), made with the same tools and
options as decompress_test.cc: one small stream per format, one with
Linux's size trailer around a tiny ELF header, one truncated, and one bomb
(more output than the bound). Keep the format in sync with the fuzzer.
Usage: tests/fuzz/decompress_seeds.py   (needs gzip, bzip2, xz, lzop, lz4, zstd)
"""
import struct
import subprocess

from seed_corpus import write_corpus

TOOLS = {
    'gzip': ['gzip', '-n', '-9', '-c'],
    'bzip2': ['bzip2', '-9', '-c'],
    'lzma': ['xz', '--format=lzma', '-9', '-c'],
    'xz': ['xz', '--check=crc32', '-c'],
    'lzo': ['lzop', '-9', '-c'],
    'lz4': ['lz4', '-l', '-9', '-c'],
    'zstd': ['zstd', '-q', '-19', '-c'],
}

# Enough of an ELF header for LooksLikeElf, then text that compresses.
ELF = b'\x7fELF\x02\x01\x01' + b'\x00' * 57 + b'mini-vmm decompress seed ' * 40
BOUND = 4096


def compress(tool, data):
    return subprocess.run(TOOLS[tool], input=data, stdout=subprocess.PIPE, check=True).stdout


def seed(bound, data):
    return struct.pack('<H', bound) + data


def main():
    seeds = {}
    for tool in TOOLS:
        z = compress(tool, ELF)
        trailer = b'' if tool == 'gzip' else struct.pack('<I', len(ELF))
        seeds[f'{tool}'] = seed(BOUND, z + trailer)
        seeds[f'{tool}-truncated'] = seed(BOUND, z[:len(z) // 2])
        seeds[f'{tool}-bomb'] = seed(256, compress(tool, b'\x00' * 65536))
    seeds['bad-magic'] = seed(BOUND, ELF)
    write_corpus('decompress', seeds)


if __name__ == '__main__':
    main()
