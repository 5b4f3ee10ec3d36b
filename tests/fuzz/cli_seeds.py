#!/usr/bin/env python3
"""Writes the seed corpus of cli_fuzzer (tests/fuzz/corpus/cli/).

Each seed is a size (size_test.cc), a --disk spec or a command line
(cli_test.cc) in the fuzzer's input format (see cli_fuzzer.cc: mode byte,
then the text, or argv tokens: an index into kWords or 0x80 | n and n bytes).
Keep kWords' order in sync with the fuzzer. Usage: tests/fuzz/cli_seeds.py
"""
from seed_corpus import write_corpus

SIZE, DISK, ARGV = 0, 1, 2
WORDS = ['run', '--kernel', '--initrd', '--cmdline', '--cpus', '--memory', '--no-hugepages',
         '--boot-timer', '--log-level', '--disk', '--kvm-device', '--help', '-h', '--help-all',
         '--version', 'bzImage', 'vmlinux', 'console=ttyS0 quiet', '1', '254', '255', '0',
         '512M', '2G', '1024', '16EiB', 'debug', 'trace', 'path=disk.img',
         'path=a.img,readonly=on', ',serial=data0', ',readonly=off', 'path=',
         'serial=0123456789abcdefghijk', '=', ',', '--', '--kernel=bzImage', '--memory=1G', '-']


def argv(*tokens):
    out = bytes([ARGV])
    for t in tokens:
        if t in WORDS:
            out += bytes([WORDS.index(t)])
        else:
            data = t.encode()
            assert len(data) < 64, t
            out += bytes([0x80 | len(data)]) + data
    return out


SEEDS = {
    'size_mib': bytes([SIZE]) + b'1024',
    'size_gib': bytes([SIZE]) + b'2GiB',
    'size_kb': bytes([SIZE]) + b'64KB',
    'size_overflow': bytes([SIZE]) + b'18446744073709551616',
    'size_bad_suffix': bytes([SIZE]) + b'5X',
    'disk_full': bytes([DISK]) + b'path=data.img,readonly=on,serial=data0',
    'disk_no_path': bytes([DISK]) + b'readonly=on',
    'disk_not_key_value': bytes([DISK]) + b'path=a.img,ro',
    'disk_long_serial': bytes([DISK]) + b'path=a,serial=0123456789abcdefghijk',
    'disk_empty_item': bytes([DISK]) + b'path=a,,',
    'argv_full': argv('run', '--kernel', 'bzImage', '--initrd', 'initrd.img', '--cmdline',
                      'console=ttyS0 quiet', '--cpus', '254', '--memory', '2G',
                      '--no-hugepages', '--boot-timer', '--log-level', 'debug', '--disk',
                      'path=a.img,readonly=on', '--disk', 'path=disk.img', '--kvm-device',
                      '/dev/kvm'),
    'argv_kernel_only': argv('run', '--kernel', 'vmlinux'),
    'argv_run_help': argv('run', '--help'),
    'argv_help': argv('--help'),
    'argv_version': argv('--version'),
    'argv_no_subcommand': argv(),
    'argv_missing_kernel': argv('run'),
    'argv_unknown_option': argv('run', '--kernel', 'bzImage', '--bogus'),
    'argv_unknown_without_kernel': argv('run', '--bogus'),
    'argv_cpus_zero': argv('run', '--kernel', 'bzImage', '--cpus', '0'),
    'argv_cpus_255': argv('run', '--kernel', 'bzImage', '--cpus', '255'),
    'argv_cpus_abc': argv('run', '--kernel', 'bzImage', '--cpus', 'abc'),
    'argv_cpus_trailing': argv('run', '--kernel', 'bzImage', '--cpus', '2x'),
    'argv_bad_memory': argv('run', '--kernel', 'bzImage', '--memory', 'bogus'),
    'argv_bad_log_level': argv('run', '--kernel', 'bzImage', '--log-level', 'bogus'),
    'argv_equals_forms': argv('run', '--kernel=bzImage', '--memory=1G', '--', 'extra'),
}


def main():
    write_corpus('cli', SEEDS)


if __name__ == '__main__':
    main()
