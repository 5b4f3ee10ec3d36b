"""--trace-exits (issue 12): one line per vCPU exit the filter lets
through, the port or MMIO access decoded and the instruction at RIP
disassembled by capstone; rate-limited with a count of what was
suppressed; to stderr or to --trace-exits-file."""

import os
import re
import tempfile
import time
import unittest

import vmmtest as vt

# The 16550 at COM1, the way a kernel developer narrows the trace.
SERIAL = "pio=0x3f8-0x3ff"
LINE = re.compile(r"^\[\s*\d+\.\d{6}\] (vcpu\d+ .*)$")


def traced(text):
    """The trace lines in `text`, without their time stamps."""
    out = []
    for line in text.replace("\r", "").split("\n"):
        m = LINE.match(line)
        if m:
            out.append(m.group(1))
    return out


class TinyGuestTraceTest(unittest.TestCase):
    """A guest of a few instructions: every exit it makes is known."""

    # mov dx, 0x3f8; mov al, 'A'; out dx, al; mov eax, 0xd0000000;
    # mov ebx, [rax]; cli; hlt (parked for good: mini-vmm powers off).
    CODE = bytes([0x66, 0xba, 0xf8, 0x03, 0xb0, 0x41, 0xee, 0xb8, 0x00, 0x00, 0x00, 0xd0,
                  0x8b, 0x18, 0xfa, 0xf4])

    def run_traced(self, *options):
        path = vt.tiny_elf_kernel(self.CODE)
        try:
            return vt.run_vmm(["run", "--kernel", path, "--memory", "64M"] + list(options),
                              timeout=120)
        finally:
            os.remove(path)

    def test_port_and_mmio_exits_show_access_and_disassembled_instruction(self):
        run = self.run_traced("--trace-exits=%s,mmio=0xd0000000+0x1000" % SERIAL)

        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(traced(run.stderr), [
            "vcpu0 pio out port=0x3f8 size=1 data=0x41 | 1000006: ee  out dx, al",
            # Nothing claims the address: the read floats to all-ones.
            "vcpu0 mmio read addr=0xd0000000 size=4 data=0xffffffff"
            " | 100000c: 8b18  mov ebx, dword ptr [rax]",
        ], run)

    def test_filter_leaves_out_what_it_does_not_name(self):
        run = self.run_traced("--trace-exits=mmio")

        self.assertEqual(run.returncode, 0, run)
        lines = traced(run.stderr)
        self.assertEqual(len(lines), 1, run)
        self.assertTrue(lines[0].startswith("vcpu0 mmio read addr=0xd0000000 "), run)

    def test_without_the_option_nothing_is_traced(self):
        run = self.run_traced()

        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(traced(run.stderr), [], run)

    def test_a_malformed_filter_is_a_usage_error(self):
        run = self.run_traced("--trace-exits=pio=0x3ff-0x3f8")

        self.assertEqual(run.returncode, 2, run)
        self.assertIn('--trace-exits range "pio=0x3ff-0x3f8" ends before it starts', run.stderr)


class LinuxTraceTest(unittest.TestCase):

    def test_serial_trace_of_a_linux_boot_is_rate_limited_into_a_file(self):
        rate = 20
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "exits.log")
            start = time.monotonic()
            run = vt.run_vmm(vt.boot_args(command="echo traced-boot-done", more=[
                "--trace-exits=" + SERIAL, "--trace-exits-rate", str(rate),
                "--trace-exits-file", path]))
            elapsed = time.monotonic() - start
            with open(path) as f:
                text = f.read()

        self.assertEqual(run.returncode, 0, run)
        self.assertIn("traced-boot-done", vt.guest_output(run), run)
        self.assertEqual(traced(run.stderr), [], "the trace went to stderr, not the file")
        lines = traced(text)
        self.assertGreater(len(lines), 0, text[-2000:])
        for line in lines:
            # The kernel's 8250 driver: outb/inb on COM1's registers.
            self.assertRegex(line, r"^vcpu\d+ pio (out|in) port=0x3f[89a-f] size=1 data=0x[0-9a-f]{2}"
                                   r" \| [0-9a-f]+: [0-9a-f]+  (out dx, al|in al, dx)$")
        # A burst of `rate`, then `rate` a second.
        self.assertLessEqual(len(lines), rate * (elapsed + 2), text[-2000:])
        # A boot prints far more than that: the rest was counted.
        self.assertRegex(text, r"exit trace: \d+ lines suppressed \(over the rate limit\)")


if __name__ == "__main__":
    unittest.main()
