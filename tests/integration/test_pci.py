"""PCI with real Debian kernels: the host bridge found through ACPI (MCFG
and PCI0) and, with acpi=off, through ports 0xcf8/0xcfc and the MP table;
virtio-blk on virtio-pci with MSI-X, and with INTx when the guest refuses
MSI (pci=nomsi); both transports in one guest."""

import os
import shutil
import tempfile
import unittest

import vmmtest as vt

MIB = 1 << 20
# `test -b` first: without the disk, dd would create a plain /dev/vda.
PATTERN_CMD = ("test -b /dev/vda && yes mini-vmm-pci | head -c 1048576 | dd of=/dev/vda bs=4096 conv=fsync"
               " 2>/dev/null; echo dd=$?")


def setUpModule():
    vt.require(vt.KERNEL, vt.INITRD)


class PciTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mini-vmm-pci-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def image(self, name, size):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.truncate(size)
        return path

    def boot(self, command, disks=(), extra="", cpus=1):
        more = []
        for spec in disks:
            more += ["--disk", spec]
        run = vt.run_vmm(vt.boot_args(command=command, extra=extra, more=more, cpus=cpus))
        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_exit_status(run), 0, run)
        return run

    def assert_pattern(self, path):
        expected = (b"mini-vmm-pci\n" * (MIB // 13 + 1))[:MIB]
        with open(path, "rb") as f:
            self.assertEqual(f.read(MIB), expected)

    def test_host_bridge_is_found_through_acpi_without_devices(self):
        # Before PCI: "PCI: Fatal: No config space access function found".
        run = self.boot("dmesg | grep -c 'No config space access' ; "
                        "dmesg | grep -c -E '(MMCONFIG|ECAM).*0xe0000000' ; "
                        "dmesg | grep -c -E '(MMCONFIG|ECAM) at .* reserved' ; "
                        "dmesg | grep -c 'not using MMCONFIG' ; "
                        "cat /sys/bus/pci/devices/0000:00:00.0/class")
        out = vt.guest_output(run)
        self.assertEqual(out[0], "0", run)
        # Linux takes the MCFG's ECAM from the start: E820 reserves it.
        self.assertGreaterEqual(int(out[1]), 1, run)
        self.assertGreaterEqual(int(out[2]), 1, run)
        self.assertEqual(out[3], "0", run)
        self.assertEqual(out[4], "0x060000", run)

    def test_disk_on_pci_is_written_by_the_guest_with_msix_interrupts(self):
        a = self.image("a.img", 4 * MIB)
        run = self.boot(PATTERN_CMD + "; grep -c PCI-MSI /proc/interrupts; "
                        "cat /sys/bus/pci/devices/0000:00:01.0/vendor "
                        "/sys/bus/pci/devices/0000:00:01.0/device",
                        ["path=%s,transport=pci" % a])
        out = vt.guest_output(run)
        self.assertEqual(out[0], "dd=0", run)
        self.assertGreaterEqual(int(out[1]), 1, run)  # config vector + request queue
        self.assertEqual(out[2:], ["0x1af4", "0x1042"], run)
        self.assert_pattern(a)

    def test_disk_on_pci_with_pci_nomsi_uses_intx(self):
        a = self.image("a.img", 4 * MIB)
        run = self.boot(PATTERN_CMD + "; grep -c PCI-MSI /proc/interrupts; "
                        "grep virtio0 /proc/interrupts | grep -c IO-APIC",
                        ["path=%s,transport=pci" % a], extra="pci=nomsi")
        self.assertEqual(vt.guest_output(run), ["dd=0", "0", "1"], run)
        self.assert_pattern(a)

    def test_disk_on_pci_with_acpi_off_uses_the_config_ports_and_mp_table(self):
        # Debian's cloud kernel has no MP-table parser (X86_MPPARSE), so with
        # acpi=off it finds no IOAPIC and no IRQ for any PCI device; the
        # generic kernel has one.
        vt.require(vt.KERNEL_GENERIC)
        a = self.image("a.img", 4 * MIB)
        # Ends with reboot (the i8042): without ACPI, poweroff only halts.
        run = vt.run_vmm(vt.boot_args(kernel=vt.KERNEL_GENERIC,
                                      command=PATTERN_CMD,
                                      extra="acpi=off mvm_reboot=1",
                                      more=["--disk", "path=%s,transport=pci" % a]))
        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_output(run), ["dd=0"], run)
        self.assert_pattern(a)

    def test_disks_on_both_transports_in_one_guest(self):
        a = self.image("a.img", 4 * MIB)
        b = self.image("b.img", 8 * MIB)
        run = self.boot("cat /sys/block/vda/size /sys/block/vdb/size; "
                        "ls /sys/bus/virtio/drivers/virtio_blk | grep -c virtio",
                        ["path=%s,transport=pci" % a, "path=%s" % b], cpus=2)
        # The virtio-mmio disk probes first (platform devices), then PCI.
        self.assertEqual(sorted(vt.guest_output(run)[:2]), ["16384", "8192"], run)
        self.assertEqual(vt.guest_output(run)[2], "2", run)


if __name__ == "__main__":
    unittest.main()
