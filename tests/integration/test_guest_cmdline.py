"""Boots with the kernel command-line switches users reach for when
debugging, and ends the guest through every restart path Linux has: each
must reach the init's marker and end mini-vmm with its documented status,
whatever `reboot=` says or omits (README, "Exit status")."""

import unittest

import vmmtest as vt

# No reboot= and no panic=: what a user's --cmdline often looks like. (The
# test helpers' BASE_CMDLINE has reboot=k, the one path that always worked.)
USER_CMDLINE = "console=ttyS0 quiet io_delay=none"


def setUpModule():
    vt.require(vt.KERNEL, vt.INITRD)


def reboot_args(extra, command="true"):
    """Boots USER_CMDLINE plus `extra`; the init runs `command`, then
    `reboot -f`. Logs at info level, where mini-vmm says how the guest
    stopped."""
    return vt.boot_args(command=command, extra=" ".join([extra, "mvm_reboot=1"]).strip(),
                        base=USER_CMDLINE, more=["--log-level", "info"])


class DebugSwitchTest(unittest.TestCase):
    """Each switch on the default kernel; where the guest has a console, the
    command proves the switch took effect."""

    def boot(self, extra, command, cpus=1):
        run = vt.run_vmm(vt.boot_args(cpus=cpus, command=command, extra=extra))
        self.assertEqual(run.returncode, 0, run)
        self.assertIn(vt.READY, run.stdout, run)
        self.assertEqual(vt.guest_exit_status(run), 0, run)
        return vt.guest_output(run)

    def boot_without_console(self, extra, cpus=1):
        # With ACPI (hardware-reduced: no PIC, no PIT as far as Linux is
        # concerned) and the IOAPIC switched off, COM1 has no interrupt:
        # kernel messages reach the console, the init's output does not.
        # So the init's progress is read from mini-vmm: the boot marker,
        # then the ACPI power-off at the end of its script.
        run = vt.run_vmm(vt.boot_args(cpus=cpus, command="true", extra=extra,
                                      more=["--boot-timer", "--log-level", "info"]))
        self.assertEqual(run.returncode, 0, run)
        self.assertRegex(run.stderr, r"mini-vmm: guest boot marker after \d+\.\d ms", run)
        self.assertIn("guest powered off (ACPI S5)", run.stderr, run)
        # Before the PICs were set up as firmware leaves them, COM1's IRQ 4
        # arrived as vector 4: "overflow" oops in PID 1, then a panic.
        self.assertNotIn("Oops", run.stdout, run)
        self.assertNotIn("overflow", run.stdout, run)
        self.assertNotIn("Kernel panic", run.stdout, run)

    def test_nosmp_runs_init_to_power_off_without_crashing(self):
        # nosmp also disables the IOAPIC.
        self.boot_without_console("nosmp", cpus=2)

    def test_noapic_runs_init_to_power_off_without_crashing(self):
        self.boot_without_console("noapic")

    def test_nolapic_with_acpi_off_boots_to_init_on_the_pic(self):
        # With ACPI, nolapic leaves Linux without any timer (the hardware-
        # reduced FADT says there is no PIT), so it stops after starting
        # init; acpi=off gives it the PIC and the PIT. Ends with reboot:
        # without ACPI, poweroff only halts.
        run = vt.run_vmm(vt.boot_args(command="grep -cw apic /proc/cpuinfo; true",
                                      extra="nolapic acpi=off mvm_reboot=1"))

        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_output(run), ["0"], run)

    def test_acpi_off_boots_to_init_without_acpi(self):
        # Ends with reboot (the i8042): without ACPI, poweroff only halts.
        run = vt.run_vmm(vt.boot_args(command="test -d /sys/firmware/acpi; echo $?",
                                      extra="acpi=off mvm_reboot=1"))

        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_output(run), ["1"], run)

    def test_pci_off_maxcpus_1_nokaslr_earlyprintk_boot_together(self):
        # Independent switches, one boot: pci=off (there is no PCI bus
        # anyway), maxcpus=1 of 2 CPUs, nokaslr (the kernel at its link
        # address) and earlyprintk=serial (the boot console registered).
        command = ("cat /sys/devices/system/cpu/online; "
                   "grep -w _text /proc/kallsyms | cut -d' ' -f1; "
                   "dmesg | grep -c 'bootconsole \\[earlyser0\\] enabled'; "
                   "ls /sys/bus/pci/devices 2>/dev/null | wc -l")

        output = self.boot("pci=off maxcpus=1 nokaslr earlyprintk=serial", command, cpus=2)

        self.assertEqual(output, ["0", "ffffffff81000000", "1", "0"])


class RebootTest(unittest.TestCase):
    """`reboot -f` in the guest ends mini-vmm with exit 0 for every reboot=,
    and mini-vmm's info log names the mechanism that reached it."""

    def reboot(self, extra, mechanism):
        run = vt.run_vmm(reboot_args(extra))
        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_exit_status(run), 0, run)
        self.assertIn("guest rebooted (" + mechanism, run.stderr, run)
        self.assertNotIn("crash", run.stderr, run)

    def test_no_reboot_option_resets_through_the_reset_vector(self):
        # Linux's default with a hardware-reduced FADT is EFI; without EFI
        # it jumps to the BIOS at F000:FFF0, where mini-vmm's stub writes
        # port 0xCF9.
        self.reboot("", "reset control register")

    def test_reboot_efi_resets_through_the_reset_vector(self):
        self.reboot("reboot=efi", "reset control register")

    def test_reboot_k_resets_through_the_i8042(self):
        self.reboot("reboot=k", "i8042")

    def test_reboot_acpi_resets_through_the_fadt_reset_register(self):
        self.reboot("reboot=acpi", "ACPI reset register")

    def test_reboot_pci_resets_through_port_cf9(self):
        self.reboot("reboot=pci", "reset control register")

    def test_reboot_triple_is_a_reboot_not_a_crash(self):
        self.reboot("reboot=triple", "triple fault after the guest announced a restart")

    def test_poweroff_with_acpi_off_halts_and_ends_mini_vmm(self):
        # Without ACPI Linux cannot power off and halts every CPU with
        # interrupts disabled; the second vCPU is never started (this
        # kernel finds no LAPIC without ACPI).
        run = vt.run_vmm(vt.boot_args(cpus=2, command="true", extra="acpi=off",
                                      more=["--log-level", "info"]))

        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_exit_status(run), 0, run)
        self.assertIn("guest powered off (every vCPU halted with interrupts disabled)",
                      run.stderr, run)

    def test_panic_with_panic_1_and_no_reboot_option_reboots(self):
        run = vt.run_vmm(reboot_args("panic=1", command="echo c > /proc/sysrq-trigger"))

        self.assertEqual(run.returncode, 0, run)
        self.assertIn("Kernel panic", run.stdout, run)
        self.assertIn("guest rebooted", run.stderr, run)


if __name__ == "__main__":
    unittest.main()
