"""The serial console as a user at a terminal sees it: raw mode, an
interactive guest shell, Ctrl-A x, terminal settings restored."""

import os
import pty
import subprocess
import termios
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


if __name__ == "__main__":
    unittest.main()
