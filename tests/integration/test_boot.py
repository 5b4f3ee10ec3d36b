"""Boots the default (Debian cloud) kernel: init marker, boot timer, SMP,
command output over the serial console, reboot and power-off exits; the
bzImage decompressed by the guest, by the host, and read from the cache."""

import os
import shutil
import tempfile
import unittest

import vmmtest as vt


def setUpModule():
    vt.require(vt.KERNEL, vt.INITRD)


class BootTest(unittest.TestCase):

    def test_one_vcpu_boots_to_init_and_powers_off_with_exit_0(self):
        run = vt.run_vmm(vt.boot_args(cpus=1, command="true", more=["--boot-timer"]))

        self.assertEqual(run.returncode, 0, run)
        self.assertIn(vt.READY, run.stdout, run)
        self.assertEqual(vt.guest_exit_status(run), 0, run)
        self.assertRegex(run.stderr, r"mini-vmm: guest boot marker after \d+\.\d ms", run)

    def test_two_vcpus_show_two_processors_in_cpuinfo(self):
        run = vt.run_vmm(vt.boot_args(cpus=2, command="grep -c ^processor /proc/cpuinfo"))

        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_output(run), ["2"], run)

    def test_four_vcpus_are_all_online(self):
        run = vt.run_vmm(vt.boot_args(cpus=4, command="cat /sys/devices/system/cpu/online"))

        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_output(run), ["0-3"], run)

    def test_command_exit_status_and_output_reach_the_host_intact(self):
        # 2000 lines through the UART's interrupt-driven transmit path.
        command = "seq 1 2000; exit 7"

        run = vt.run_vmm(vt.boot_args(command=command))

        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_exit_status(run), 7, run)
        expected = [str(i) for i in range(1, 2001)]
        self.assertEqual(vt.guest_output(run), expected, run)

    def test_guest_sees_the_requested_memory(self):
        run = vt.run_vmm(vt.boot_args(memory="256M", command="grep MemTotal /proc/meminfo"))

        self.assertEqual(run.returncode, 0, run)
        kib = int(vt.guest_output(run)[0].split()[1])
        # The kernel keeps some for itself; it must see most of 256 MiB
        # and never more.
        self.assertGreater(kib, 200 * 1024, run)
        self.assertLessEqual(kib, 256 * 1024, run)

    def test_memory_above_the_mmio_hole_is_usable(self):
        # 3.5 GiB puts 512 MiB above 4 GiB.
        run = vt.run_vmm(vt.boot_args(memory="3584M", command="grep MemTotal /proc/meminfo"))

        self.assertEqual(run.returncode, 0, run)
        kib = int(vt.guest_output(run)[0].split()[1])
        self.assertGreater(kib, 3 * 1024 * 1024, run)

    def test_guest_reboot_ends_the_vm_with_exit_0(self):
        run = vt.run_vmm(vt.boot_args(command="true", extra="mvm_reboot=1"))

        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_exit_status(run), 0, run)

    def test_guest_clock_comes_from_the_host_rtc_and_kvm_clock(self):
        run = vt.run_vmm(vt.boot_args(
            command="date +%Y; cat /sys/devices/system/clocksource/clocksource0/"
                    "current_clocksource"))

        self.assertEqual(run.returncode, 0, run)
        year, clocksource = vt.guest_output(run)
        self.assertGreaterEqual(int(year), 2024, run)
        self.assertEqual(clocksource, "kvm-clock", run)


class KernelDecompressTest(unittest.TestCase):
    """--kernel-decompress: each path boots, and says at info level which
    it took. Each test has its own cache directory (XDG_CACHE_HOME)."""

    def setUp(self):
        self.cache = tempfile.mkdtemp(prefix="mini-vmm-cache-")
        self.env = dict(os.environ, XDG_CACHE_HOME=self.cache)

    def tearDown(self):
        shutil.rmtree(self.cache, ignore_errors=True)

    def boot(self, *more, kernel=vt.KERNEL):
        return vt.run_vmm(vt.boot_args(kernel=kernel, command="true",
                                       more=["--log-level", "info", *more]), env=self.env)

    def test_guest_decompression_boots_without_touching_the_cache(self):
        run = self.boot("--kernel-decompress=guest")

        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_exit_status(run), 0, run)
        self.assertIn("the bzImage decompresses itself in the guest", run.stderr, run)
        self.assertEqual(os.listdir(self.cache), [], run)

    def test_host_decompression_of_the_lz4_kernel_is_cached_only_with_sha_extensions(self):
        # Without them (the nested harness's TCG L1 has none), verifying a
        # cached copy is slower than decompressing LZ4 again.
        with open("/proc/cpuinfo") as f:
            sha_ni = " sha_ni" in f.read()
        run = self.boot()

        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_exit_status(run), 0, run)
        self.assertRegex(run.stderr, r"kernel: decompressed the bzImage's lz4 payload on the "
                         r"host \([\d.]+ MiB\) in \d+ ms; " +
                         ("cached as " if sha_ni else "not cached"), run)
        self.assertEqual(len(os.listdir(self.cache)) > 0, sha_ni, run)

    def test_second_boot_of_the_xz_kernel_reads_the_cache(self):
        vt.require(vt.KERNEL_GENERIC)
        first = self.boot(kernel=vt.KERNEL_GENERIC)
        second = self.boot("--kernel-decompress=host", kernel=vt.KERNEL_GENERIC)

        self.assertEqual(first.returncode, 0, first)
        self.assertEqual(vt.guest_exit_status(first), 0, first)
        self.assertRegex(first.stderr, r"kernel: decompressed the bzImage's xz payload on the "
                         r"host \([\d.]+ MiB\) in \d+ ms; cached as ", first)
        self.assertEqual(second.returncode, 0, second)
        self.assertEqual(vt.guest_exit_status(second), 0, second)
        self.assertRegex(second.stderr, r"kernel: read the decompressed vmlinux \([\d.]+ MiB\) "
                         r"from the cache \S+ in \d+ ms", second)
        self.assertNotIn("decompressed the bzImage", second.stderr, second)

if __name__ == "__main__":
    unittest.main()
