"""virtio-net over virtio-mmio on a host tap, in the nested L1 (nothing
leaves it): ping both ways, 64 MiB each way with matching sha256 (the
guest sends back what it received, served by its busybox httpd), two queue
pairs, a driver unbind/bind, and bad --net input (missing tap, busy tap,
bad MAC, queues out of range, not multiqueue, a bad vhost= value) refused
with one sentence and exit status 2 before any VM exists. The same cases
again with vhost=on: the kernel's vhost-net moves the frames (L1 loads
vhost_net), and vhost=auto says which data path it took.

The host side is this process: TCP servers on the tap's address, an HTTP
client, and busybox ping (the host root has no iputils)."""

import fcntl
import hashlib
import os
import socket
import struct
import subprocess
import tempfile
import threading
import unittest
import urllib.request

import vmmtest as vt

MIB = 1 << 20
TAP = "mvmtap0"
HOST_IP = "10.0.2.1"
GUEST_IP = "10.0.2.2"
MAC = "52:54:00:12:34:56"
HTTP_PORT = 8080
FILE_BYTES = 64 * MIB
# Two 64 MiB transfers through an L2 guest under TCG: far slower than a boot.
RUN_TIMEOUT = 4 * vt.BOOT_TIMEOUT
SERVER_TIMEOUT = RUN_TIMEOUT

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000


def setUpModule():
    vt.require(vt.KERNEL, vt.INITRD)
    if not os.path.exists("/dev/net/tun"):
        raise AssertionError("no /dev/net/tun: the L1 kernel needs the tun module")


_payload = None


def payload():
    """FILE_BYTES of random data and its SHA-256, made once per module:
    generating and hashing 64 MiB in the emulated L1 takes seconds."""
    global _payload
    if _payload is None:
        data = os.urandom(FILE_BYTES)
        _payload = (data, hashlib.sha256(data).hexdigest())
    return _payload


def sh(*args):
    subprocess.run(args, check=True, capture_output=True)


def make_tap(multi_queue=False):
    sh("ip", "tuntap", "add", "dev", TAP, "mode", "tap", *(["multi_queue"] if multi_queue else []))
    sh("ip", "addr", "add", HOST_IP + "/24", "dev", TAP)
    sh("ip", "link", "set", TAP, "up")


def delete_tap():
    subprocess.run(["ip", "link", "del", TAP], capture_output=True)


class Server(threading.Thread):
    """One TCP connection on HOST_IP:port, handled by `handler(conn)`; its
    result (or exception) is kept for the test."""

    def __init__(self, port, handler):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST_IP, port))
        self.sock.listen(1)
        self.sock.settimeout(SERVER_TIMEOUT)
        self.handler = handler
        self.result = None
        self.error = None
        self.start()

    def run(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(SERVER_TIMEOUT)
                self.result = self.handler(conn)
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            self.sock.close()

    def outcome(self):
        self.join(10)
        if self.error is not None:
            raise self.error
        return self.result


def host_pings_guest(conn):
    """The guest says it is up; answer with the host's ping result."""
    conn.recv(64)
    ping = subprocess.run(["busybox", "ping", "-c", "3", "-A", "-W", "5", GUEST_IP],
                          capture_output=True, timeout=120)
    conn.sendall(b"host-ping=%d\n" % ping.returncode)
    return ping.returncode


def send_file(data):
    def handler(conn):
        conn.sendall(data)
        return len(data)
    return handler


def fetch_file_from_guest(conn):
    """The guest says it serves /tmp/h.bin over HTTP (busybox httpd, which
    sends it with sendfile(2)); fetch and hash exactly FILE_BYTES of it, then
    answer, so the guest stays up until the transfer is done. (busybox nc
    writes 1 KiB at a time, which under nested TCG crawls at ~0.25 MB/s:
    every write waits for the last segment's round trip through both
    levels of virtualization.)"""
    conn.recv(64)
    h = hashlib.sha256()
    left = FILE_BYTES
    with urllib.request.urlopen("http://%s:%d/h.bin" % (GUEST_IP, HTTP_PORT),
                                timeout=SERVER_TIMEOUT) as response:
        while left:
            chunk = response.read(min(left, MIB))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
    conn.sendall(b"fetched\n")
    return h.hexdigest() if left == 0 else "short by %d bytes" % left


GUEST_UP = f"""
ip link set eth0 up && ip addr add {GUEST_IP}/24 dev eth0 || echo eth0-setup-failed
ping -c 3 -A -W 5 {HOST_IP} >/dev/null; echo guest-ping=$?
echo up | nc {HOST_IP} 9000
"""


class NetTest(unittest.TestCase):
    # Appended to every --net value: the userspace data path here, vhost-net
    # in VhostNetTest.
    NET_EXTRA = ""

    def tearDown(self):
        delete_tap()

    def boot(self, command, net="tap=%s,mac=%s" % (TAP, MAC), cpus=1, more=(), extra=""):
        run = vt.run_vmm(vt.boot_args(command=command, cpus=cpus, memory="768M", extra=extra,
                                      more=["--net", net + self.NET_EXTRA] + list(more)),
                         timeout=RUN_TIMEOUT)
        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(vt.guest_exit_status(run), 0, run)
        return vt.guest_output(run)

    def test_ping_both_ways_and_64_mib_each_way(self):
        make_tap()
        data, digest = payload()
        pinger = Server(9000, host_pings_guest)
        sender = Server(9001, send_file(data))
        receiver = Server(9002, fetch_file_from_guest)

        out = self.boot(GUEST_UP + f"""
cat /sys/class/net/eth0/address
nc {HOST_IP} 9001 </dev/null >/tmp/h.bin
sha256sum /tmp/h.bin
httpd -p {GUEST_IP}:{HTTP_PORT} -h /tmp
echo ready | nc {HOST_IP} 9002
""")

        self.assertEqual(pinger.outcome(), 0, out)
        self.assertIn("guest-ping=0", out)
        self.assertIn("host-ping=0", out)
        self.assertIn(MAC, out)
        self.assertEqual(sender.outcome(), FILE_BYTES)
        self.assertIn("%s  /tmp/h.bin" % digest, out)  # host -> guest
        self.assertEqual(receiver.outcome(), digest)  # guest -> host

    def test_two_queue_pairs(self):
        make_tap(multi_queue=True)
        data, digest = payload()
        pinger = Server(9000, host_pings_guest)
        sender = Server(9001, send_file(data))

        out = self.boot(GUEST_UP + f"""
ls /sys/class/net/eth0/queues | tr '\\n' ' '; echo
nc {HOST_IP} 9001 </dev/null | sha256sum
""", net="tap=%s,queues=2" % TAP, cpus=2)

        self.assertEqual(pinger.outcome(), 0, out)
        self.assertIn("guest-ping=0", out)
        self.assertIn("rx-0 rx-1 tx-0 tx-1 ", out)
        self.assertIn("%s  -" % digest, out)
        self.assertEqual(sender.outcome(), FILE_BYTES)

    def test_two_queue_pairs_on_pci_each_with_its_msix_vector(self):
        make_tap(multi_queue=True)
        data, digest = payload()
        pinger = Server(9000, host_pings_guest)
        sender = Server(9001, send_file(data))

        out = self.boot(GUEST_UP + f"""
grep PCI-MSI /proc/interrupts | grep -c -E 'virtio[0-9]+-input'
nc {HOST_IP} 9001 </dev/null | sha256sum
""", net="tap=%s,queues=2,transport=pci" % TAP, cpus=2)

        self.assertEqual(pinger.outcome(), 0, out)
        self.assertIn("guest-ping=0", out)
        self.assertIn("2", out)  # input.0 and input.1, one vector each
        self.assertIn("%s  -" % digest, out)
        self.assertEqual(sender.outcome(), FILE_BYTES)

    def test_disk_on_pci_and_nic_on_mmio_in_one_guest(self):
        make_tap()
        pinger = Server(9000, host_pings_guest)
        with tempfile.NamedTemporaryFile() as disk:
            disk.truncate(MIB)
            disk.flush()
            out = self.boot(GUEST_UP + "cat /sys/block/vda/size",
                            more=["--disk", "path=%s,transport=pci" % disk.name])

        self.assertEqual(pinger.outcome(), 0, out)
        self.assertIn("guest-ping=0", out)
        self.assertIn("2048", out)

    def test_pci_with_intx(self):
        make_tap()
        pinger = Server(9000, host_pings_guest)

        out = self.boot(GUEST_UP + "grep virtio0 /proc/interrupts | grep -c IO-APIC\n",
                        net="tap=%s,transport=pci" % TAP, extra="pci=nomsi")

        self.assertEqual(pinger.outcome(), 0, out)
        self.assertIn("guest-ping=0", out)
        self.assertIn("host-ping=0", out)
        self.assertEqual(out[-1], "1", out)

    def test_driver_unbind_and_bind_keeps_the_nic_working(self):
        make_tap()
        pinger = Server(9000, host_pings_guest)

        out = self.boot(f"""
dev=$(basename $(readlink /sys/class/net/eth0/device))
ip link set eth0 up; ip link set eth0 down; ip link set eth0 up
echo $dev > /sys/bus/virtio/drivers/virtio_net/unbind
echo $dev > /sys/bus/virtio/drivers/virtio_net/bind
""" + GUEST_UP)

        self.assertEqual(pinger.outcome(), 0, out)
        self.assertIn("guest-ping=0", out)
        self.assertIn("host-ping=0", out)


class VhostNetTest(NetTest):
    """Every NetTest case with the queue pairs in the kernel's vhost-net."""
    NET_EXTRA = ",vhost=on"

    @classmethod
    def setUpClass(cls):
        if not os.path.exists("/dev/vhost-net"):
            raise AssertionError("no /dev/vhost-net: the L1 kernel needs the vhost_net module")

    def test_auto_says_it_chose_vhost_net(self):
        make_tap()
        pinger = Server(9000, host_pings_guest)
        run = vt.run_vmm(vt.boot_args(command=GUEST_UP, memory="768M",
                                      more=["--net", "tap=%s,vhost=auto" % TAP,
                                            "--log-level", "info"]), timeout=RUN_TIMEOUT)
        out = vt.guest_output(run)
        self.assertEqual(run.returncode, 0, run)
        self.assertEqual(pinger.outcome(), 0, out)
        self.assertIn("guest-ping=0", out)
        self.assertIn("vhost=auto: the kernel's vhost-net moves the frames", run.stderr)


class BadNetInputTest(unittest.TestCase):
    """Refused before the VM is created: exit status 2, one sentence."""

    def tearDown(self):
        delete_tap()

    def assert_refused(self, net, *fragments):
        run = vt.run_vmm(["run", "--kernel", vt.KERNEL, "--initrd", vt.INITRD, "--net", net],
                         timeout=120)
        self.assertEqual(run.returncode, 2, run)
        lines = [l for l in run.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, run)
        for fragment in fragments:
            self.assertIn(fragment, lines[0], run)

    def test_missing_tap(self):
        self.assert_refused("tap=%s" % TAP, TAP, "does not exist")
        self.assertFalse(os.path.exists("/sys/class/net/" + TAP), "mini-vmm created the tap")

    def test_busy_tap(self):
        make_tap()
        with open("/dev/net/tun", "r+b", buffering=0) as holder:
            fcntl.ioctl(holder, TUNSETIFF, struct.pack("16sH22x", TAP.encode(), IFF_TAP | IFF_NO_PI))
            self.assert_refused("tap=%s" % TAP, TAP, "busy")

    def test_bad_mac(self):
        make_tap()
        self.assert_refused("tap=%s,mac=52:54:00:12:34" % TAP, "52:54:00:12:34", "MAC")

    def test_multicast_mac(self):
        make_tap()
        self.assert_refused("tap=%s,mac=01:00:5e:00:00:01" % TAP, "multicast")

    def test_zero_queues(self):
        make_tap()
        self.assert_refused("tap=%s,queues=0" % TAP, "queues=0", "out of range")

    def test_too_many_queues(self):
        make_tap(multi_queue=True)
        self.assert_refused("tap=%s,queues=17" % TAP, "queues=17", "out of range")

    def test_queues_on_a_single_queue_tap(self):
        make_tap()
        self.assert_refused("tap=%s,queues=2" % TAP, "not multiqueue")

    def test_bad_vhost_value(self):
        make_tap()
        self.assert_refused("tap=%s,vhost=maybe" % TAP, "vhost=maybe", "on, off, auto")

    def test_unknown_key(self):
        make_tap()
        self.assert_refused("tap=%s,vhostnet=on" % TAP, "unknown key", "vhostnet")


if __name__ == "__main__":
    unittest.main()
