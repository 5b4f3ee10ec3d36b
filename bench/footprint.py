#!/usr/bin/env python3
"""mini-vmm's memory outside guest RAM, mapping by mapping, for a booted
guest: the release binary boots the test kernel and initramfs with a disk on
virtio-mmio and the serial console, and /proc/PID/smaps is read at the boot
marker (plus --settle seconds). Issue #11's targets: RSS outside guest RAM
<= 1.2 MiB, private (Private_Clean + Private_Dirty) <= 512 KiB.

    scripts/nested -- bench/footprint.py [--mini-vmm build/release/vmm/mini-vmm]
        [--kernel images/out/vmlinuz] [--initrd images/out/initramfs.cpio.gz]
        [--memory 256] [--settle 1] [--runs 1]

Guest RAM is recognised as bench/bootbench.py does (smaps_rss_kib): the
named memfd, or an anonymous mapping at least the RAM size (below 3 GiB).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bootbench  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIELDS = ("Rss", "Pss", "Private_Clean", "Private_Dirty", "Anonymous")


def read_smaps(pid, guest_ram_bytes):
    """[(mapping header, is_ram, {field: KiB})] in address order."""
    low_ram = min(guest_ram_bytes, 3 << 30)
    mappings = []
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                name = fields[5] if len(fields) > 5 else ""
                size = end - start
                is_ram = "mini-vmm-guest-ram" in name or (name == "" and size >= low_ram)
                label = "%s %s %6d KiB %s" % (fields[0], fields[1], size >> 10, name)
                mappings.append((label, is_ram, {}))
            elif fields[0].rstrip(":") in FIELDS and mappings:
                mappings[-1][2][fields[0].rstrip(":")] = int(fields[1])
    return mappings


def report(mappings):
    outside = [(label, v) for label, is_ram, v in mappings if not is_ram]
    outside.sort(key=lambda m: (-m[1].get("Rss", 0), m[0]))
    print("%-78s %6s %6s %6s %6s" % ("mapping (outside guest RAM)", "RSS", "PSS", "Priv",
                                     "PrDirty"))
    totals = dict.fromkeys(FIELDS, 0)
    for label, v in outside:
        for key in FIELDS:
            totals[key] += v.get(key, 0)
        if v.get("Rss", 0) == 0:
            continue
        private = v.get("Private_Clean", 0) + v.get("Private_Dirty", 0)
        print("%-78s %6d %6d %6d %6d" % (label[:78], v.get("Rss", 0), v.get("Pss", 0), private,
                                         v.get("Private_Dirty", 0)))
    private = totals["Private_Clean"] + totals["Private_Dirty"]
    print("total outside guest RAM: RSS %d KiB, PSS %d KiB, private %d KiB (dirty %d KiB)"
          % (totals["Rss"], totals["Pss"], private, totals["Private_Dirty"]))
    print("targets (issue #11): RSS <= 1229 KiB, private <= 512 KiB: %s"
          % ("met" if totals["Rss"] <= 1229 and private <= 512 else "NOT met"))
    return totals["Rss"], private


def run_once(args):
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(16 << 20)
        argv = [args.mini_vmm, "run", "--kernel", args.kernel, "--initrd", args.initrd,
                "--memory", "%dM" % args.memory, "--cpus", "1",
                "--cmdline", bootbench.CMDLINE, "--boot-timer",
                "--disk", "path=%s" % disk] + args.extra
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        out = bootbench.Output(proc)
        try:
            ok = bootbench.wait_for(lambda: b"guest boot marker" in out.text(proc.stderr), out,
                                    time.monotonic() + args.timeout)
            if not ok:
                sys.exit("footprint: no boot marker (exit %s): %s" % (
                    proc.poll(), out.text(proc.stderr).decode(errors="replace")[-2000:]))
            bootbench.wait_for(lambda: False, out, time.monotonic() + args.settle)
            mappings = read_smaps(proc.pid, args.memory << 20)
            with open("/proc/%d/status" % proc.pid) as f:
                threads = [line.split()[1] for line in f if line.startswith("Threads:")]
        finally:
            proc.kill()
            proc.wait()
    print("threads: %s" % (threads[0] if threads else "?"))
    return report(mappings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mini-vmm", default=os.path.join(ROOT, "build/release/vmm/mini-vmm"))
    parser.add_argument("--kernel", default=os.path.join(ROOT, "images/out/vmlinuz"))
    parser.add_argument("--initrd", default=os.path.join(ROOT, "images/out/initramfs.cpio.gz"))
    parser.add_argument("--memory", type=int, default=256, help="MiB")
    parser.add_argument("--settle", type=float, default=1.0,
                        help="seconds to wait after the marker before reading smaps")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("extra", nargs="*", help="more mini-vmm run arguments (after --)")
    args = parser.parse_args()
    for i in range(args.runs):
        if args.runs > 1:
            print("run %d" % (i + 1))
        run_once(args)


if __name__ == "__main__":
    main()
