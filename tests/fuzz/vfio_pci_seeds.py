#!/usr/bin/env python3
"""Writes the seed corpora of vfio_pci_fuzzer (tests/fuzz/corpus/vfio_pci/)
and vfio_caps_fuzzer (tests/fuzz/corpus/vfio_caps/).

vfio_pci seeds are the access sequences and malformed headers of
tests/unit/devices/vfio_pci/ in the fuzzer's format (vfio_pci_fuzzer.cc:
PatchDevice, enum Op and Step()); vfio_caps seeds are the info buffers of
tests/unit/vmm/vfio/. Keep the opcode numbers in sync.
Usage: tests/fuzz/vfio_pci_seeds.py
"""
import struct

from seed_corpus import write_corpus

(CONFIG_READ, CONFIG_WRITE, BAR_READ, BAR_WRITE, MSIX_ENTRY, MSIX_CONTROL, DEVICE_IRQ, SHUTDOWN,
 MSI_WRITE, MSI_DEVICE_IRQ, HOST_VECTORS) = range(11)
WIDTH = {1: 0, 2: 1, 4: 2}
MSIX_CAP, MSI_CAP, PM_CAP = 0x40, 0x50, 0x68
TABLE, PBA = 0x2000, 0x3000


def ext(cap_id, version, next_offset): return cap_id | version << 16 | next_offset << 20


def header(patches=(), shift=0, msi_vectors=4, extended=()):
    """`extended`: (offset, u32) dwords written at offset >= 0x100."""
    out = struct.pack('<B', len(patches))
    for offset, value in patches:
        out += struct.pack('<BB', offset, value)
    out += struct.pack('<BB', shift, msi_vectors)
    ext_bytes = [(offset + i, (value >> (8 * i)) & 0xff) for offset, value in extended for i in range(4)]
    out += struct.pack('<B', len(ext_bytes))
    for offset, value in ext_bytes:
        out += struct.pack('<HB', offset - 0x100, value)
    return out
def cfg_read(offset, width): return struct.pack('<BHB', CONFIG_READ, offset, WIDTH[width])
def cfg_write(offset, value, width=4):
    return struct.pack('<BHBI', CONFIG_WRITE, offset, WIDTH[width], value)
def bar_read(offset, width): return struct.pack('<BHB', BAR_READ, offset, width - 1)
def bar_write(offset, data): return struct.pack('<BHB', BAR_WRITE, offset, len(data) - 1) + data
def entry(vector, dword, value): return struct.pack('<BBBI', MSIX_ENTRY, vector, dword, value)
def control(value): return struct.pack('<BH', MSIX_CONTROL, value)
def irq(vector): return struct.pack('<BB', DEVICE_IRQ, vector)


def msi(offset, value, width=4): return struct.pack('<BBBI', MSI_WRITE, offset, WIDTH[width], value)
def msi_irq(vector): return struct.pack('<BB', MSI_DEVICE_IRQ, vector)
def msi_program(data):
    return msi(4, 0xfee00000) + msi(8, 0) + msi(12, data, 2)
def msi_enable(mme_log2): return msi(2, 1 | mme_log2 << 4, 2)
def host_vectors(msix, count): return struct.pack('<BBB', HOST_VECTORS, int(msix), count)


def program(vector, data, masked=0):
    return (entry(vector, 0, 0xfee00000) + entry(vector, 1, 0) + entry(vector, 2, data) +
            entry(vector, 3, masked))


VFIO_PCI = {
    'identity': header() + cfg_read(0, 4) + cfg_read(8, 4) + cfg_read(0x3d, 1),
    'bar_sizing': header() + cfg_write(0x10, 0xffffffff) + cfg_write(0x14, 0xffffffff) +
                  cfg_read(0x10, 4) + cfg_read(0x14, 4),
    'bar_move': header() + cfg_write(0x10, 0xd0000000) + cfg_write(0x14, 0) +
                cfg_write(0x04, 0x6, 2) + cfg_write(0x04, 0, 2),
    'rom_hidden': header() + cfg_write(0x30, 0xffffffff) + cfg_read(0x30, 4),
    'capability_walk': header() + cfg_read(0x34, 1) + cfg_read(MSIX_CAP, 2) + cfg_read(PM_CAP, 2) +
                       cfg_read(MSI_CAP, 4) + cfg_write(MSI_CAP + 2, 1, 2),
    'extended_space': header() + cfg_read(0x100, 4) + cfg_write(0x100, 0xffffffff),
    'ext_chain_sriov': header(extended=[(0x100, ext(1, 2, 0x148)), (0x148, ext(0x10, 1, 0x188)),
                                        (0x188, ext(3, 1, 0))]) +
                       cfg_read(0x100, 4) + cfg_read(0x148, 4) + cfg_write(0x150, 0xffffffff) +
                       cfg_write(0x108, 0x400000) + cfg_read(0xfe, 4),
    'ext_first_hidden': header(extended=[(0x100, ext(0x15, 1, 0x200)), (0x200, ext(1, 2, 0))]) +
                        cfg_read(0x100, 4) + cfg_write(0x104, 1),
    'ext_loop': header(extended=[(0x100, ext(1, 2, 0x148)), (0x148, ext(3, 1, 0x100))]) +
                cfg_read(0x148, 4),
    'msi_route': header() + msi_program(0x4020) + msi_enable(2) + msi_irq(0) + msi_irq(3),
    'msi_mask_park_unmask': header() + msi_program(0x4020) + msi_enable(1) + msi(16, 2) +
                            msi_irq(1) + msi(20, 0) + msi(16, 0) + msi_irq(1),
    'msi_unprogrammed': header() + msi_enable(0) + msi_irq(0) + msi_program(0x4021),
    'msi_mme_clamped': header() + msi_program(0x4020) + msi_enable(7) + cfg_read(MSI_CAP + 2, 2),
    'msi_mme_change': header() + msi_program(0x4020) + msi_enable(0) + msi_enable(2),
    'msi_while_msix': header() + control(0x8000) + msi_program(0x4020) + msi_enable(0),
    'msix_while_msi': header() + msi_program(0x4020) + msi_enable(0) + control(0x8000),
    'msi_disable_pending': header() + msi_program(0x4020) + msi_enable(0) + msi(16, 1) +
                           msi_irq(0) + msi(2, 0, 2) + msi(16, 0) + msi_enable(0),
    'msi_no_vfio_vectors': header(msi_vectors=33) + msi_enable(0) + cfg_read(MSI_CAP, 4),
    'msi_few_vfio_vectors': header(msi_vectors=3) + msi_program(0x4020) + msi_enable(2),
    'msi_host_short': header(msi_vectors=4) + host_vectors(False, 1) + msi_program(0x4020) +
                      msi_enable(2) + msi(16, 2) + msi_irq(0) + cfg_read(MSI_CAP + 20, 4) +
                      msi_enable(1) + msi_irq(0),
    'msi_mme_lowered_pending': header() + msi_program(0x4020) + msi_enable(2) + msi(16, 8) +
                               msi_irq(3) + cfg_read(MSI_CAP + 20, 4) + msi_enable(1) +
                               msi_enable(2) + msi(16, 0),
    'msi_past_header': header([(PM_CAP + 1, 0xf0), (0xf0, 5), (0xf2, 0x80), (0xf3, 1),
                               (MSI_CAP, 9)]),
    'msi_shutdown': header() + msi_program(1) + msi_enable(0) + struct.pack('<B', SHUTDOWN),
    'msix_route': header() + control(0x8000) + program(0, 0x4021) + bar_read(TABLE + 8, 4),
    'msix_mask_park_unmask': header() + control(0x8000) + program(0, 0x4021) + entry(0, 3, 1) +
                             irq(0) + entry(0, 3, 0) + irq(0),
    'msix_host_short': header() + host_vectors(True, 3) + control(0x8000) + program(2, 0x4022) +
                       program(5, 0x4025) + irq(2) + control(0) + host_vectors(True, 0) +
                       control(0x8000) + program(5, 0x4025),
    'msix_pba_parked': header() + control(0x8000) + program(3, 0x4023) + entry(3, 3, 1) + irq(3) +
                       bar_read(PBA, 8) + bar_read(PBA, 4) + entry(3, 3, 0) + bar_read(PBA, 8),
    'msix_disable_drops_parked': header() + control(0x8000) + program(2, 0x4022) + entry(2, 3, 1) +
                                 irq(2) + control(0) + control(0x8000) + entry(2, 3, 0),
    'msix_disable_intx_back': header() + control(0x8000) + program(1, 0x4022) + control(0),
    'pba_and_straddle': header() + bar_write(PBA, b'\xff' * 8) + bar_read(PBA, 8) +
                        bar_write(TABLE - 4, b'\x01' * 8) + bar_read(TABLE - 4, 8),
    'forwarded_bar': header() + bar_write(0x1000, b'\x78\x56\x34\x12') + bar_read(0x1000, 4),
    'shutdown': header() + control(0x8000) + program(0, 1) + struct.pack('<B', SHUTDOWN),
    'capability_loop': header([(PM_CAP + 1, MSIX_CAP)]),
    'capability_into_header': header([(0x34, 0x10)]),
    'table_outside_bar': header([(MSIX_CAP + 5, 0x3c)]),
    'small_bar': header(shift=12) + control(0x8000),
    'bridge': header([(0x0e, 1)]),
}


def region_info(flags, size, caps=b''):
    fixed = 32
    cap_offset = fixed if caps else 0
    return struct.pack('<IIIIQQ', fixed + len(caps), flags, 0, cap_offset, size, 0x10000) + caps


def cap(cap_id, next_offset, body): return struct.pack('<HHI', cap_id, 1, next_offset) + body


MMAP_CAPS = 0x4 | 0x8
VFIO_CAPS = {
    'region_msix_mappable': b'\x00' + region_info(0x7 | 0x8, 0x4000, cap(3, 0, b'')),
    'region_sparse': b'\x00' + region_info(MMAP_CAPS, 0x4000,
                                           cap(1, 0, struct.pack('<IIQQ', 1, 0, 0x2000, 0x2000))),
    'region_loop': b'\x00' + region_info(MMAP_CAPS, 0x4000, cap(1, 32, b'')),
    'iommu_ranges': b'\x01' + struct.pack('<IIQI', 24 + 48, 0x3, 0x40201000, 24) + b'\0' * 4 +
                    cap(1, 0, struct.pack('<II', 2, 0) +
                        struct.pack('<QQ', 0, 0xfedfffff) + struct.pack('<QQ', 0xfef00000, 0x7fffffffff)),
}

def config_space(dwords, size=0x1000):
    out = bytearray(size)
    for offset, value in dwords:
        out[offset:offset + 4] = struct.pack('<I', value)
    return bytes(out)


VFIO_CAPS.update({
    'ext_aer_sriov_dsn': b'\x02' + config_space([(0x100, ext(1, 2, 0x148)), (0x148, ext(0x10, 1, 0x188)),
                                                 (0x188, ext(3, 1, 0))]),
    'ext_first_rebar': b'\x02' + config_space([(0x100, ext(0x15, 1, 0x200)), (0x200, ext(1, 2, 0))]),
    'ext_loop': b'\x02' + config_space([(0x100, ext(1, 2, 0x148)), (0x148, ext(3, 1, 0x100))]),
    'ext_next_into_header': b'\x02' + config_space([(0x100, ext(1, 2, 0x40))]),
    'ext_short_region': b'\x02' + config_space([(0x100, ext(1, 2, 0x1fc)), (0x1fc, ext(3, 1, 0x200))],
                                               size=0x200),
    'ext_conventional': b'\x02' + bytes(0x100),
})

if __name__ == '__main__':
    write_corpus('vfio_pci', VFIO_PCI)
    write_corpus('vfio_caps', VFIO_CAPS)
