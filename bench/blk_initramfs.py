#!/usr/bin/env python3
"""Builds the bench/blk guest initramfs: the test initramfs
(images/out/initramfs.cpio.gz, unchanged) followed by a second gzip'd cpio
archive holding Debian's fio, the libraries it needs, and
bench/blk_guest.sh. The kernel unpacks concatenated archives one after the
other, so the test /init, busybox and virtio modules come from the first.

Debian's fio links the client libraries of every I/O engine it ships (ceph
rbd/rados, glusterfs, nbd, rdma, pmem): their whole dependency closure is
81 MiB, too much to unpack at every nested boot. The benchmark only uses
the libaio and psync engines, so those libraries are replaced by stubs with
the same sonames, symbol versions and symbols (each symbol traps if ever
called); libc, libm, libz, libnuma, libaio and the loader are the real
ones, copied with their own `ldd` closure. fio runs as
  /opt/fio/lib/ld-linux-x86-64.so.2 --library-path /opt/fio/lib /opt/fio/bin/fio
(/usr/bin/fio in the guest is a wrapper that does this).

  bench/blk_initramfs.py --base images/out/initramfs.cpio.gz \
      --out bench/out/blk-initramfs.cpio.gz

Rebuilds only when an input changed (stamp file beside the output).
"""

import argparse
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_SCRIPT = os.path.join(HERE, "blk_guest.sh")
FIO = "/usr/bin/fio"
LOADER = "ld-linux-x86-64.so.2"
# Sonames fio needs only for engines the benchmark never runs.
STUBBED = {
    "libgfapi.so.0", "libnbd.so.0", "libibverbs.so.1", "librdmacm.so.1",
    "librados.so.2", "librbd.so.1", "libpmemblk.so.1", "libpmem.so.1",
}
WRAPPER = """#!/bin/sh
exec /opt/fio/lib/ld-linux-x86-64.so.2 --library-path /opt/fio/lib /opt/fio/bin/fio "$@"
"""


def die(message):
    sys.exit("bench/blk_initramfs.py: error: " + message)


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs).stdout


def needed(path):
    """DT_NEEDED sonames of an ELF file."""
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", run(["readelf", "-d", path]))


def ldd_map(path):
    """soname -> resolved path, for the whole closure ldd reports."""
    found = {}
    for line in run(["ldd", path]).splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line)
        if m:
            found[m.group(1)] = m.group(2)
        else:
            m = re.match(r"\s*(/\S+) \(0x", line)
            if m:
                found[os.path.basename(m.group(1))] = m.group(1)
    return found


def dynamic_symbols(path, undefined):
    """(name, version or None) of the dynamic symbols of `path`, either the
    undefined ones or the defined ones."""
    symbols = set()
    for line in run(["readelf", "--dyn-syms", "-W", path]).splitlines():
        fields = line.split()
        if len(fields) < 8 or not fields[0].endswith(":"):
            continue
        if (fields[6] == "UND") != undefined or fields[4] == "LOCAL":
            continue
        name = fields[7]
        version = None
        if "@" in name:
            name, _, version = name.partition("@")
            version = version.lstrip("@")
        symbols.add((name, version))
    return symbols


def kept_libraries(fio_libs):
    """soname -> path of every real library fio needs: its non-stubbed
    NEEDED entries and their own ldd closure, plus the loader."""
    kept = {}
    for soname in needed(FIO):
        if soname in STUBBED:
            continue
        if soname not in fio_libs:
            die("ldd cannot resolve %s for %s" % (soname, FIO))
        kept[soname] = fio_libs[soname]
        for dep, path in ldd_map(fio_libs[soname]).items():
            kept.setdefault(dep, path)
    if LOADER not in kept:
        die("no %s in the closure of %s" % (LOADER, FIO))
    return kept


def build_stub(soname, real_path, wanted, out_dir):
    """A shared object named `soname` that defines every symbol of `wanted`
    the real library defines, with the same versions; returns the count."""
    provided = dynamic_symbols(real_path, undefined=False)
    symbols = sorted(s for s in wanted if s in provided)
    by_version = {}
    for name, version in symbols:
        by_version.setdefault(version, []).append(name)
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "stub.c")
        with open(source, "w") as f:
            f.write("/* Stub of %s for bench/blk: fio's engine for it is never used. */\n" % soname)
            for name, _ in symbols:
                f.write("void %s(void) { __builtin_trap(); }\n" % name)
        argv = ["cc", "-shared", "-fPIC", "-nostdlib", "-O2", "-o", os.path.join(out_dir, soname),
                "-Wl,-soname," + soname, source]
        versions = [v for v in by_version if v is not None]
        if versions:
            script = os.path.join(tmp, "stub.map")
            with open(script, "w") as f:
                for version in versions:
                    f.write("%s { global: %s; };\n" % (version, "; ".join(by_version[version])))
                # Unversioned references resolve against any default version.
                if None in by_version:
                    f.write("STUB_UNVERSIONED { global: %s; };\n" % "; ".join(by_version[None]))
            argv.append("-Wl,--version-script=" + script)
        run(argv)
    return len(symbols)


def pack(stage, out):
    """gzip'd newc cpio of `stage`, owned by root (as scripts/lib/initramfs.sh)."""
    names = subprocess.run("find . -mindepth 1 -printf '%P\\0' | LC_ALL=C sort -z", shell=True,
                           cwd=stage, check=True, capture_output=True).stdout
    archive = subprocess.run(["cpio", "--null", "-o", "-H", "newc", "-R", "0:0", "--quiet"],
                             cwd=stage, input=names, check=True, capture_output=True).stdout
    return subprocess.run(["gzip", "-9n"], input=archive, check=True, capture_output=True).stdout


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stamp(base, fio_libs):
    h = hashlib.sha256()
    for path in [base, FIO, GUEST_SCRIPT, os.path.abspath(__file__)] + sorted(fio_libs.values()):
        h.update(("%s %s\n" % (path, file_digest(path))).encode())
    return h.hexdigest()


def build(base, out, fio_libs):
    with tempfile.TemporaryDirectory(dir=os.path.dirname(out)) as tmp:
        stage = os.path.join(tmp, "root")
        bin_dir = os.path.join(stage, "opt/fio/bin")
        lib_dir = os.path.join(stage, "opt/fio/lib")
        os.makedirs(bin_dir)
        os.makedirs(lib_dir)
        os.makedirs(os.path.join(stage, "usr/bin"))
        os.makedirs(os.path.join(stage, "bench"))
        shutil.copy(FIO, bin_dir)
        kept = kept_libraries(fio_libs)
        for soname, path in kept.items():
            shutil.copy(os.path.realpath(path), os.path.join(lib_dir, soname))
        wanted = dynamic_symbols(FIO, undefined=True)
        stubs = {}
        for soname in sorted(STUBBED & set(needed(FIO))):
            stubs[soname] = build_stub(soname, fio_libs[soname], wanted, lib_dir)
        with open(os.path.join(stage, "usr/bin/fio"), "w") as f:
            f.write(WRAPPER)
        os.chmod(os.path.join(stage, "usr/bin/fio"), 0o755)
        shutil.copy(GUEST_SCRIPT, os.path.join(stage, "bench/blk_guest.sh"))
        extra = pack(stage, out)

        with open(base, "rb") as f:
            combined = f.read()
        # The kernel skips zero padding between archives; keep the second
        # archive 4-byte aligned like cpio members.
        combined += b"\0" * (-len(combined) % 4) + extra
        with open(out + ".tmp", "wb") as f:
            f.write(combined)
        os.replace(out + ".tmp", out)
    return kept, stubs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="the test initramfs")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if not os.path.exists(FIO):
        die("%s is missing (apt-get install fio)" % FIO)
    if not os.path.exists(args.base):
        die("%s is missing (run images/build)" % args.base)
    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fio_libs = ldd_map(FIO)
        want = stamp(args.base, fio_libs)
        stamp_path = out + ".stamp"
        if os.path.exists(out) and os.path.exists(stamp_path):
            with open(stamp_path) as f:
                if f.read().strip() == want:
                    print("bench/blk_initramfs.py: up to date: %s" % os.path.relpath(out),
                          file=sys.stderr)
                    return 0
        kept, stubs = build(args.base, out, fio_libs)
        with open(stamp_path, "w") as f:
            f.write(want + "\n")
    print("bench/blk_initramfs.py: built %s (%.1f MiB): fio, %d libraries, stubs %s"
          % (os.path.relpath(out), os.path.getsize(out) / 1048576.0, len(kept),
             ", ".join("%s (%d symbols)" % (k, v) for k, v in sorted(stubs.items()))),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
