"""virtio-blk under a VMM crash: mini-vmm is killed with SIGKILL while the
guest writes numbered 512-byte records to its disk, one per sector, each
with O_DIRECT and then a sync, and prints a record's number only once that
sync has returned. Every record up to the last one printed must be in the
image afterwards: an acknowledged write or flush may never live only in
mini-vmm's memory. Ten kills at different points, in one L1.

The writer is busybox dd: `oflag=direct` opens /dev/vda with O_DIRECT and
`conv=fsync` calls fsync(2) after the write (checked with strace), which on
a block device is the same as fdatasync: both send the device a FLUSH.
While the guest writes, a QEMU (qemu-io) is also refused the image."""

import os
import re
import select
import shutil
import subprocess
import tempfile
import time
import unittest

import vmmtest as vt

SECTOR = 512
RECORDS = 2048  # The image's size in sectors; the guest never gets that far.
WRITTEN = re.compile(rb"mvm-written (\d+)\r?\n")

# Record i at sector i; its number is printed once dd's fsync returned.
WRITER = """
i=0
while [ $i -lt %d ]; do
  printf 'mvm-record %%08d\\n' $i > /tmp/record
  dd if=/tmp/record of=/dev/vda bs=512 count=1 seek=$i oflag=direct conv=notrunc,sync,fsync \\
    2>/dev/null || { echo "mvm-dd-failed $i"; break; }
  echo "mvm-written $i"
  i=$((i+1))
done
""" % RECORDS

# After how many printed records each run kills mini-vmm.
KILL_AFTER = [0, 1, 2, 3, 5, 8, 13, 21, 30, 40]


def setUpModule():
    vt.require(vt.KERNEL, vt.INITRD)


def record(number):
    text = b"mvm-record %08d\n" % number
    return text + b"\0" * (SECTOR - len(text))


class KillWhileWritingTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mini-vmm-disk-crash-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def start_writer(self, image):
        return vt.Console(vt.boot_args(command=WRITER, more=["--disk", "path=%s" % image]),
                          use_pipes=True)

    def wait_for_record(self, console, number):
        """Reads the console into its buffer until record `number` has been
        printed (a whole line)."""
        line = re.compile(rb"mvm-written %d\r?\n" % number)
        deadline = time.monotonic() + vt.BOOT_TIMEOUT
        while not line.search(console.buffer):
            left = deadline - time.monotonic()
            self.assertGreater(left, 0, console.buffer[-2000:])
            ready, _, _ = select.select([console.master], [], [], left)
            if ready:
                chunk = os.read(console.master, 4096)
                self.assertTrue(chunk, b"mini-vmm exited early:\n" + console.buffer[-2000:])
                console.buffer += chunk

    def kill_after(self, console, number):
        """Waits for record `number` to be printed, kills mini-vmm with
        SIGKILL and returns every record number it printed before it died."""
        self.wait_for_record(console, number)
        console.proc.kill()
        console.proc.wait()
        while True:  # What was still in the pipe when it died.
            chunk = os.read(console.master, 65536)
            if not chunk:
                break
            console.buffer += chunk
        self.assertNotIn(b"mvm-dd-failed", console.buffer, console.buffer[-2000:])
        return [int(n) for n in WRITTEN.findall(console.buffer)]

    def assert_records_durable(self, image, printed, run):
        self.assertEqual(printed, list(range(len(printed))), run)
        with open(image, "rb") as f:
            data = f.read()
        for number in printed:
            self.assertEqual(data[number * SECTOR:(number + 1) * SECTOR], record(number),
                             "run %d: record %d of %d printed is not in the image"
                             % (run, number, len(printed)))

    def test_every_record_printed_before_a_kill_is_in_the_image(self):
        for run, count in enumerate(KILL_AFTER):
            image = os.path.join(self.tmp, "records-%d.img" % run)
            with open(image, "wb") as f:
                f.truncate(RECORDS * SECTOR)
            console = self.start_writer(image)
            try:
                if run == 0:
                    self.wait_for_record(console, 0)
                    self.assert_qemu_refused(image)
                printed = self.kill_after(console, count)
            finally:
                console.close()
            self.assertGreaterEqual(len(printed), count + 1)
            self.assert_records_durable(image, printed, run)

    def assert_qemu_refused(self, image):
        """QEMU's block layer, as qemu-io, cannot open the image mini-vmm
        writes: the two take the same kind of lock."""
        qemu_io = shutil.which("qemu-io") or "/usr/bin/qemu-io"
        self.assertTrue(os.path.exists(qemu_io), "qemu-io missing: scripts/install-deps")
        probe = subprocess.run([qemu_io, "-r", "-f", "raw", "-c", "read 0 512", image],
                               capture_output=True, text=True, timeout=60)
        self.assertNotEqual(probe.returncode, 0, probe)
        self.assertIn("Failed to lock byte 100", probe.stderr, probe)


if __name__ == "__main__":
    unittest.main()
