#!/usr/bin/env python3
"""Writes the seed corpus of pci_fuzzer (tests/fuzz/corpus/pci/).

Each seed is an access sequence from tests/unit/devices/pci/ and
tests/unit/devices/virtio/transport/pci*_test.cc in the fuzzer's program
format (see pci_fuzzer.cc: enum Op and Step()). Keep the opcode numbers,
kCommonFields order and operand order in sync.
Usage: tests/fuzz/pci_seeds.py
"""
import struct

from seed_corpus import write_corpus

(ECAM, CONFIG_IO, CONFIG_WRITE, COMMON_WRITE, COMMON_READ, BAR, MSIX_ENTRY, MSIX_CONTROL,
 SET_STATUS_BIT, POINT_QUEUE, PCI_CFG, NOTIFY, CONFIG_CHANGE, NEEDS_RESET) = range(14)
# Indices into kCommonFields.
(DFSELECT, DF, GFSELECT, GF, MSIX, NUMQ, STATUS, CFGGEN, Q_SELECT, Q_SIZE, Q_MSIX, Q_ENABLE,
 Q_NOFF, DESC_LO, DESC_HI, AVAIL_LO, AVAIL_HI, USED_LO, USED_HI, Q_NDATA) = range(20)
# Status bits, by bit number (SET_STATUS_BIT takes 1 << n).
ACK, DRIVER, DRIVER_OK, FEATURES_OK, NEEDS_RESET_BIT, FAILED = 0, 1, 2, 3, 6, 7
SLOT = 1
PCI_COMMAND, PCI_STATUS, BAR0, BAR1 = 0x04, 0x06, 0x10, 0x14
COMMAND_IO, COMMAND_MEMORY, COMMAND_INTX_DISABLE = 0x1, 0x2, 0x400
MSIX_ENABLE, MSIX_MASKALL = 0x8000, 0x4000
ISR_OFFSET, DEVICE_OFFSET, NOTIFY_OFFSET = 0x1000, 0x2000, 0x3000
TABLE_OFFSET, PBA_OFFSET = 0x4000, 0x5000
WIDTH = {1: 0, 2: 1, 4: 2}


def ecam_write(offset, data):
    return struct.pack('<BIB', ECAM, offset, 0x80 | (len(data) - 1)) + data
def ecam_read(offset, width): return struct.pack('<BIB', ECAM, offset, width - 1)
def io_write(port, data): return struct.pack('<BBB', CONFIG_IO, port, 0x80 | (len(data) - 1)) + data
def io_read(port, width): return struct.pack('<BBB', CONFIG_IO, port, width - 1)
def cfg(reg, value, width=4): return struct.pack('<BBBI', CONFIG_WRITE, reg, WIDTH[width], value)
def write(field, value): return struct.pack('<BBI', COMMON_WRITE, field, value)
def read(field): return struct.pack('<BB', COMMON_READ, field)
def bar_write(offset, data): return struct.pack('<BHB', BAR, offset, 0x80 | (len(data) - 1)) + data
def bar_read(offset, width): return struct.pack('<BHB', BAR, offset, width - 1)
def entry(vector, field, value): return struct.pack('<BBBI', MSIX_ENTRY, vector, field, value)
def msix_control(value): return struct.pack('<BH', MSIX_CONTROL, value)
def status_bit(n): return struct.pack('<BB', SET_STATUS_BIT, n)
def notify(queue): return struct.pack('<BB', NOTIFY, queue)
def pci_cfg_read(bar, offset, length): return struct.pack('<BBHBB', PCI_CFG, bar, offset, length, 0)
def pci_cfg_write(bar, offset, length, value):
    return struct.pack('<BBHBBI', PCI_CFG, bar, offset, length, 1, value)
def ecam(reg): return SLOT << 15 | reg


def negotiate(high, low):
    return (status_bit(ACK) + status_bit(DRIVER) + write(DFSELECT, 1) + read(DF)
            + write(DFSELECT, 0) + read(DF) + write(GFSELECT, 0) + write(GF, low)
            + write(GFSELECT, 1) + write(GF, high) + status_bit(FEATURES_OK) + read(STATUS))


def queue(index):
    return (write(Q_SELECT, index) + read(Q_SIZE) + read(Q_NOFF) + bytes([POINT_QUEUE])
            + write(Q_ENABLE, 1))


def vector(v, masked=0):
    return (entry(v, 0, 0xfee00000) + entry(v, 1, 0) + entry(v, 2, 0x40 + v)
            + entry(v, 3, masked))


START = negotiate(1, 1 << 28) + queue(0) + status_bit(DRIVER_OK)
PLACE_BAR = cfg(BAR0, 0xe0000000) + cfg(BAR1, 0) + cfg(PCI_COMMAND, COMMAND_MEMORY, 2)

SEEDS = {
    'linux_init_intx': PLACE_BAR + START + notify(0) + bar_read(ISR_OFFSET, 1)
    + bar_read(ISR_OFFSET, 1) + bytes([CONFIG_CHANGE]) + ecam_read(ecam(PCI_STATUS), 2)
    + bar_write(NOTIFY_OFFSET, b'\x00\x00') + write(STATUS, 0),
    'linux_init_msix': PLACE_BAR + msix_control(MSIX_ENABLE | MSIX_MASKALL) + vector(0)
    + vector(1) + vector(2) + msix_control(MSIX_ENABLE) + write(MSIX, 0) + read(MSIX)
    + write(Q_SELECT, 0) + write(Q_MSIX, 1) + write(Q_SELECT, 1) + write(Q_MSIX, 2)
    + START + notify(0) + notify(1) + bytes([CONFIG_CHANGE]) + entry(1, 3, 1) + notify(0)
    + bar_read(PBA_OFFSET, 8) + entry(1, 3, 0) + msix_control(MSIX_ENABLE | MSIX_MASKALL)
    + notify(1) + msix_control(MSIX_ENABLE) + write(STATUS, 0),
    'bar_sizing': ecam_write(ecam(BAR0), b'\xff\xff\xff\xff') + ecam_read(ecam(BAR0), 4)
    + ecam_write(ecam(BAR1), b'\xff\xff\xff\xff') + ecam_read(ecam(BAR1), 4) + PLACE_BAR
    + cfg(BAR0, 0xe0010000) + cfg(BAR0, 0xffffffff) + cfg(BAR0, 0xe0000000)
    + cfg(PCI_COMMAND, 0, 2) + ecam_write(ecam(BAR0 + 3), b'\xd0')
    + cfg(PCI_COMMAND, COMMAND_MEMORY | COMMAND_IO, 2),
    'cf8_probe': io_write(3, b'\x01') + io_write(0, struct.pack('<I', 0x80000000))
    + io_read(0, 4) + io_read(4, 4) + io_write(0, struct.pack('<I', 0x80000000 | SLOT << 11))
    + io_read(4, 4) + io_read(6, 2) + io_read(7, 1) + io_read(7, 2)
    + io_write(0, struct.pack('<I', 0x80000000 | SLOT << 11 | PCI_COMMAND))
    + io_write(4, b'\x02\x00') + io_write(0, struct.pack('<I', 5 << 11)) + io_read(4, 4),
    'pci_cfg_window': pci_cfg_read(0, DEVICE_OFFSET + 4, 2) + pci_cfg_read(0, DEVICE_OFFSET, 4)
    + pci_cfg_write(0, 0x14, 1, 1) + pci_cfg_read(0, 0x14, 1) + pci_cfg_read(0, DEVICE_OFFSET, 3)
    + pci_cfg_read(1, DEVICE_OFFSET, 4) + pci_cfg_read(0, DEVICE_OFFSET + 1, 2)
    + pci_cfg_write(0, NOTIFY_OFFSET, 2, 0),
    'bad_widths': bar_write(0x00, b'\x01\x00') + bar_read(0x16, 4) + bar_write(0x01, b'\x01\x00')
    + bar_write(0x20, b'\x00\x10\x00\x00\x01\x00\x00\x00') + bar_write(TABLE_OFFSET + 8, b'\x41\x00')
    + bar_read(TABLE_OFFSET + 4, 8) + bar_read(PBA_OFFSET, 1) + bar_write(PBA_OFFSET, b'\xff' * 8)
    + ecam_read(ecam(0xffe), 4) + ecam_read(ecam(0), 8) + ecam_read(ecam(0), 3)
    + bar_read(0x7ffc, 4),
    'intx_disable': PLACE_BAR + START + cfg(PCI_COMMAND, COMMAND_MEMORY | COMMAND_INTX_DISABLE, 2)
    + notify(0) + ecam_read(ecam(PCI_STATUS), 2) + cfg(PCI_COMMAND, COMMAND_MEMORY, 2)
    + bar_read(ISR_OFFSET, 1),
    'device_needs_reset': START + bytes([NEEDS_RESET, NEEDS_RESET]) + read(STATUS)
    + bar_read(ISR_OFFSET, 1) + write(STATUS, 0) + START,
}


def main():
    write_corpus('pci', SEEDS)


if __name__ == '__main__':
    main()
