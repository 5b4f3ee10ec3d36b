"""The generic Debian kernel (XZ-compressed, ext4 and more as modules,
MP-table parser built in): boots with ACPI and, with acpi=off, from the MP
table alone."""

import unittest

import vmmtest as vt


def setUpModule():
    vt.require(vt.KERNEL_GENERIC, vt.INITRD)


class GenericKernelTest(unittest.TestCase):

    def test_acpi_boot_with_two_vcpus_loads_modules(self):
        run = vt.run_vmm(vt.boot_args(
            kernel=vt.KERNEL_GENERIC, cpus=2,
            command="grep -c ^processor /proc/cpuinfo; grep -c ^ext4 /proc/modules"))

        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_output(run), ["2", "1"], run)

    def test_mp_table_boot_without_acpi_brings_up_both_vcpus(self):
        # Without ACPI there is no S5: the guest ends the VM by rebooting.
        run = vt.run_vmm(vt.boot_args(
            kernel=vt.KERNEL_GENERIC, cpus=2, extra="acpi=off mvm_reboot=1",
            command="grep -c ^processor /proc/cpuinfo; dmesg | grep -c 'Intel MultiProcessor'"))

        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_output(run), ["2", "1"], run)


if __name__ == "__main__":
    unittest.main()
