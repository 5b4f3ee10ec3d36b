"""The serial console as a user at a terminal sees it: raw mode, an
interactive guest shell, Ctrl-A x, terminal settings restored; and SIGTERM
stopping mini-vmm while nobody reads its output."""

import fcntl
import os
import pty
import select
import signal
import subprocess
import termios
import time
import unittest

import vmmtest as vt


def setUpModule():
    vt.require(vt.KERNEL, vt.INITRD)


class ConsoleTest(unittest.TestCase):

    def test_command_typed_at_the_guest_shell_prints_its_output(self):
        console = vt.Console(vt.boot_args())
        try:
            console.expect(vt.PROMPT)
            console.send("echo result=$((6 * 7))\r")

            console.expect("result=42")
            console.expect(vt.PROMPT)
            console.send("poweroff -f\r")
            code = console.wait()
        finally:
            console.close()

        self.assertEqual(code, 0)

    def test_ctrl_c_interrupts_the_guest_command_not_the_vmm(self):
        console = vt.Console(vt.boot_args())
        try:
            console.expect(vt.PROMPT)
            # The marker is computed so the echo of the typed line cannot
            # match it. Ctrl-C must arrive once sleep owns the terminal (the
            # shell reads its line with signals off), so it is repeated until
            # the shell is back at its prompt. An interactive shell abandons
            # the rest of a command line interrupted by SIGINT, so the status
            # is asked for on a new line.
            console.send("echo $((1000 + 234)); sleep 1000\r")
            console.expect("1234")
            interrupted = False
            for _ in range(20):
                console.send(b"\x03")  # Ctrl-C goes to the guest in raw mode.
                try:
                    console.expect(vt.PROMPT, timeout=5)
                    interrupted = True
                    break
                except AssertionError:
                    continue
            self.assertTrue(interrupted, "Ctrl-C did not reach the guest's sleep")
            console.send("echo status=$?\r")
            console.expect("status=130")
            console.expect(vt.PROMPT)
            console.send("poweroff -f\r")
            code = console.wait()
        finally:
            console.close()

        self.assertEqual(code, 0)

    def test_ctrl_a_x_quits_and_restores_the_terminal(self):
        master, slave = pty.openpty()
        before = termios.tcgetattr(slave)
        proc = subprocess.Popen([vt.VMM] + vt.boot_args(), stdin=slave, stdout=slave,
                                stderr=subprocess.PIPE)
        try:
            output = b""
            while vt.PROMPT.encode() not in output:
                chunk = os.read(master, 4096)
                self.assertTrue(chunk, "mini-vmm closed the terminal early")
                output += chunk
            during = termios.tcgetattr(slave)

            os.write(master, b"\x01x")  # Ctrl-A x
            code = proc.wait(timeout=vt.BOOT_TIMEOUT)
            after = termios.tcgetattr(slave)
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(master)
            os.close(slave)

        self.assertEqual(code, 0)
        lflag = 3
        self.assertFalse(during[lflag] & termios.ICANON, "raw mode while running")
        self.assertFalse(during[lflag] & termios.ECHO, "no local echo while running")
        self.assertEqual(after, before, "terminal settings restored on exit")

    def test_input_from_a_pipe_reaches_the_guest(self):
        # Not a terminal: mini-vmm polls the pipe and feeds the UART. Input
        # is typed once the command runs, as a user (or expect) would.
        console = vt.Console(vt.boot_args(command="echo waiting; read line; echo got=$line"),
                             use_pipes=True)
        try:
            console.expect("waiting")
            console.send("hello from the host\n")

            console.expect("got=hello from the host")
            code = console.wait()
        finally:
            console.close()

        self.assertEqual(code, 0)


# A guest that writes to its console as fast as it can, numbering its lines;
# it also echoes each line it reads, so the test can tell fresh output from
# what was queued.
FLOOD = ("i=0; while :; do i=$((i + 1)); echo \"flood $i ........................................\"; "
         "done & while read line; do echo \"got=$line\"; done")
# How long mini-vmm may take to exit after SIGTERM, whatever its stdout
# reader does: its console drain timeout (2 s) plus generous room for a
# loaded nested machine. A VMM that waits for the reader never exits.
STOP_BOUND = 60
STALL_SECONDS = 30


def read_for(fd, seconds):
    """Reads from `fd` for `seconds`; returns the bytes."""
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0, deadline - time.monotonic()))
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


class StalledReaderTest(unittest.TestCase):

    def test_sigterm_works_while_a_pipe_reader_stalls_and_the_resumed_reader_gets_output(self):
        console = vt.Console(vt.boot_args(command=FLOOD), use_pipes=True)
        try:
            # The smallest pipe, so a stall fills it within a fraction of a
            # second of flooding.
            fcntl.fcntl(console.master, fcntl.F_SETPIPE_SZ, 4096)
            console.expect("flood 10 ")

            time.sleep(STALL_SECONDS)  # The reader stalls; the guest floods.
            self.assertIsNone(console.proc.poll(), "mini-vmm died while its reader stalled")
            # Read again before asking the guest anything, so its answer finds
            # the buffer drained rather than full (where it would be dropped).
            resumed = read_for(console.master, 2)
            self.assertIn(b"flood ", resumed, "the resumed reader gets output")
            console.send("after-the-stall\n")
            console.expect("got=after-the-stall", timeout=120)

            time.sleep(5)  # Stalled again, then asked to stop.
            console.proc.send_signal(signal.SIGTERM)
            code = console.proc.wait(timeout=STOP_BOUND)
        finally:
            console.close()

        self.assertEqual(code, 0)

    def test_sigterm_while_the_terminal_is_not_read_restores_it(self):
        master, slave = pty.openpty()
        before = termios.tcgetattr(slave)
        proc = subprocess.Popen([vt.VMM] + vt.boot_args(command=FLOOD), stdin=slave,
                                stdout=slave, stderr=subprocess.PIPE)
        try:
            output = b""
            while b"flood 10 " not in output:
                chunk = read_for(master, 5)
                self.assertTrue(chunk or proc.poll() is None, "mini-vmm exited early")
                output += chunk
            time.sleep(10)  # Nobody reads the terminal; the guest floods.

            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=STOP_BOUND)
            after = termios.tcgetattr(slave)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)
            os.close(slave)
            proc.stderr.close()

        self.assertEqual(code, 0)
        self.assertEqual(after, before, "terminal settings restored after SIGTERM")


if __name__ == "__main__":
    unittest.main()
