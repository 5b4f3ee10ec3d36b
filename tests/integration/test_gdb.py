"""The GDB stub with Debian's gdb in batch mode (issue 12): --gdb-wait holds
the guest at its first instruction, gdb reads registers and threads, steps,
Ctrl-C (0x03) stops a running guest,
stops at a software and a hardware breakpoint and at a hardware watchpoint,
and detaches, after which the
guest boots to its init and powers off. A client that sends garbage and
hangs up mid-packet releases a held guest, which boots. A port in use is
exit 2. In scripts/nested's TCG L1 the software breakpoint test is
skipped (INT3_SKIP), and so are the hardware breakpoint and watchpoint
tests when L1 runs on a QEMU older than 9.1 (L0_SKIP);
MINI_VMM_GDB_BREAKPOINTS_IN_L1=1 runs all three there anyway.

No kernel symbols are needed: the breakpoints are set on the kernel's entry
code, found from the PC at which --gdb-wait holds the boot vCPU."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import vmmtest as vt

GDB = shutil.which("gdb")
IN_L1 = os.environ.get("MINI_VMM_IN_L1") == "1"
FORCE_IN_L1 = bool(os.environ.get("MINI_VMM_GDB_BREAKPOINTS_IN_L1"))
# Seen in scripts/nested's L1 (QEMU TCG, AMD SVM): single steps reach
# mini-vmm as KVM_EXIT_DEBUG everywhere, but
# - a planted int3 reaches the guest (which triple-faults): TCG's
#   raise_interrupt2() checks an INT3 (an INTn to TCG) against the SWINT
#   intercept only, never the #BP exception intercept that KVM sets for
#   KVM_GUESTDBG_USE_SW_BP. Still so in QEMU 10.0; nothing mini-vmm can fix.
# - a DR7 breakpoint or watchpoint never fires with QEMU before 9.1: its
#   helper_vmrun stores the VMCB's DR7 without cpu_x86_update_dr7(), so no
#   breakpoint is armed (fixed upstream in June 2024, "target/i386:
#   disable/enable breakpoints on vmentry/vmexit", in 9.1). Debian 12 ships
#   QEMU 7.2; run-group runs this group's L1 on bookworm-backports' 10.0,
#   where both tests pass.
INT3_SKIP = ("int3 goes to the guest, not to KVM, under QEMU TCG's nested SVM "
             "(raise_interrupt2() ignores the #BP intercept; still so in QEMU 10.0)")


def l0_qemu_version():
    """(major, minor) of the QEMU that runs L1, from L1's DMI product
    version (the machine type, e.g. "pc-q35-10.0"), or a string saying why
    it cannot be told."""
    path = "/sys/class/dmi/id/product_version"
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError as e:
        return "cannot read %s: %s" % (path, e.strerror)
    match = re.fullmatch(r"pc-(?:q35|i440fx)-(\d+)\.(\d+)", text)
    if match is None:
        return "%s is %r, not a QEMU machine type like pc-q35-10.0" % (path, text)
    return int(match.group(1)), int(match.group(2))


def l0_skip():
    """Why the DR7 tests cannot run here, or None."""
    if not IN_L1 or FORCE_IN_L1:
        return None
    version = l0_qemu_version()
    if isinstance(version, str):
        return "cannot tell which QEMU runs L1 (%s)" % version
    if version < (9, 1):
        return ("L1 runs on QEMU %d.%d, whose nested SVM arms no DR7 breakpoint "
                "(fixed in 9.1)" % version)
    return None


L0_SKIP = l0_skip()
GDB_TIMEOUT = 240


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """Whether something listens on 127.0.0.1:`port`, without connecting
    (a connection is a gdb client: it would stop the guest, and its
    hang-up release a --gdb-wait guest)."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == "0100007F:%04X" % port and fields[3] == "0A":
                return True
    return False


def packet(payload):
    return b"$%s#%02x" % (payload, sum(payload) & 0xff)


def read_until(sock, marker):
    """What the stub sent, up to a little past `marker` (the packet's tail)."""
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError("the stub closed the connection; got %r" % data)
        data += chunk
    return data


def setUpModule():
    vt.require(vt.KERNEL, vt.INITRD)
    if GDB is None:
        raise AssertionError("gdb is not installed (scripts/install-deps installs it)")
    if os.environ.get("MINI_VMM_IN_L1") == "1":
        # scripts/nested's L1 has no network, not even loopback, up.
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


class GdbTest(unittest.TestCase):

    def value(self, name, out):
        """The number gdb printed as `name=0x...`; fails showing gdb's output."""
        match = re.search(r"%s=(0x[0-9a-f]+)" % name, out)
        if match is None:
            self.fail("no %s in gdb's output:\n%s\nmini-vmm: %r" % (name, out, self.finish(30)))
        return int(match.group(1), 16)

    def start(self, cpus=1, wait=True):
        self.port = free_port()
        more = ["--gdb", "127.0.0.1:%d" % self.port, "--log-level", "debug"]
        if wait:
            more.append("--gdb-wait")
        args = vt.boot_args(cpus=cpus, command="true", more=more)
        self.vmm = subprocess.Popen([vt.VMM] + args, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not listening(self.port):
            if time.monotonic() > deadline or self.vmm.poll() is not None:
                self.fail("the stub never listened: %r" % (self.finish(),))
            time.sleep(0.2)

    def finish(self, timeout=vt.BOOT_TIMEOUT):
        try:
            out, err = self.vmm.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.vmm.kill()
            out, err = self.vmm.communicate()
        return vt.Run(self.vmm.returncode, out.decode(errors="replace"),
                      err.decode(errors="replace"))

    def gdb(self, *commands):
        script = tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False)
        script.write("set pagination off\nset confirm off\n")
        script.write("target remote 127.0.0.1:%d\n" % self.port)
        script.write("\n".join(commands) + "\n")
        script.close()
        try:
            proc = subprocess.run([GDB, "-nx", "-batch", "-x", script.name],
                                  capture_output=True, timeout=GDB_TIMEOUT)
        finally:
            os.unlink(script.name)
        return proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")

    def tearDown(self):
        if self.vmm.poll() is None:
            self.vmm.kill()
            self.vmm.communicate()

    def assert_booted(self):
        run = self.finish()
        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_exit_status(run), 0, run)

    def test_registers_threads_step_and_detach(self):
        self.start(cpus=2)
        out = self.gdb(
            "info threads",
            "printf \"entry=%#lx\\n\", $pc",
            "info registers rip cs cr0 cr3 cr4 efer fs_base gs_base k_gs_base",
            "x/3i $pc",
            "stepi",
            "printf \"stepped=%#lx\\n\", $pc",
            "thread 2",
            "thread 1",
            "detach")
        self.assertIn("Thread 1", out, out)
        self.assertIn("Thread 2", out, out)
        for register in ("rip", "cr0", "cr3", "cr4", "efer", "fs_base", "gs_base", "k_gs_base"):
            self.assertRegex(out, r"(?m)^%s\s+0x" % register, out)
        entry = self.value("entry", out)
        # One instruction further: the second line of x/3i, whatever the
        # first instruction's length (host decompression enters the
        # vmlinux's startup_64, the bzImage path its own head).
        listed = re.findall(r"(?m)^(?:=> )?\s*(0x[0-9a-f]+)(?: <[^>]*>)?:", out)
        self.assertGreaterEqual(len(listed), 2, out)
        self.assertEqual(int(listed[0], 16), entry, out)
        self.assertEqual(self.value("stepped", out), int(listed[1], 16), out)
        self.assertIn("Inferior 1 (Remote target) detached", out, out)
        self.assert_booted()

    def test_ctrl_c_stops_a_running_guest(self):
        # gdb's batch mode cannot wait for the stop after `interrupt`, so
        # this client speaks the protocol itself.
        self.start()
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.settimeout(60)
            s.sendall(packet(b"vCont;c"))
            time.sleep(2)
            s.sendall(b"\x03")
            self.assertIn(b"$T02thread:01;", read_until(s, b"$T02"))
            s.sendall(b"+" + packet(b"g"))
            self.assertIn(b"#", read_until(s, b"#"))
            s.sendall(b"+" + packet(b"D"))
            self.assertIn(b"$OK", read_until(s, b"$OK"))
        self.assert_booted()

    def second_instruction(self, out):
        """The address of the second instruction that `x/2i $pc` listed."""
        listed = re.findall(r"(?m)^(?:=> )?\s*(0x[0-9a-f]+)(?: <[^>]*>)?:", out)
        self.assertGreaterEqual(len(listed), 2, out)
        return int(listed[1], 16)

    # The breakpoints go on the entry code's second instruction, which is
    # reached straight on; after `x/2i`, gdb's $_ holds its address. (Not
    # at a fixed offset: host decompression enters the vmlinux's
    # startup_64, whose first instruction is a 7-byte lea, so an int3 at
    # entry + 2 broke that lea (#UD, then a triple fault) and a DR7
    # breakpoint there never matched an instruction start.)
    @unittest.skipIf(IN_L1 and not FORCE_IN_L1, INT3_SKIP)
    def test_software_breakpoint(self):
        self.start()
        out = self.gdb(
            "x/2i $pc",
            "break *$_",
            "continue",
            "printf \"swbreak=%#lx\\n\", $pc",
            "x/1xb $pc",
            "delete",
            "detach")
        self.assertEqual(self.value("swbreak", out), self.second_instruction(out), out)
        self.assert_booted()

    @unittest.skipIf(L0_SKIP, L0_SKIP)
    def test_hardware_breakpoint(self):
        self.start()
        out = self.gdb(
            "x/2i $pc",
            "hbreak *$_",
            "continue",
            "printf \"hwbreak=%#lx\\n\", $pc",
            "delete",
            "detach")
        self.assertEqual(self.value("hwbreak", out), self.second_instruction(out), out)
        self.assert_booted()

    @unittest.skipIf(L0_SKIP, L0_SKIP)
    def test_hardware_watchpoint(self):
        # The entry code soon points RSP at the kernel's own stack and
        # pushes (or calls) onto it: step until RSP moves, then watch the
        # slot below it, which the next push writes with a nonzero value.
        self.start()
        out = self.gdb(
            "set $sp0 = $rsp",
            "set $n = 0",
            "while $rsp == $sp0 && $n < 64",
            "  stepi",
            "  set $n = $n + 1",
            "end",
            "set $slot = $rsp - 8",
            "printf \"slot=%#lx\\n\", $slot",
            "watch *(long *)$slot",
            "continue",
            "printf \"written=%#lx\\n\", *(long *)$slot",
            "delete",
            "detach")
        self.value("slot", out)
        self.assertRegex(out, r"Hardware watchpoint \d+: \*\(long \*\)\$slot", out)
        self.assertIn("New value", out, out)
        self.assertNotEqual(self.value("written", out), 0, out)
        self.assert_booted()

    def test_garbage_and_hangup_leave_the_guest_booting(self):
        self.start()  # Held by --gdb-wait: the hang-up must release it.
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(b"\x00\xff$garbage#zz+-$" + b"A" * 70000 + b"#00\x03$m ffff")
        self.assert_booted()

    def test_port_in_use_is_exit_2(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            run = vt.run_vmm(vt.boot_args(more=["--gdb", "127.0.0.1:%d" % port]), timeout=60)
        self.assertEqual(run.returncode, 2, run)
        self.assertIn("cannot listen for gdb on 127.0.0.1:%d" % port, run.stderr, run)
        self.vmm = subprocess.Popen(["true"])


if __name__ == "__main__":
    unittest.main()
