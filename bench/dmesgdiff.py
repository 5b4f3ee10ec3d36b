#!/usr/bin/env python3
"""Compare guest boot timelines from dmesg files (bench/boot --dmesg).

  bench/dmesgdiff.py [--dir bench/out/dmesg] [--gap MS] A B

A and B are VMM names as in the file names (<vmm>-run<N>.txt), e.g.
mini-vmm and qemu-rtc. Messages are aligned by their text with numbers and
addresses masked (and the n-th repeat of a text counted apart); each
message's time is the median over the runs of that VMM. Prints:
  - the main boot phases, in guest time, for both;
  - every aligned pair of consecutive messages whose gap differs by more
    than --gap milliseconds between A and B (the time before a message is
    spent in whatever printed the previous one, or in something silent);
  - the messages only one of the two printed (devices, probes, tables that
    the other platform does not offer).
With --initcalls (for dmesg taken with `bench/boot --dmesg --append
initcall_debug`), it compares the kernel's own duration of each initcall
instead, largest first. Early initcalls run before the clocksource switch
and are measured in jiffies (4 ms steps): read small ones as noise.
Guest time is the kernel's printk clock: kvm-clock from its set-up on (the
earlier lines read 0), so the VMM's own start-up and anything before the
kernel's entry are not in it.
"""

import argparse
import collections
import glob
import os
import re
import statistics
import sys

INITCALL_RE = re.compile(r"initcall (\S+?)\+0x\S+ returned -?\d+ after (\d+) usecs")
LINE_RE = re.compile(r"^\[\s*(\d+\.\d+)\]\s?(.*)$")
# Hex and decimal numbers, and the bracketed ranges the kernel prints, vary
# between VMMs and runs (addresses, sizes, BogoMIPS, speeds).
MASK_RE = re.compile(r"0x[0-9a-fA-F]+|\b[0-9a-fA-F]{6,}\b|\d+(\.\d+)?")

# (label, regular expression of the message that starts the phase).
PHASES = (
    ("kernel start (Linux version)", r"^Linux version"),
    ("memory set up (Memory:)", r"^Memory: "),
    ("timer / TSC calibration (Calibrating delay)", r"^Calibrating delay|lpj="),
    ("SMP bring-up done (smp: Brought up)", r"^smp: Brought up"),
    ("ACPI interpreter (ACPI: Interpreter enabled)", r"^ACPI: Interpreter enabled"),
    ("clocksource switch (Switched to clocksource)", r"^clocksource: Switched to clocksource"),
    ("initramfs unpacked (Freeing initrd memory)", r"^Freeing initrd memory"),
    ("serial driver (Serial: 8250/16550)", r"^Serial: 8250/16550"),
    ("last device probe before init (rtc_cmos / i8042 / ...)", r"^(rtc_cmos|i8042|input:)"),
    ("kernel done (Freeing unused kernel image)", r"^Freeing unused kernel image \(initmem\)"),
    ("init started (Run /init)", r"^Run /init"),
    ("last message", None),
)


def read_runs(directory, vmm):
    runs = []
    for path in sorted(glob.glob(os.path.join(directory, "%s-run*.txt" % vmm))):
        lines = []
        with open(path, errors="replace") as f:
            for raw in f:
                found = LINE_RE.match(raw.rstrip("\n"))
                if found:
                    lines.append((float(found.group(1)), found.group(2)))
        runs.append(lines)
    if not runs:
        sys.exit("no dmesg files for %r in %s" % (vmm, directory))
    return runs


def keyed(lines):
    """[(key, time, text)] with key = (masked text, occurrence)."""
    seen = collections.Counter()
    out = []
    for t, text in lines:
        masked = MASK_RE.sub("#", text)
        seen[masked] += 1
        out.append(((masked, seen[masked]), t, text))
    return out


def timeline(runs):
    """Median time per key over the runs that printed it, in the order of
    the first run; plus one sample text per key."""
    times = collections.defaultdict(list)
    texts = {}
    order = []
    for run in runs:
        for key, t, text in keyed(run):
            if key not in texts:
                texts[key] = text
                order.append(key)
            times[key].append(t)
    return [(key, statistics.median(times[key]), texts[key]) for key in order]


def phase_times(tl):
    """The time of each phase's first message (of its last one for a
    pattern that lists alternatives: the last of several probes)."""
    out = []
    for label, pattern in PHASES:
        if pattern is None:
            out.append((label, max(t for _, t, _ in tl) if tl else None))
            continue
        hits = [t for _, t, text in tl if re.search(pattern, text)]
        if not hits:
            out.append((label, None))
        else:
            out.append((label, hits[-1] if pattern.startswith("^(") else hits[0]))
    return out


def initcall_ms(runs):
    """Median duration in ms of each initcall over the runs."""
    times = collections.defaultdict(list)
    for run in runs:
        for _, text in run:
            found = INITCALL_RE.search(text)
            if found:
                times[found.group(1)].append(int(found.group(2)) / 1000.0)
    return {name: statistics.median(ms) for name, ms in times.items()}


def print_initcalls(args, runs_a, runs_b, top=40):
    a, b = initcall_ms(runs_a), initcall_ms(runs_b)
    if not a or not b:
        sys.exit("no initcall_debug lines (boot with --append initcall_debug)")
    total_a, total_b = sum(a.values()), sum(b.values())
    print("initcalls, median ms: total %s %.0f, %s %.0f (ratio %.2f)"
          % (args.a, total_a, args.b, total_b, total_a / total_b))
    print("%-40s %9s %9s  %s" % ("initcall", args.a[:9], args.b[:9],
                                 "excess of %s over the overall ratio" % args.a))
    names = sorted(set(a) | set(b), key=lambda n: -max(a.get(n, 0), b.get(n, 0)))
    for name in names[:top]:
        ms_a, ms_b = a.get(name, 0.0), b.get(name, 0.0)
        print("%-40s %9.1f %9.1f  %+7.1f"
              % (name[:40], ms_a, ms_b, ms_a - ms_b * total_a / total_b))


def fmt(t):
    return "%8.3f" % t if t is not None else "       -"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", default="bench/out/dmesg")
    parser.add_argument("--gap", type=float, default=20.0, help="ms (default 20)")
    parser.add_argument("--initcalls", action="store_true",
                        help="compare initcall_debug durations instead")
    parser.add_argument("a")
    parser.add_argument("b")
    args = parser.parse_args()
    runs_a, runs_b = read_runs(args.dir, args.a), read_runs(args.dir, args.b)
    if args.initcalls:
        print_initcalls(args, runs_a, runs_b)
        return
    tl_a, tl_b = timeline(runs_a), timeline(runs_b)
    print("guest time (s), median of %d and %d runs" % (len(runs_a), len(runs_b)))
    print("%-58s %10s %10s" % ("phase (first message of it)", args.a[:10], args.b[:10]))
    for (label, ta), (_, tb) in zip(phase_times(tl_a), phase_times(tl_b)):
        print("%-58s %10s %10s" % (label, fmt(ta), fmt(tb)))

    b_time = {key: t for key, t, _ in tl_b}
    common = [(key, t, text) for key, t, text in tl_a if key in b_time]
    print()
    print("gaps before a message that differ by more than %.0f ms (%s - %s)"
          % (args.gap, args.a, args.b))
    print("%9s %9s %9s  %s" % ("gap " + args.a[:5], "gap " + args.b[:5], "diff", "message"))
    prev = None
    for key, ta, text in common:
        if prev is not None:
            gap_a = ta - prev[1]
            gap_b = b_time[key] - b_time[prev[0]]
            if abs(gap_a - gap_b) * 1000 > args.gap:
                print("%9.3f %9.3f %+9.3f  %s\n%39s(after: %s)"
                      % (gap_a, gap_b, gap_a - gap_b, text[:100], "", prev[2][:80]))
        prev = (key, ta, text)

    a_keys = {key for key, _, _ in tl_a}
    for name, tl, other in ((args.a, tl_a, b_time), (args.b, tl_b, a_keys)):
        print()
        print("only in %s:" % name)
        for key, t, text in tl:
            if key not in other:
                print("  %s  %s" % (fmt(t), text[:120]))


if __name__ == "__main__":
    sys.exit(main())
