#!/usr/bin/env python3
"""Host instructions per 4 KiB virtio-blk read in mini-vmm's device model,
counted by callgrind: deterministic for a given binary, unlike the nested
timings (+-30 %). Counts only the device's I/O thread (BlockWorker::Run,
inclusive): queue pop, chain walk, parse, backend submit, completion, used
ring, interrupt decision and the event loop around them, in user space
(the kernel's share of io_uring and eventfds is not counted).

    bench/blkcost.py [--binary build/release/bench/blk_cost] [--requests N]
                     [--check] [--update-baseline]

--check fails (exit 1) if a figure is more than 10 % above the committed
baseline (bench/blk_cost_baseline.json), which was measured on the release
preset with Debian 12's g++ and glibc: scripts/test runs it that way, so
the per-request cost cannot grow unnoticed. Target (issue #11): <= 2,000.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BASELINE = os.path.join(HERE, "blk_cost_baseline.json")
DEPTHS = (1, 16)
MARGIN = 1.10
TARGET = 2000


def measure(binary, depth, requests, backend):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
             "--toggle-collect=*BlockWorker::Run*", binary, "--depth", str(depth),
             "--requests", str(requests), "--backend", backend],
            capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit("blkcost: %s failed under callgrind:\n%s" % (binary, run.stderr[-2000:]))
        with open(out) as f:
            for line in f:
                if line.startswith("totals:"):
                    total = int(line.split()[1])
                    break
            else:
                sys.exit("blkcost: no totals in callgrind's output")
    if total == 0:
        sys.exit("blkcost: nothing counted: is BlockWorker::Run still the I/O thread's function?")
    return total / requests


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "build", "release", "bench",
                                                         "blk_cost"))
    parser.add_argument("--requests", type=int, default=2048)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--update-baseline", action="store_true")
    args = parser.parse_args()

    figures = {}
    for backend in ("uring", "sync"):
        for depth in DEPTHS:
            key = "%s/depth%d" % (backend, depth)
            figures[key] = measure(args.binary, depth, args.requests, backend)
    baseline = {}
    if os.path.exists(BASELINE):
        with open(BASELINE) as f:
            baseline = json.load(f)

    print("virtio-blk, host instructions per 4 KiB read (callgrind, I/O thread, user space)")
    print("%-18s %10s %10s %8s" % ("backend/depth", "now", "baseline", "ratio"))
    worse = []
    for key, value in figures.items():
        base = baseline.get(key)
        ratio = value / base if base else float("nan")
        print("%-18s %10.0f %10s %8.2f" % (key, value, "%.0f" % base if base else "-", ratio))
        if base and value > base * MARGIN:
            worse.append(key)
    print("target: <= %d per request (issue #11)" % TARGET)

    if args.update_baseline:
        with open(BASELINE, "w") as f:
            json.dump({k: round(v) for k, v in figures.items()}, f, indent=2, sort_keys=True)
            f.write("\n")
        print("baseline updated: %s" % BASELINE)
    if args.check and worse:
        sys.exit("blkcost: more than %d %% above the baseline: %s" %
                 (round((MARGIN - 1) * 100), ", ".join(worse)))


if __name__ == "__main__":
    main()
