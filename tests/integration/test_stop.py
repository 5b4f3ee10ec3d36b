"""Stopping a VM whose devices are busy: SIGTERM, SIGINT and Ctrl-A x while
both disks have requests in flight, repeatedly, with the ASan+UBSan build;
and SIGTERM while a disk on virtio-pci and a vhost-net NIC on virtio-pci
(its interrupts on MSI-X irqfds, not through mini-vmm) both carry traffic.
Every run must end within 30 s with the documented status (0: the user
quit) and without a sanitizer report. Before device attachments, the
machine freed a disk's interrupt line while its I/O thread could still
complete a request (heap-use-after-free)."""

import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import vmmtest as vt

ASAN_VMM = os.environ.get("MINI_VMM_ASAN_BIN", os.path.join(vt.REPO, "build/asan/vmm/mini-vmm"))
STOP_TIMEOUT = 30
ROUNDS = 2
# Both disks busy: direct reads of one, synced direct writes to the other.
IO_LOAD = ("(while :; do dd if=/dev/vda of=/dev/null bs=64k count=32 iflag=direct 2>/dev/null;"
           " done) & (while :; do dd if=/dev/zero of=/dev/vdb bs=64k count=32 oflag=direct"
           " conv=fsync 2>/dev/null; done) & sleep 2; echo IO-RUNNING; sleep 3600")
# A disk on PCI busy as above, and the NIC streaming to a sink on the tap.
TAP, HOST_IP, GUEST_IP, SINK_PORT = "mvmstop0", "10.0.3.1", "10.0.3.2", 9100
NET_LOAD = (f"ip link set eth0 up && ip addr add {GUEST_IP}/24 dev eth0;"
            " (while :; do dd if=/dev/vda of=/dev/null bs=64k count=32 iflag=direct 2>/dev/null;"
            f" done) & (while :; do cat /dev/zero | nc {HOST_IP} {SINK_PORT}; done) &"
            " sleep 3; echo IO-RUNNING; sleep 3600")
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")


def setUpModule():
    vt.require(vt.KERNEL, vt.INITRD)
    if not os.path.exists(ASAN_VMM):
        if os.environ.get("CI"):
            raise AssertionError("missing %s (scripts/test builds the asan preset first)" % ASAN_VMM)
        raise unittest.SkipTest("no ASan build at %s (cmake --preset asan)" % ASAN_VMM)


class StopUnderLoadTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mini-vmm-stop-")
        self.disks = []
        for name in ("a.img", "b.img"):
            path = os.path.join(self.tmp, name)
            with open(path, "wb") as f:
                f.truncate(16 << 20)
            self.disks.append(path)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def start(self, args=None):
        """mini-vmm (ASan) on a pty, both disks busy (or `args`); returns
        (proc, master)."""
        if args is None:
            args = vt.boot_args(command=IO_LOAD, memory="256M",
                                more=["--disk", "path=" + self.disks[0],
                                      "--disk", "path=" + self.disks[1]])
        master, slave = pty.openpty()
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:halt_on_error=1",
                   UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
        proc = subprocess.Popen([ASAN_VMM] + args, stdin=slave, stdout=slave,
                                stderr=subprocess.PIPE, close_fds=True, env=env)
        os.close(slave)
        self.read_until(master, b"IO-RUNNING", proc)
        return proc, master

    def read_until(self, master, needle, proc):
        seen = b""
        deadline = time.monotonic() + vt.BOOT_TIMEOUT
        while needle not in seen:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise AssertionError("no %r from the guest (exit %s):\n%s\n%s" % (
                    needle, proc.poll(), seen.decode(errors="replace")[-2000:],
                    proc.stderr.read().decode(errors="replace")[-3000:]))
            try:
                seen += os.read(master, 4096)
            except OSError:
                seen += b""

    def stop_and_check(self, how, args=None):
        proc, master = self.start(args)
        try:
            if how == "ctrl-a-x":
                os.write(master, b"\x01x")
            else:
                proc.send_signal(how)
            start = time.monotonic()
            drain_until_exit(master, proc, STOP_TIMEOUT)
            took = time.monotonic() - start
            stderr = proc.stderr.read().decode(errors="replace")
            self.assertIsNotNone(proc.poll(), "still running %d s after %s" % (STOP_TIMEOUT, how))
            self.assertEqual(proc.returncode, 0, "%s: exit %s after %.1f s\n%s"
                             % (how, proc.returncode, took, stderr[-4000:]))
            for report in SANITIZER_REPORTS:
                self.assertNotIn(report, stderr, "%s:\n%s" % (how, stderr[-6000:]))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)
            proc.stderr.close()

    def test_sigterm_with_both_disks_busy(self):
        for _ in range(ROUNDS):
            self.stop_and_check(signal.SIGTERM)

    def test_sigint_with_both_disks_busy(self):
        for _ in range(ROUNDS):
            self.stop_and_check(signal.SIGINT)

    def test_ctrl_a_x_with_both_disks_busy(self):
        for _ in range(ROUNDS):
            self.stop_and_check("ctrl-a-x")

    def test_sigterm_with_pci_disk_and_vhost_nic_busy(self):
        if not os.path.exists("/dev/vhost-net") or not os.path.exists("/dev/net/tun"):
            if os.environ.get("MINI_VMM_IN_L1"):
                raise AssertionError("L1 loads tun and vhost_net, but a device is missing")
            self.skipTest("no /dev/vhost-net or /dev/net/tun here")
        subprocess.run(["ip", "tuntap", "add", "dev", TAP, "mode", "tap"], check=True)
        try:
            subprocess.run(["ip", "addr", "add", HOST_IP + "/24", "dev", TAP], check=True)
            subprocess.run(["ip", "link", "set", TAP, "up"], check=True)
            sink = Sink(SINK_PORT)
            args = vt.boot_args(command=NET_LOAD, memory="256M",
                                more=["--disk", "path=%s,transport=pci" % self.disks[0],
                                      "--net", "tap=%s,vhost=on,transport=pci" % TAP])
            for _ in range(ROUNDS):
                self.stop_and_check(signal.SIGTERM, args)
            self.assertGreater(sink.received, 0, "the guest sent nothing over vhost-net")
        finally:
            subprocess.run(["ip", "link", "del", TAP], capture_output=True)


class Sink(threading.Thread):
    """Accepts connections on HOST_IP:port and discards what arrives,
    counting the bytes, until the test process exits."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.received = 0
        self.listener = socket.create_server((HOST_IP, port), reuse_port=True)
        self.start()

    def run(self):
        while True:
            conn, _ = self.listener.accept()
            with conn:
                while data := conn.recv(1 << 16):
                    self.received += len(data)


def drain_until_exit(master, proc, timeout):
    """Keeps reading the console (so output never blocks the VMM) until the
    process exits or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                os.read(master, 65536)
        except OSError:
            time.sleep(0.05)
    if proc.poll() is None:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass


if __name__ == "__main__":
    unittest.main()
