#!/usr/bin/env python3
"""Writes the seed corpus of kernel_fuzzer (tests/fuzz/corpus/kernel/).

Each seed is one image shape from bzimage_test.cc, elf_kernel_test.cc and
kernel_loader_test.cc in the fuzzer's input format (see kernel_fuzzer.cc:
shape byte, initrd size, then the shape's edit mask, its operands in order,
and byte patches). Keep the format in sync with the fuzzer.
Usage: tests/fuzz/kernel_seeds.py
"""
import struct

from seed_corpus import write_corpus

BZ, ELF, RAW = 0, 1, 2
PT_LOAD, PT_NOTE = 1, 4
INITRD = 0x10000


def start(shape, initrd=INITRD):
    return struct.pack('<BI', shape, initrd)


def bz(setup_sects=None, syssize=None, version=None, flags=None, jump=None, payload=None,
       placement=None, pm_size=None):
    """A bzImage seed: each argument given sets its bit in the edit mask."""
    mask, ops = 0, b''
    if setup_sects is not None:
        mask |= 0x01
        ops += struct.pack('<B', setup_sects)
    if syssize is not None:
        mask |= 0x02
        ops += struct.pack('<I', syssize)
    if version is not None:
        mask |= 0x04
        ops += struct.pack('<H', version)
    if flags is not None:  # (loadflags, xloadflags)
        mask |= 0x08
        ops += struct.pack('<BH', *flags)
    if jump is not None:
        mask |= 0x10
        ops += struct.pack('<B', jump)
    if payload is not None:  # (offset, length)
        mask |= 0x20
        ops += struct.pack('<II', *payload)
    if placement is not None:  # (pref_address, init_size, initrd_addr_max)
        mask |= 0x40
        ops += struct.pack('<QII', *placement)
    if pm_size is not None:
        mask |= 0x80
        ops += struct.pack('<H', pm_size)
    return start(BZ) + bytes([mask]) + ops


def phdr(type_=PT_LOAD, offset=0x1000, paddr=0x1000000, filesz=0x800, memsz=0x2000):
    """One program header, every field in its wide (64-bit) form."""
    load = 1 if type_ == PT_LOAD else 0
    out = struct.pack('<B', load) + (b'' if load else struct.pack('<I', type_))
    return out + struct.pack('<BQBQBQBQ', 1, offset, 1, paddr, 1, filesz, 1, memsz)


def elf(e_type=None, machine=None, entry=None, phoff=None, phentsize=None, file_size=None,
        phdrs=None, phnum=None):
    mask, ops = 0, b''
    for bit, value, fmt in ((0x01, e_type, '<H'), (0x02, machine, '<H'), (0x04, entry, '<Q'),
                            (0x08, phoff, '<H'), (0x10, phentsize, '<H'),
                            (0x20, file_size, '<H')):
        if value is not None:
            mask |= bit
            ops += struct.pack(fmt, value)
    if phdrs is not None:
        mask |= 0x40
        ops += struct.pack('<B', len(phdrs)) + b''.join(phdrs)
    if phnum is not None:
        mask |= 0x80
        ops += struct.pack('<H', phnum)
    return start(ELF) + bytes([mask]) + ops


SEEDS = {
    'bz_valid': bz(),
    'bz_setup_sects_0': bz(setup_sects=0),
    'bz_short_header': bz(jump=0x40),
    'bz_old_protocol': bz(version=0x0208),
    'bz_not_x86_64': bz(flags=(1, 0)),
    'bz_not_loaded_high': bz(flags=(0, 1)),
    'bz_truncated': bz(syssize=0x1000),
    'bz_setup_past_end': bz(setup_sects=200),
    'bz_payload_past_end': bz(payload=(0x100, 0x2000)),
    'bz_payload_offset_past_end': bz(payload=(0x2000, 0)),
    'bz_too_big_for_ram': bz(placement=(0x1000000, 0x1000000, 0x7fffffff)),
    'bz_initrd_limit_low': bz(placement=(0x100000, 0x10000, 0x200000)),
    'bz_empty_protected_mode': bz(pm_size=0, syssize=0, payload=(0, 0)),
    'bz_bad_magic': bz() + struct.pack('<HB', 0x202, 0),
    'elf_valid': elf(),
    'elf_two_segments': elf(phdrs=[phdr(), phdr(offset=0x800, paddr=0x200000, filesz=0x100,
                                                 memsz=0x100)], file_size=0x1800),
    'elf_note_skipped': elf(phdrs=[phdr(type_=PT_NOTE), phdr()]),
    'elf_not_executable': elf(e_type=3),
    'elf_wrong_machine': elf(machine=3),
    'elf_no_phdrs': elf(phnum=0),
    'elf_too_many_phdrs': elf(phnum=65),
    'elf_wrong_phentsize': elf(phentsize=32),
    'elf_phdrs_past_end': elf(phoff=0x17f0),
    'elf_segment_past_end': elf(phdrs=[phdr(filesz=0x1000)]),
    'elf_filesz_above_memsz': elf(phdrs=[phdr(filesz=0x800, memsz=0x400)]),
    'elf_address_wrap': elf(phdrs=[phdr(paddr=2**64 - 0x1000)]),
    'elf_entry_outside': elf(entry=0x2000000),
    'elf_entry_in_bss': elf(entry=0x1000900),
    'elf_nothing_to_load': elf(phdrs=[phdr(type_=PT_NOTE)]),
    'elf_outside_ram': elf(phdrs=[phdr(paddr=0x1800000)], entry=0x1800000),
    'raw_elf_magic': start(RAW) + b'\x7fELF' + bytes(60),
    # A pref_address that wraps (once a UBSan report: a packed field bound to
    # a reference in LoadBzImage's error path).
    'regression-misaligned-pref-address': bz(placement=(2**64 - 0x1000, 0x100000, 0x7fffffff)),
}




def main():
    write_corpus('kernel', SEEDS)


if __name__ == '__main__':
    main()
