#!/usr/bin/env python3
"""Block-device benchmark: virtio-blk over virtio-mmio in mini-vmm against
QEMU microvm, same kernel, same initramfs, same raw image, inside one
machine (the nested L1 when there is no hardware virtualization). Runs are
interleaved (later boots in one L1 are slower, nested-notes item 12).

The guest (bench/blk_guest.sh, in the initramfs bench/blk_initramfs.py
builds) runs fio with O_DIRECT on /dev/vda: sequential 1 MiB reads, then
sequential 1 MiB writes, then 4 KiB random reads, each time-based with a
ramp. Throughput and IOPS are fio's own figures, measured in the guest.
The image is a raw file in this machine's /tmp (tmpfs in the nested L1), so
the host disk does not dominate: what is measured is the virtio path, the
VMM and its I/O backend.

VMMs compared:
  mini-vmm       io_uring backend, ioeventfd doorbell, irqfd interrupt
  qemu           QEMU's defaults: aio=threads, cache=writeback
  qemu-io_uring  aio=io_uring, cache=writeback (unless --no-qemu-io-uring)
"""

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CMDLINE = "console=ttyS0 reboot=k panic=-1 quiet io_delay=none"
MIB = 1 << 20
JOBS = ("seqread", "seqwrite", "randread")
VARIANTS = ("mini-vmm", "qemu", "qemu-io_uring")
# What each metric is, how to print it, and how to take it from fio's terse
# (version 3) line: field 6 is read bandwidth in KiB/s, 7 read IOPS, 47
# write bandwidth, 48 write IOPS (0-based).
METRICS = {
    "seqread": ("seq read 1M", "MiB/s", lambda t: float(t[6]) / 1024),
    "seqwrite": ("seq write 1M", "MiB/s", lambda t: float(t[47]) / 1024),
    "randread": ("rand read 4k", "IOPS", lambda t: float(t[7])),
}
TARGET_RATIO = 1.2


def filesystem_of(path):
    """(mount point, type) of the file system holding `path`."""
    path = os.path.realpath(path)
    best = ("/", "?")
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            mount, fstype = fields[1], fields[2]
            if (path == mount or path.startswith(mount.rstrip("/") + "/")) and \
                    len(mount) >= len(best[0]):
                best = (mount, fstype)
    return best


def make_image(directory, size_mib):
    """A raw image of `size_mib` MiB filled with a repeated random MiB, so
    reads hit real pages (a hole reads as zeros without touching any)."""
    fd, path = tempfile.mkstemp(prefix="blkbench-", suffix=".img", dir=directory)
    block = os.urandom(MIB)
    with os.fdopen(fd, "wb") as f:
        for _ in range(size_mib):
            f.write(block)
    return path


def vmm_argv(variant, args, image, cmdline):
    if variant == "mini-vmm":
        return [args.mini_vmm, "run", "--kernel", args.kernel, "--initrd", args.initrd,
                "--memory", "%dM" % args.memory, "--cmdline", cmdline,
                "--disk", "path=" + image]
    drive = "id=d0,file=%s,format=raw,if=none" % image.replace(",", ",,")
    if variant == "qemu-io_uring":
        drive += ",aio=io_uring"
    # rtc=on: without an RTC the guest's rtc_cmos probe stalls for seconds
    # under KVM; a user who benchmarks QEMU microvm turns it on.
    return [args.qemu, "-M", "microvm,rtc=on", "-accel", "kvm", "-cpu", "host", "-m", str(args.memory),
            "-smp", "1", "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-serial", "stdio", "-kernel", args.kernel, "-initrd", args.initrd,
            "-append", cmdline, "-drive", drive, "-device", "virtio-blk-device,drive=d0"]


def parse_job(rest):
    """One "job NAME STAT | STAT | IRQ IRQ | TERSE" line (after "job ")."""
    name, rest = rest.split(" ", 1)
    stat_before, stat_after, irqs, terse = (part.strip() for part in rest.split("|", 3))
    before = [int(x) for x in stat_before.split()]
    after = [int(x) for x in stat_after.split()]
    irq_before, irq_after = (int(x) for x in irqs.split())
    fields = terse.split(";")
    if fields[0] != "3" or len(fields) < 49:
        raise ValueError("not a fio terse v3 line: %r" % terse[:200])
    if fields[4] != "0":
        raise ValueError("fio job %s reported error %s" % (name, fields[4]))
    delta = [a - b for a, b in zip(after, before)]
    # /sys/block/vda/stat: 0 read I/Os, 2 read sectors, 4 write I/Os,
    # 6 write sectors (Documentation/block/stat.rst).
    ios = delta[0] + delta[4]
    sectors = delta[2] + delta[6]
    return name, {
        "value": METRICS[name][2](fields),
        "device_requests": ios,
        "device_kib_per_request": sectors * 512 / 1024 / ios if ios else 0.0,
        "interrupts": irq_after - irq_before,
        "interrupts_per_request": (irq_after - irq_before) / ios if ios else 0.0,
    }


def parse_output(stdout):
    """({job: result}, queue limits text) from the guest's bench-blk lines."""
    jobs = {}
    queue = ""
    for line in stdout.replace("\r", "").split("\n"):
        if not line.startswith("bench-blk: "):
            continue
        kind, _, rest = line[len("bench-blk: "):].partition(" ")
        if kind == "error":
            raise RuntimeError("guest: " + rest)
        if kind == "queue":
            queue = rest
        elif kind == "job":
            name, result = parse_job(rest)
            jobs[name] = result
    missing = [j for j in JOBS if j not in jobs]
    if missing:
        raise RuntimeError("no result for %s" % ", ".join(missing))
    return jobs, queue


def run_one(variant, args, image):
    command = "sh /bench/blk_guest.sh %d %d %d %d %s" % (
        args.runtime, args.ramp, args.seq_qd, args.rand_qd, args.engine)
    cmdline = CMDLINE + " mvm_cmd64=" + base64.b64encode(command.encode()).decode()
    argv = vmm_argv(variant, args, image, cmdline)
    start = time.monotonic()
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=args.timeout)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError("%s timed out after %d s; output:\n%s" % (
            variant, args.timeout, (e.stdout or b"").decode(errors="replace")[-3000:]))
    seconds = time.monotonic() - start
    stdout = proc.stdout.decode(errors="replace")
    try:
        jobs, queue = parse_output(stdout)
    except (RuntimeError, ValueError) as e:
        raise RuntimeError("%s (exit %d): %s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            variant, proc.returncode, e, stdout[-3000:],
            proc.stderr.decode(errors="replace")[-3000:]))
    return {"jobs": jobs, "queue": queue, "seconds": seconds}


def fmt_value(job, value):
    return ("%8.1f" if METRICS[job][1] == "MiB/s" else "%8.0f") % value


def print_run(index, variant, result):
    parts = ["%s %s %s" % (METRICS[j][0], fmt_value(j, result["jobs"][j]["value"]),
                           METRICS[j][1]) for j in JOBS]
    print("run %d %-13s %s   (whole VM %5.1f s)" % (index, variant, "   ".join(parts),
                                                   result["seconds"]), flush=True)


def summarize(results):
    summary = {}
    for variant, runs in results.items():
        s = {"runs": runs, "median": {}, "diagnostics": {}}
        for job in JOBS:
            s["median"][job] = statistics.median(r["jobs"][job]["value"] for r in runs)
            s["diagnostics"][job] = {
                key: statistics.median(r["jobs"][job][key] for r in runs)
                for key in ("device_kib_per_request", "interrupts_per_request")}
        s["queue"] = runs[0]["queue"]
        summary[variant] = s
    return summary


def print_summary(summary, args, image_fs):
    print()
    print("kernel %s, initrd %s, %d MiB RAM, 1 vCPU, %d runs each (interleaved)"
          % (os.path.basename(args.kernel), os.path.basename(args.initrd), args.memory, args.runs))
    print("disk: %d MiB raw image on %s (%s, i.e. RAM: the host disk is not involved)"
          % (args.disk_mib, image_fs[0], image_fs[1]))
    print("fio %s, O_DIRECT, %d s + %d s ramp per job; seq iodepth %d, rand iodepth %d"
          % (args.engine, args.runtime, args.ramp, args.seq_qd, args.rand_qd))
    print("qemu = aio=threads (QEMU's default), qemu-io_uring = aio=io_uring; both cache=writeback")
    print()
    label = 24
    print("%-*s" % (label, "median") +
          "".join("%20s" % ("%s %s" % (METRICS[j][0], METRICS[j][1])) for j in JOBS))
    for variant, s in summary.items():
        print("%-*s" % (label, variant) +
              "".join("%20s" % fmt_value(j, s["median"][j]).strip() for j in JOBS))
    ratios = {}
    for other in (v for v in summary if v != "mini-vmm"):
        ratios[other] = {j: summary["mini-vmm"]["median"][j] / summary[other]["median"][j]
                         for j in JOBS}
        print("%-*s" % (label, "ratio mini-vmm/" + other) + "".join(
            "%20s" % ("%.2fx%s" % (ratios[other][j],
                                   "" if ratios[other][j] >= TARGET_RATIO else " (<%.1f)"
                                   % TARGET_RATIO)) for j in JOBS))
    print()
    print("guest's view (medians): KiB per request at /dev/vda, virtio interrupts per request")
    for variant, s in summary.items():
        d = s["diagnostics"]
        print("%-*s" % (label, variant) + "".join(
            "%20s" % ("%.0f KiB %.2f irq" % (d[j]["device_kib_per_request"],
                                            d[j]["interrupts_per_request"])) for j in JOBS))
    for variant, s in summary.items():
        print("%-*s queue: %s" % (label, variant, s["queue"]))
    return ratios


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mini-vmm", required=True)
    parser.add_argument("--qemu", default="qemu-system-x86_64")
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--initrd", required=True, help="the bench initramfs (with fio)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory", type=int, default=512, help="guest RAM, MiB")
    parser.add_argument("--disk-mib", type=int, default=256)
    parser.add_argument("--runtime", type=int, default=5, help="seconds per fio job")
    parser.add_argument("--ramp", type=int, default=1, help="seconds of ramp per fio job")
    parser.add_argument("--seq-qd", type=int, default=4, help="iodepth of the 1 MiB jobs")
    parser.add_argument("--rand-qd", type=int, default=16, help="iodepth of the 4 KiB job")
    parser.add_argument("--engine", default="libaio", choices=("libaio", "psync"))
    parser.add_argument("--no-qemu-io-uring", action="store_true")
    parser.add_argument("--timeout", type=float, default=600, help="per VM run, seconds")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.engine == "psync" and (args.seq_qd != 1 or args.rand_qd != 1):
        parser.error("psync is synchronous: use --seq-qd 1 --rand-qd 1")

    variants = [v for v in VARIANTS if not (args.no_qemu_io_uring and v == "qemu-io_uring")]
    image_dir = tempfile.gettempdir()
    image_fs = filesystem_of(image_dir)
    image = make_image(image_dir, args.disk_mib)
    print("image %s: %d MiB on %s (%s)" % (image, args.disk_mib, image_fs[0], image_fs[1]),
          flush=True)
    results = {v: [] for v in variants}
    try:
        for i in range(args.runs):
            # Rotate who goes first, so no VMM always gets the fresher L1.
            shift = i % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                result = run_one(variant, args, image)
                results[variant].append(result)
                print_run(i + 1, variant, result)
    finally:
        os.unlink(image)

    summary = summarize(results)
    ratios = print_summary(summary, args, image_fs)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "ratios": ratios, "target_ratio": TARGET_RATIO,
                       "kernel": args.kernel, "initrd": args.initrd, "memory_mib": args.memory,
                       "disk_mib": args.disk_mib, "image_filesystem": image_fs[1],
                       "fio": {"engine": args.engine, "runtime_s": args.runtime,
                               "ramp_s": args.ramp, "seq_iodepth": args.seq_qd,
                               "rand_iodepth": args.rand_qd, "direct": True},
                       "qemu_variants": {"qemu": "aio=threads,cache=writeback",
                                         "qemu-io_uring": "aio=io_uring,cache=writeback"}},
                      f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
