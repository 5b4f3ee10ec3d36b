"""VFIO PCI passthrough (issue #13) of an NVMe disk that the nested L1
emulates behind an emulated Intel IOMMU: the guest's own nvme driver binds
on MSI-X, reads what was written into the disk image outside the guest, and
what it writes lands in the image; a second boot works, and so does a boot
after a mini-vmm was SIGKILLed in the middle of I/O; bad --vfio input ends
with the contract's exit status and one sentence, the devices left as found.

run-group runs this group under `scripts/nested --vfio-nvme IMG`, which
binds the NVMe at MINI_VMM_VFIO_BDF to vfio-pci before the tests start and
exports MINI_VMM_VFIO_IMAGE, the image file behind it (in the repository
share, so the tests read and write it between boots: the emulated disk
reads and writes that file itself, without a cache of its own). The other
devices the bad-input tests use are the ones scripts/nested documents.
Where no device can be given (KVM runs directly, no L1), the group skips.
"""

import hashlib
import os
import re
import signal
import subprocess
import unittest

import vmmtest as vt

BDF = os.environ.get("MINI_VMM_VFIO_BDF", "")
IMAGE = os.environ.get("MINI_VMM_VFIO_IMAGE", "")
# Devices of scripts/nested --vfio-nvme for the bad-input tests.
ON_NVME = "0000:00:05.0"        # an NVMe left on the nvme driver
UNBOUND = "0000:00:1f.0"        # q35's ISA bridge: no driver, has a group
NO_GROUP = "0000:10:00.0"       # a root port on a bus that bypasses the IOMMU
NOT_VIABLE = "0000:00:06.0"     # on vfio-pci; 06.1 in its group is on nvme
NOT_VIABLE_PEER = "0000:00:06.1"
ABSENT = "0000:00:1e.0"

MIB = 1 << 20
# vfio pins all guest RAM: keep it small.
MEMORY = "128M"
# A guest whose device never answers hangs in nvme's probe: four such boots
# at the default 300 s would outlast run-group's L1 timeout, which then
# reruns the whole group as if L1 had stalled.
BOOT_TIMEOUT = min(vt.BOOT_TIMEOUT, 150)
SYS_PCI = "/sys/bus/pci/devices"
# In the guest: the passed-through NVMe, whatever slot it got.
GUEST_DEV = "d=/dev/nvme0n1; p=/sys/class/nvme/nvme0/device; test -b $d || exit 3; "


def setUpModule():
    if not BDF or not IMAGE:
        raise unittest.SkipTest(
            "no PCI device to pass through: the group needs the nested L1 of "
            "scripts/nested --vfio-nvme (run-group gives it one), and KVM runs "
            "directly here")
    vt.require(vt.KERNEL, vt.INITRD)
    global HAS_VFIO
    run = vt.run_vmm(["run", "--help"], timeout=60)
    HAS_VFIO = "--vfio" in run.stdout


HAS_VFIO = False


def driver_of(bdf):
    link = os.path.join(SYS_PCI, bdf, "driver")
    return os.path.basename(os.readlink(link)) if os.path.exists(link) else None


def group_of(bdf):
    return os.path.basename(os.readlink(os.path.join(SYS_PCI, bdf, "iommu_group")))


def pattern(tag, size=MIB):
    line = ("mini-vmm-vfio %s\n" % tag).encode()
    return (line * (size // len(line) + 1))[:size]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def write_image(offset, data):
    with open(IMAGE, "r+b") as f:
        f.seek(offset)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def read_image(offset, size):
    # The repository share is 9p with cache=mmap: reads go to the host file.
    with open(IMAGE, "rb") as f:
        f.seek(offset)
        return f.read(size)


def guest_sha(mib, count_mib=1):
    """Guest shell: sha256 of `count_mib` MiB of the disk at MiB `mib`, read
    with O_DIRECT (no page cache: the data comes from the device)."""
    return ("dd if=$d bs=65536 skip=%d count=%d iflag=direct 2>/dev/null | sha256sum | cut -c1-64; "
            % (mib * 16, count_mib * 16))


def guest_write(mib, tag):
    """Guest shell: 1 MiB of pattern(tag) written at MiB `mib`, O_DIRECT, synced."""
    return ("yes 'mini-vmm-vfio %s' | head -c 1048576 | dd of=$d bs=65536 seek=%d iflag=fullblock"
            " oflag=direct conv=fsync 2>/dev/null; echo dd=$?; " % (tag, mib * 16))


class VfioTest(unittest.TestCase):

    def setUp(self):
        if not HAS_VFIO:
            self.fail("%s has no --vfio option: VFIO passthrough (issue #13, branch "
                      "wip/vfio) is not in this build" % vt.VMM)
        self.assertEqual(driver_of(BDF), "vfio-pci", "the harness bound %s to vfio-pci" % BDF)

    def args(self, command, vfio=(BDF,)):
        more = []
        for bdf in vfio:
            more += ["--vfio", bdf]
        return vt.boot_args(command=command, memory=MEMORY, more=more)

    def boot(self, command):
        try:
            run = vt.run_vmm(self.args(command), timeout=BOOT_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            self.fail("the VM did not end within %d s; console:\n%s\nstderr:\n%s" % (
                BOOT_TIMEOUT, (e.stdout or b"").decode(errors="replace")[-3000:],
                (e.stderr or b"").decode(errors="replace")[-2000:]))
        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_exit_status(run), 0, run)
        return vt.guest_output(run)

    # The device's life over three VMs in one test: each L2 boot costs
    # 10-40 s nested, and the group is to stay within a couple of them.

    def test_nvme_on_msix_then_second_boot_then_sigkill_mid_io_then_boot_again(self):
        self.first_boot_reads_host_data_and_writes_its_own_on_msix()
        self.second_boot_reads_it_back_and_is_killed_mid_io()
        self.boot_after_sigkill_reads_and_writes()

    def first_boot_reads_host_data_and_writes_its_own_on_msix(self):
        data = os.urandom(MIB)
        write_image(0, data)
        out = self.boot(GUEST_DEV + "cat $p/vendor $p/device; "
                        "cat $p/msi_irqs/* | sort | uniq -c | tr -s ' ' | sed 's/^ //'; "
                        "grep -c 'PCI-MSI.*nvme' /proc/interrupts; "
                        + guest_sha(0) + guest_write(8, "first boot"))
        with open(os.path.join(SYS_PCI, BDF, "vendor")) as f:
            vendor = f.read().strip()
        with open(os.path.join(SYS_PCI, BDF, "device")) as f:
            device = f.read().strip()
        self.assertEqual(out[:2], [vendor, device], out)
        # Admin queue and one I/O queue (one vCPU), both on MSI-X.
        self.assertRegex(out[2], r"^[2-9] msix$", out)
        self.assertGreaterEqual(int(out[3]), 2, out)
        self.assertEqual(out[4], sha256(data), "the guest read the host's data")
        self.assertEqual(out[5], "dd=0", out)
        self.assertEqual(read_image(8 * MIB, MIB), pattern("first boot"))
        self.assertEqual(driver_of(BDF), "vfio-pci")

    def second_boot_reads_it_back_and_is_killed_mid_io(self):
        # Reset and teardown after a clean exit: the next VM drives the
        # device; while it runs, the device is in use; then SIGKILL in the
        # middle of reads and writes.
        io = (GUEST_DEV + guest_sha(8) + "(while :; do dd if=$d of=/dev/null bs=64k count=64"
              " iflag=direct 2>/dev/null; done) & (while :; do dd if=/dev/urandom of=$d bs=64k"
              " count=16 seek=512 oflag=direct 2>/dev/null; done) & sleep 1; echo IO-RUNNING;"
              " sleep 3600")
        vm = vt.Console(self.args(io), use_pipes=True)
        try:
            out = vm.expect("IO-RUNNING", timeout=BOOT_TIMEOUT)
            self.assertIn(sha256(pattern("first boot")), out, "the second VM read the first's data")
            busy = vt.run_vmm(self.args("true"), timeout=120)
            self.assert_error(busy, [BDF], 2, "is in use by another process")
            vm.proc.send_signal(signal.SIGKILL)
            self.assertEqual(vm.wait(timeout=60), -signal.SIGKILL)
        finally:
            vm.close()

    def boot_after_sigkill_reads_and_writes(self):
        # vfio-pci reset the device on the last close; the next VM works.
        data = os.urandom(MIB)
        write_image(16 * MIB, data)
        out = self.boot(GUEST_DEV + guest_sha(16) + guest_write(24, "after sigkill"))
        self.assertEqual(out, [sha256(data), "dd=0"])
        self.assertEqual(read_image(24 * MIB, MIB), pattern("after sigkill"))
        self.assertEqual(driver_of(BDF), "vfio-pci")

    # Bad input: one sentence, the contract's status, nothing changed.

    def assert_error(self, run, names, status, *fragments):
        """One line on stderr, `mini-vmm: --vfio NAME: ...` for one of
        `names` (the address as given, or as written in full)."""
        lines = [l for l in run.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, run)
        self.assertTrue(any(lines[0].startswith("mini-vmm: --vfio %s: " % name)
                            for name in names), run)
        for fragment in fragments:
            self.assertIn(fragment, lines[0], run)
        self.assertEqual(run.returncode, status, run)
        self.assertEqual(run.stdout, "", run)
        return lines[0]

    def bad(self, vfio, status, *fragments, names=None):
        drivers = {bdf: driver_of(bdf) for bdf in (BDF, ON_NVME, NOT_VIABLE, NOT_VIABLE_PEER)}
        run = vt.run_vmm(self.args("true", vfio), timeout=120)
        self.assert_error(run, names or [vfio[-1]], status, *fragments)
        self.assertEqual({bdf: driver_of(bdf) for bdf in drivers}, drivers, "drivers unchanged")

    def test_malformed_address(self):
        for text in ("04.0", "0000:00:04", "0000:0g:04.0", "0000:00:04.0:0", "vfio"):
            with self.subTest(text=text):
                self.bad([text], 2, "is not a PCI address")

    def test_nonexistent_device(self):
        self.assertFalse(os.path.exists(os.path.join(SYS_PCI, ABSENT)))
        self.bad([ABSENT], 2, "no such PCI device")

    def test_device_on_another_driver(self):
        self.assertEqual(driver_of(ON_NVME), "nvme")
        self.bad([ON_NVME], 2, "is bound to nvme, not vfio-pci")

    def test_device_without_driver(self):
        self.assertIsNone(driver_of(UNBOUND))
        self.bad([UNBOUND], 2, "is not bound to vfio-pci")

    def test_device_without_iommu_group(self):
        # Without an IOMMU group vfio-pci cannot take a device at all, so the
        # group is checked before the driver, or this sentence never shows.
        self.assertTrue(os.path.exists(os.path.join(SYS_PCI, NO_GROUP)))
        self.assertFalse(os.path.exists(os.path.join(SYS_PCI, NO_GROUP, "iommu_group")))
        self.bad([NO_GROUP], 2, "has no IOMMU group")

    def test_group_not_viable_names_the_device_at_fault(self):
        group = group_of(NOT_VIABLE)
        self.assertEqual(group_of(NOT_VIABLE_PEER), group)
        self.assertEqual(driver_of(NOT_VIABLE), "vfio-pci")
        self.assertEqual(driver_of(NOT_VIABLE_PEER), "nvme")
        self.bad([NOT_VIABLE], 2, "IOMMU group %s is not viable" % group, NOT_VIABLE_PEER)

    def test_group_held_open_by_another_process(self):
        with open("/dev/vfio/" + group_of(BDF), "rb"):
            self.bad([BDF], 2, "is in use by another process")

    def test_same_device_twice(self):
        for second in (BDF, BDF[len("0000:"):]):
            with self.subTest(second=second):
                self.bad([BDF, second], 2, "is given twice", names=[second, BDF])

    def test_pinning_beyond_memlock_limit_says_what_is_needed(self):
        # Root pins without limit through CAP_IPC_LOCK: drop it, cap the limit.
        prefix = ("prlimit", "--memlock=1048576:1048576", "setpriv",
                  "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock", "--")
        run = vt.run_vmm(self.args("true"), timeout=120, prefix=prefix)
        line = self.assert_error(run, [BDF], 1, "RLIMIT_MEMLOCK")
        needed = [int(n) for n in re.findall(r"\b[0-9]{6,}\b", line)]
        self.assertTrue(any(n >= 128 * MIB for n in needed),
                        "names the bytes to lock (at least the 128 MiB of RAM): %s" % line)
        self.assertEqual(driver_of(BDF), "vfio-pci")


if __name__ == "__main__":
    unittest.main()
