"""Bad user input gets one clear sentence and a non-zero exit, before any
VM exists; a guest that crashes ends mini-vmm non-zero with a register
dump and the disassembled code at RIP."""

import os
import shutil
import tempfile
import unittest

import vmmtest as vt


def setUpModule():
    vt.require(vt.KERNEL, vt.INITRD)


class BadInputTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mini-vmm-errors-")
        # Inputs the tests make (FIFOs): not in self.tmp, which must stay empty.
        self.inputs = tempfile.mkdtemp(prefix="mini-vmm-inputs-")

    def tearDown(self):
        shutil.rmtree(self.tmp)
        shutil.rmtree(self.inputs)

    def fifo(self, name):
        path = os.path.join(self.inputs, name)
        os.mkfifo(path)
        return path

    def assert_usage_error(self, run, *fragments):
        self.assert_one_line_error(run, *fragments)
        self.assertEqual(run.returncode, 2, run)

    def assert_one_line_error(self, run, *fragments):
        self.assertNotEqual(run.returncode, 0, run)
        lines = [l for l in run.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, run)
        self.assertTrue(lines[0].startswith("mini-vmm: "), run)
        for fragment in fragments:
            self.assertIn(fragment, lines[0], run)
        self.assertEqual(run.stdout, "", run)
        self.assertEqual(os.listdir(self.tmp), [], "nothing left behind")

    def run_in_tmp(self, args):
        cwd = os.getcwd()
        os.chdir(self.tmp)
        try:
            return vt.run_vmm(args, timeout=120)
        finally:
            os.chdir(cwd)

    def test_missing_kernel_file(self):
        run = self.run_in_tmp(["run", "--kernel", "no-such-bzImage"])
        self.assert_one_line_error(run, 'kernel image "no-such-bzImage"', "No such file")

    def test_kernel_path_is_a_directory(self):
        os.mkdir(os.path.join(self.tmp, "dir"))
        try:
            run = self.run_in_tmp(["run", "--kernel", "dir"])
        finally:
            os.rmdir(os.path.join(self.tmp, "dir"))
        self.assert_one_line_error(run, "is a directory")

    def test_unreadable_kernel(self):
        if os.geteuid() == 0:
            # root reads anything; an unreadable path is a dangling one here.
            path = "/proc/self/fd/999"
        else:
            path = os.path.join(self.tmp, "secret")
            open(path, "wb").close()
            os.chmod(path, 0)
        run = vt.run_vmm(["run", "--kernel", path], timeout=120)
        if os.path.exists(os.path.join(self.tmp, "secret")):
            os.remove(os.path.join(self.tmp, "secret"))
        self.assert_one_line_error(run, "cannot open kernel image")

    def test_file_that_is_not_a_kernel(self):
        run = self.run_in_tmp(["run", "--kernel", "/etc/os-release"])
        self.assert_one_line_error(run, 'kernel image "/etc/os-release"', "Linux kernel")

    def test_truncated_bzimage(self):
        path = os.path.join(self.tmp, "truncated")
        with open(vt.KERNEL, "rb") as src, open(path, "wb") as dst:
            dst.write(src.read(1 << 20))
        try:
            run = vt.run_vmm(["run", "--kernel", path], timeout=120)
        finally:
            os.remove(path)
        self.assert_one_line_error(run, "truncated")

    def test_memory_too_small_for_kernel_and_initrd(self):
        run = self.run_in_tmp(["run", "--kernel", vt.KERNEL, "--initrd", vt.INITRD,
                               "--memory", "24M"])
        self.assert_one_line_error(run, "too small")

    def test_memory_larger_than_the_host(self):
        run = self.run_in_tmp(["run", "--kernel", vt.KERNEL, "--memory", "64T"])
        self.assert_one_line_error(run, "--memory", "more than this host")

    def test_zero_cpus(self):
        run = self.run_in_tmp(["run", "--kernel", vt.KERNEL, "--cpus", "0"])
        self.assert_one_line_error(run, "--cpus", "between 1 and 254")

    def test_unknown_option(self):
        run = self.run_in_tmp(["run", "--kernel", vt.KERNEL, "--frobnicate"])
        self.assert_one_line_error(run, "--frobnicate")

    def test_missing_initrd(self):
        run = self.run_in_tmp(["run", "--kernel", vt.KERNEL, "--initrd", "nope.cpio"])
        self.assert_one_line_error(run, 'initrd "nope.cpio"', "No such file")

    # A FIFO would make mini-vmm wait for a writer forever (run_vmm's timeout
    # turns that into an error here).
    def test_kernel_is_a_fifo(self):
        kernel = self.fifo("kernel")
        run = self.run_in_tmp(["run", "--kernel", kernel])
        self.assert_usage_error(run, 'kernel image "%s" is a FIFO, not a regular file' % kernel)

    def test_initrd_is_a_fifo(self):
        initrd = self.fifo("initrd")
        run = self.run_in_tmp(["run", "--kernel", vt.KERNEL, "--initrd", initrd])
        self.assert_usage_error(run, 'initrd "%s" is a FIFO, not a regular file' % initrd)

    def test_read_only_disk_is_a_fifo(self):
        disk = self.fifo("disk")
        run = self.run_in_tmp(["run", "--kernel", vt.KERNEL, "--disk",
                               "path=%s,readonly=on" % disk])
        self.assert_usage_error(
            run, 'disk image "%s" is a FIFO, not a regular file or block device' % disk)

    def test_more_disks_than_virtio_mmio_slots(self):
        disks = []
        for _ in range(15):
            disks += ["--disk", "path=%s,readonly=on" % vt.INITRD]
        run = self.run_in_tmp(["run", "--kernel", vt.KERNEL] + disks)
        self.assert_usage_error(run, "15 virtio devices are given on virtio-mmio; the machine "
                                     "has 14 virtio-mmio slots (transport=pci takes up to 31 "
                                     "more)")

    def test_transport_that_does_not_exist(self):
        run = self.run_in_tmp(["run", "--kernel", vt.KERNEL, "--disk",
                               "path=%s,readonly=on,transport=isa" % vt.INITRD])
        self.assert_usage_error(run, "--disk: transport \"isa\" does not exist (known: mmio, pci)")

    def test_open_file_limit_too_low_for_the_devices(self):
        # 1 vCPU and 2 disks need up to 16 + 1 + 2 * 8 = 33 open files.
        limit = ["/bin/sh", "-c", 'ulimit -n 32 && exec "$0" "$@"']
        cwd = os.getcwd()
        os.chdir(self.tmp)
        try:
            run = vt.run_vmm(["run", "--kernel", vt.KERNEL,
                              "--disk", "path=%s,readonly=on" % vt.INITRD,
                              "--disk", "path=%s,readonly=on" % vt.KERNEL],
                             timeout=120, prefix=limit)
        finally:
            os.chdir(cwd)
        self.assert_usage_error(run, "(--cpus 1, 2 virtio devices) needs up to 33 open files",
                                "limit of 32", "RLIMIT_NOFILE")

    def test_command_line_longer_than_the_kernel_accepts(self):
        run = self.run_in_tmp(["run", "--kernel", vt.KERNEL, "--cmdline", "a" * 70000])
        self.assert_usage_error(run, "the kernel command line is 70000 bytes")

    def test_elf_kernel_loading_over_the_boot_structures(self):
        # A vmlinux whose only segment sits on the zero page (0x7000).
        path = vt.tiny_elf_kernel(bytes([0xf4]), load_address=0x7000)
        try:
            run = self.run_in_tmp(["run", "--kernel", path, "--memory", "64M"])
        finally:
            os.remove(path)
        self.assert_usage_error(run, 'kernel image "%s": the ELF segment at 0x7000-0x7000 '
                                     "overlaps the GDT, IDT, zero page" % path)


class GuestCrashTest(unittest.TestCase):

    def run_tiny_kernel(self, code):
        path = vt.tiny_elf_kernel(code)
        try:
            return vt.run_vmm(["run", "--kernel", path, "--memory", "64M"], timeout=120)
        finally:
            os.remove(path)

    def test_triple_fault_exits_1_with_a_register_dump(self):
        # ud2 with no IDT: #UD -> #GP -> #DF -> triple fault. (On AMD hosts
        # KVM resets the vCPU at the shutdown, so the dump may show the
        # reset state; the disassembly is checked in the next test.)
        run = self.run_tiny_kernel(bytes([0x90, 0x0f, 0x0b]))

        self.assertEqual(run.returncode, 1, run)
        self.assertIn("guest crashed", run.stderr, run)
        self.assertIn("triple fault", run.stderr, run)
        self.assertIn("RIP=", run.stderr, run)

    def test_unemulatable_mmio_access_exits_1_with_disassembly_at_rip(self):
        # mov eax, 0xd0000000; fld tbyte [rax]: KVM must emulate an MMIO
        # access and its emulator has no x87 loads, so KVM_RUN returns an
        # internal error with RIP on the fld.
        run = self.run_tiny_kernel(bytes([0xb8, 0x00, 0x00, 0x00, 0xd0, 0xdb, 0x28, 0xf4]))

        self.assertEqual(run.returncode, 1, run)
        self.assertIn("KVM internal error", run.stderr, run)
        self.assertIn("RIP=0000000001000005", run.stderr, run)
        self.assertRegex(run.stderr, r"1000005: db28\s+fld", run)


if __name__ == "__main__":
    unittest.main()
