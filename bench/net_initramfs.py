#!/usr/bin/env python3
"""Builds the bench/net guest initramfs: the test initramfs
(images/out/initramfs.cpio.gz, unchanged; it loads virtio_mmio, virtio_pci
and virtio_net) followed by a second gzip'd cpio archive holding Debian's
iperf3, its whole `ldd` closure (libiperf, libcrypto, libsctp, libc, libm
and the loader; nothing stubbed, ~8 MiB) and bench/net_guest.sh. The kernel
unpacks concatenated archives one after the other. iperf3 runs as
  /opt/iperf3/lib/ld-linux-x86-64.so.2 --library-path /opt/iperf3/lib /opt/iperf3/bin/iperf3
(/usr/bin/iperf3 in the guest is a wrapper that does this). The packing,
ldd and stamp helpers are bench/blk_initramfs.py's.

  bench/net_initramfs.py --base images/out/initramfs.cpio.gz \
      --out bench/out/net-initramfs.cpio.gz

Rebuilds only when an input changed (stamp file beside the output).
"""

import argparse
import fcntl
import hashlib
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blk_initramfs as common  # noqa: E402  (shares ldd_map, pack, file_digest)

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_SCRIPT = os.path.join(HERE, "net_guest.sh")
IPERF3 = "/usr/bin/iperf3"
WRAPPER = """#!/bin/sh
exec /opt/iperf3/lib/ld-linux-x86-64.so.2 --library-path /opt/iperf3/lib \\
  /opt/iperf3/bin/iperf3 "$@"
"""


def die(message):
    sys.exit("bench/net_initramfs.py: error: " + message)


def stamp(base, libs):
    h = hashlib.sha256()
    for path in [base, IPERF3, GUEST_SCRIPT, os.path.abspath(__file__),
                 os.path.join(HERE, "blk_initramfs.py")] + sorted(libs.values()):
        h.update(("%s %s\n" % (path, common.file_digest(path))).encode())
    return h.hexdigest()


def build(base, out, libs):
    with tempfile.TemporaryDirectory(dir=os.path.dirname(out)) as tmp:
        stage = os.path.join(tmp, "root")
        bin_dir = os.path.join(stage, "opt/iperf3/bin")
        lib_dir = os.path.join(stage, "opt/iperf3/lib")
        for d in (bin_dir, lib_dir, os.path.join(stage, "usr/bin"), os.path.join(stage, "bench")):
            os.makedirs(d)
        shutil.copy(IPERF3, bin_dir)
        for soname, path in libs.items():
            shutil.copy(os.path.realpath(path), os.path.join(lib_dir, soname))
        with open(os.path.join(stage, "usr/bin/iperf3"), "w") as f:
            f.write(WRAPPER)
        os.chmod(os.path.join(stage, "usr/bin/iperf3"), 0o755)
        shutil.copy(GUEST_SCRIPT, os.path.join(stage, "bench/net_guest.sh"))
        extra = common.pack(stage, out)
        with open(base, "rb") as f:
            combined = f.read()
        combined += b"\0" * (-len(combined) % 4) + extra
        with open(out + ".tmp", "wb") as f:
            f.write(combined)
        os.replace(out + ".tmp", out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="the test initramfs")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if not os.path.exists(IPERF3):
        die("%s is missing (scripts/install-deps installs iperf3)" % IPERF3)
    if not os.path.exists(args.base):
        die("%s is missing (run images/build)" % args.base)
    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        libs = common.ldd_map(IPERF3)
        if common.LOADER not in libs:
            die("no %s in the closure of %s" % (common.LOADER, IPERF3))
        want = stamp(args.base, libs)
        stamp_path = out + ".stamp"
        if os.path.exists(out) and os.path.exists(stamp_path):
            with open(stamp_path) as f:
                if f.read().strip() == want:
                    print("bench/net_initramfs.py: up to date: %s" % os.path.relpath(out),
                          file=sys.stderr)
                    return 0
        build(args.base, out, libs)
        with open(stamp_path, "w") as f:
            f.write(want + "\n")
    print("bench/net_initramfs.py: built %s (%.1f MiB): iperf3 and %d libraries"
          % (os.path.relpath(out), os.path.getsize(out) / 1048576.0, len(libs)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
