"""Boots the default (Debian cloud) kernel: init marker, boot timer, SMP,
command output over the serial console, reboot and power-off exits."""

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


if __name__ == "__main__":
    unittest.main()
