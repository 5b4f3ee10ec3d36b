"""virtio-blk over virtio-mmio with real Debian kernels: sizes, serials,
read-only disks, data written by the guest found in the host file (and the
other way round), a filesystem made and used by the guest that the host's
e2fsck finds clean, discard, and bad --disk input (an image QEMU has open
among them)."""

import fcntl
import hashlib
import os
import shutil
import struct
import subprocess
import tempfile
import time
import unittest

import vmmtest as vt

MIB = 1 << 20
F_OFD_GETLK = 36  # <fcntl.h>; Python 3.11 has no constant for it.


def setUpModule():
    vt.require(vt.KERNEL, vt.INITRD)


class DiskTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mini-vmm-disks-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def image(self, name, size, content=None):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            if content is not None:
                f.write(content)
            f.truncate(size)
        return path

    def boot(self, command, disks, kernel=vt.KERNEL, extra=""):
        more = []
        for spec in disks:
            more += ["--disk", spec]
        run = vt.run_vmm(vt.boot_args(kernel=kernel, command=command, extra=extra, more=more))
        self.assertEqual(run.returncode, 0, run)
        return run

    def test_guest_sees_sizes_serials_and_read_only_flag_of_two_disks(self):
        a = self.image("a.img", 8 * MIB)
        b = self.image("b.img", 4 * MIB)

        run = self.boot(
            "for f in vda/size vdb/size vdb/serial vda/ro vdb/ro; do echo $(cat /sys/block/$f); done",
            ["path=%s,serial=root0" % a, "path=%s,readonly=on,serial=data0" % b])

        self.assertEqual(vt.guest_output(run), ["16384", "8192", "data0", "0", "1"], run)

    def test_read_only_disk_refuses_writes_and_the_file_is_unchanged(self):
        content = os.urandom(MIB)
        b = self.image("ro.img", MIB, content)

        run = self.boot("dd if=/dev/zero of=/dev/vda bs=4096 count=1 conv=fsync 2>/dev/null;"
                        " echo dd=$?", ["path=%s,readonly=on" % b])

        self.assertNotEqual(vt.guest_output(run), ["dd=0"], run)
        with open(b, "rb") as f:
            self.assertEqual(f.read(), content)

    def test_pattern_written_and_flushed_by_the_guest_is_in_the_host_file(self):
        a = self.image("a.img", 4 * MIB)

        self.boot("yes mini-vmm-pattern | head -c 1048576 |"
                  " dd of=/dev/vda bs=4096 seek=256 conv=fsync 2>/dev/null; echo done",
                  ["path=%s" % a])

        expected = (b"mini-vmm-pattern\n" * (MIB // 17 + 1))[:MIB]
        with open(a, "rb") as f:
            self.assertEqual(f.read(MIB), b"\0" * MIB)
            self.assertEqual(f.read(MIB), expected)

    def test_guest_reads_exactly_what_the_host_wrote(self):
        content = os.urandom(3 * MIB)
        a = self.image("a.img", 3 * MIB, content)

        run = self.boot("sha256sum /dev/vda", ["path=%s,readonly=on" % a])

        self.assertEqual(vt.guest_output(run)[0].split()[0], hashlib.sha256(content).hexdigest(),
                         run)

    def test_filesystem_made_and_written_by_the_guest_passes_host_fsck(self):
        a = self.image("fs.img", 64 * MIB)

        self.boot("mke2fs -q /dev/vda && mkdir -p /mnt && mount /dev/vda /mnt &&"
                  " seq 1 200000 > /mnt/numbers && mkdir /mnt/dir && cp /init /mnt/dir/ &&"
                  " sync && umount /mnt && echo ok", ["path=%s" % a])
        fsck = subprocess.run(["/sbin/e2fsck", "-fn", a], capture_output=True, text=True)

        self.assertEqual(fsck.returncode, 0, fsck.stdout + fsck.stderr)
        run = self.boot("mkdir -p /mnt && mount -o ro /dev/vda /mnt && tail -n 1 /mnt/numbers &&"
                        " ls /mnt/dir",
                        ["path=%s" % a])
        self.assertEqual(vt.guest_output(run), ["200000", "init"], run)

    def test_generic_kernel_mounts_an_ext4_filesystem_made_on_the_host(self):
        a = self.image("ext4.img", 64 * MIB)
        subprocess.run(["/sbin/mkfs.ext4", "-q", "-F", a], check=True)

        run = self.boot("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt &&"
                        " echo hello > /mnt/greeting && umount /mnt && echo ok", ["path=%s" % a],
                        kernel=vt.KERNEL_GENERIC)
        self.assertEqual(vt.guest_output(run), ["ok"], run)
        fsck = subprocess.run(["/sbin/e2fsck", "-fn", a], capture_output=True, text=True)
        debugfs = subprocess.run(["/sbin/debugfs", "-R", "cat /greeting", a],
                                 capture_output=True, text=True)

        self.assertEqual(fsck.returncode, 0, fsck.stdout + fsck.stderr)
        self.assertEqual(debugfs.stdout.strip(), "hello", debugfs.stderr)

    def test_discard_punches_a_hole_the_guest_and_host_read_as_zeros(self):
        a = self.image("discard.img", 4 * MIB, b"\xff" * (4 * MIB))

        run = self.boot("blkdiscard -o 1048576 -l 1048576 /dev/vda && echo discarded",
                        ["path=%s" % a])

        self.assertEqual(vt.guest_output(run), ["discarded"], run)
        with open(a, "rb") as f:
            data = f.read()
        self.assertEqual(data[:MIB], b"\xff" * MIB)
        self.assertEqual(data[MIB:2 * MIB], b"\0" * MIB)
        self.assertEqual(data[2 * MIB:], b"\xff" * (2 * MIB))

    def test_acpi_off_boot_announces_devices_on_the_kernel_command_line(self):
        # Without ACPI the DSDT is gone, so kernels built with
        # VIRTIO_MMIO_CMDLINE_DEVICES learn the devices from the command
        # line. Debian's are not, so the guest sees no disk but must boot.
        a = self.image("a.img", MIB)
        b = self.image("b.img", MIB)
        run = self.boot("cat /proc/cmdline; ls /sys/block | grep -c vd || true",
                        ["path=%s" % a, "path=%s" % b], kernel=vt.KERNEL_GENERIC,
                        extra="acpi=off mvm_reboot=1")
        cmdline, disks = vt.guest_output(run)
        self.assertIn("virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6",
                      cmdline, run)
        self.assertEqual(disks, "0", run)

    def test_image_size_not_a_multiple_of_512_warns_and_shows_whole_sectors(self):
        a = self.image("odd.img", MIB + 100)

        run = self.boot("cat /sys/block/vda/size", ["path=%s" % a])

        self.assertEqual(vt.guest_output(run), ["2048"], run)
        self.assertIn("not a multiple of 512", run.stderr, run)


class BadDiskInputTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mini-vmm-baddisk-")
        self.img = os.path.join(self.tmp, "d.img")
        with open(self.img, "wb") as f:
            f.truncate(MIB)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def assert_one_line_error(self, disks, *fragments, prefix=()):
        more = []
        for spec in disks:
            more += ["--disk", spec]
        run = vt.run_vmm(["run", "--kernel", vt.KERNEL] + more, timeout=120, prefix=prefix)
        self.assertNotEqual(run.returncode, 0, run)
        lines = [l for l in run.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, run)
        for fragment in fragments:
            self.assertIn(fragment, lines[0], run)

    def test_missing_disk_file(self):
        self.assert_one_line_error(["path=%s/nope.img" % self.tmp], "nope.img", "No such file")

    def test_disk_path_is_a_directory(self):
        self.assert_one_line_error(["path=%s" % self.tmp], self.tmp)

    def test_same_image_given_twice_writable(self):
        self.assert_one_line_error(["path=%s" % self.img, "path=%s" % self.img], "twice")

    def test_unknown_key(self):
        self.assert_one_line_error(["path=%s,cache=none" % self.img], "unknown key", "cache")

    def test_missing_path(self):
        self.assert_one_line_error(["readonly=on"], "path=")

    def test_image_qemu_has_open(self):
        # QEMU's block layer (qemu-io, kept open by its sleep command) holds
        # its OFD locks on the image; mini-vmm takes the same kind of lock.
        qemu = subprocess.Popen(["qemu-io", "-f", "raw", "-c", "sleep 120000", self.img],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.wait_for_qemu_lock()
            self.assert_one_line_error(["path=%s" % self.img], '"%s"' % self.img,
                                       "is in use by another process")
        finally:
            qemu.kill()
            qemu.wait()

    def wait_for_qemu_lock(self):
        """Until some process holds QEMU's "consistent read" byte (100)."""
        fd = os.open(self.img, os.O_RDONLY)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                probe = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 100, 1, 0)
                if struct.unpack("hhqqi", fcntl.fcntl(fd, F_OFD_GETLK, probe))[0] != fcntl.F_UNLCK:
                    return
                time.sleep(0.05)
        finally:
            os.close(fd)
        self.fail("qemu-io never locked %s" % self.img)

    def test_no_permission(self):
        os.chmod(self.img, 0o600)
        # As root, drop to an unprivileged user so the permission check is
        # real (the image and its directory belong to root).
        prefix = ()
        if os.geteuid() == 0:
            prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
        self.assert_one_line_error(["path=%s" % self.img], "Permission denied", prefix=prefix)


if __name__ == "__main__":
    unittest.main()
