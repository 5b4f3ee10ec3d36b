#!/usr/bin/env python3
"""VFIO passthrough benchmark: an NVMe given to the guest with VFIO, under
mini-vmm (--vfio) and under QEMU (-device vfio-pci), same kernel, same
initramfs, same device, inside one machine (the nested L1 of
`scripts/nested --vfio-nvme`, whose emulated NVMe sits behind an emulated
Intel IOMMU). Runs are interleaved, rotating which VMM goes first (later
boots in one L1 are slower, nested-notes item 12).

In each run the guest runs fio with O_DIRECT on /dev/nvme0n1: sequential
1 MiB reads, then 4 KiB random reads, each time-based with a ramp; the
figures are fio's own, measured in the guest. Boot time is the wall time
from spawning the VMM to the init's "boot marker" line on the serial
console (the same signal for every VMM), with the guest's own uptime there.

VMMs compared:
  mini-vmm   --vfio BDF (only when this mini-vmm has --vfio)
  qemu       -device vfio-pci,host=BDF on -M microvm,pcie=on,rtc=on (a
             minimal machine with PCIe, as a user who compares it with
             mini-vmm would pick; --qemu-machine q35 for QEMU's PC)
Under nested TCG absolute numbers mean little; the ratios are the point.
"""

import argparse
import base64
import json
import os
import select
import statistics
import subprocess
import sys
import time

CMDLINE = "console=ttyS0 reboot=k panic=-1 quiet io_delay=none"
JOBS = ("seqread", "randread")
# name: (label, unit, value from fio's terse v3 fields: 6 read KiB/s, 7 read IOPS)
METRICS = {
    "seqread": ("seq read 1M", "MiB/s", lambda t: float(t[6]) / 1024),
    "randread": ("rand read 4k", "IOPS", lambda t: float(t[7])),
}
MARKER = b"mini-vmm-init: boot marker at guest uptime "

# The guest's part, run by the test /init (mvm_cmd64): nothing is printed
# while a job runs (console output costs VM exits on the only vCPU).
GUEST = """d=/dev/nvme0n1
test -b $d || { echo "bench-vfio: error no $d"; exit 3; }
echo "bench-vfio: msix $(cat /sys/class/nvme/nvme0/device/msi_irqs/* | grep -c msix)"
for j in "seqread read 1M %(seq_qd)d" "randread randread 4k %(rand_qd)d"; do
set -- $j
fio --name=$1 --filename=$d --direct=1 --ioengine=libaio --rw=$2 --bs=$3 --iodepth=$4 \
--runtime=%(runtime)d --ramp_time=%(ramp)d --time_based --randrepeat=0 --norandommap \
--output-format=terse --terse-version=3 >/tmp/$1 2>&1 ||
echo "bench-vfio: error fio $1: $(head -c 200 /tmp/$1 | tr '\\n' ' ')"
done
for j in seqread randread; do echo "bench-vfio: job $j $(head -n 1 /tmp/$j)"; done
"""


def vmm_argv(variant, args, cmdline):
    if variant == "mini-vmm":
        return [args.mini_vmm, "run", "--kernel", args.kernel, "--initrd", args.initrd,
                "--memory", "%dM" % args.memory, "--cmdline", cmdline, "--vfio", args.bdf]
    return [args.qemu, "-M", args.qemu_machine, "-accel", "kvm", "-cpu", "host",
            "-m", str(args.memory), "-smp", "1", "-nodefaults", "-no-user-config",
            "-nographic", "-no-reboot", "-serial", "stdio", "-kernel", args.kernel,
            "-initrd", args.initrd, "-append", cmdline,
            "-device", "vfio-pci,host=" + args.bdf]


def parse_output(stdout):
    """({job: value}, msix vector count) from the guest's bench-vfio lines."""
    jobs = {}
    msix = None
    for line in stdout.replace("\r", "").split("\n"):
        if not line.startswith("bench-vfio: "):
            continue
        kind, _, rest = line[len("bench-vfio: "):].partition(" ")
        if kind == "error":
            raise RuntimeError("guest: " + rest)
        if kind == "msix":
            msix = int(rest)
        elif kind == "job":
            name, _, terse = rest.partition(" ")
            fields = terse.split(";")
            if fields[0] != "3" or len(fields) < 49:
                raise ValueError("not a fio terse v3 line: %r" % terse[:200])
            if fields[4] != "0":
                raise ValueError("fio job %s reported error %s" % (name, fields[4]))
            jobs[name] = METRICS[name][2](fields)
    missing = [j for j in JOBS if j not in jobs]
    if missing:
        raise RuntimeError("no result for %s" % ", ".join(missing))
    return jobs, msix


def run_vm(argv, timeout):
    """Runs one VM to its end; returns (stdout, stderr, exit status, seconds
    from spawn to the boot marker line or None, guest uptime there)."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out, err = b"", b""
    marker_at = None
    streams = {proc.stdout.fileno(): "out", proc.stderr.fileno(): "err"}
    try:
        while streams:
            left = start + timeout - time.monotonic()
            if left <= 0:
                raise RuntimeError("timed out after %d s; output:\n%s" % (
                    timeout, out.decode(errors="replace")[-3000:]))
            ready, _, _ = select.select(list(streams), [], [], left)
            for fd in ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    del streams[fd]
                elif streams[fd] == "out":
                    out += chunk
                    if marker_at is None and MARKER in out:
                        marker_at = time.monotonic() - start
                else:
                    err += chunk
        status = proc.wait(timeout=max(1, start + timeout - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    uptime = None
    if MARKER in out:
        uptime = float(out.split(MARKER, 1)[1].split(b"s", 1)[0])
    return out.decode(errors="replace"), err.decode(errors="replace"), status, marker_at, uptime


def run_one(variant, args):
    command = GUEST % {"runtime": args.runtime, "ramp": args.ramp,
                       "seq_qd": args.seq_qd, "rand_qd": args.rand_qd}
    cmdline = CMDLINE + " mvm_cmd64=" + base64.b64encode(command.encode()).decode()
    start = time.monotonic()
    stdout, stderr, status, boot, uptime = run_vm(vmm_argv(variant, args, cmdline), args.timeout)
    seconds = time.monotonic() - start
    try:
        if status != 0:
            raise RuntimeError("exit status %d" % status)
        if boot is None:
            raise RuntimeError("no boot marker on the console")
        jobs, msix = parse_output(stdout)
    except (RuntimeError, ValueError) as e:
        raise RuntimeError("%s: %s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            variant, e, stdout[-3000:], stderr[-3000:]))
    return {"jobs": jobs, "boot_s": boot, "guest_uptime_at_marker_s": uptime,
            "msix_vectors": msix, "seconds": seconds}


def print_run(index, variant, r):
    parts = ["%s %8.1f %s" % (METRICS[j][0], r["jobs"][j], METRICS[j][1]) for j in JOBS]
    print("run %d %-9s boot %5.2f s (guest %5.2f s)   %s   msix %s   (whole VM %5.1f s)" % (
        index, variant, r["boot_s"], r["guest_uptime_at_marker_s"], "   ".join(parts),
        r["msix_vectors"], r["seconds"]), flush=True)


def summarize(results):
    summary = {}
    for variant, runs in results.items():
        median = {j: statistics.median(r["jobs"][j] for r in runs) for j in JOBS}
        median["boot_s"] = statistics.median(r["boot_s"] for r in runs)
        median["guest_uptime_at_marker_s"] = statistics.median(
            r["guest_uptime_at_marker_s"] for r in runs)
        summary[variant] = {"runs": runs, "median": median}
    return summary


def print_summary(summary, args):
    print()
    print("kernel %s, initrd %s, %d MiB RAM, 1 vCPU, %d runs each (interleaved); device %s"
          % (os.path.basename(args.kernel), os.path.basename(args.initrd), args.memory,
             args.runs, args.bdf))
    print("fio libaio, O_DIRECT, %d s + %d s ramp per job; seq iodepth %d, rand iodepth %d"
          % (args.runtime, args.ramp, args.seq_qd, args.rand_qd))
    print("qemu = -M %s -accel kvm -device vfio-pci" % args.qemu_machine)
    print()
    cols = [("boot_s", "boot s"), ("guest_uptime_at_marker_s", "guest s")] + \
        [(j, "%s %s" % (METRICS[j][0], METRICS[j][1])) for j in JOBS]
    print("%-22s" % "median" + "".join("%20s" % label for _, label in cols))
    for variant, s in summary.items():
        print("%-22s" % variant + "".join("%20.2f" % s["median"][key] if key.endswith("_s")
                                          else "%20.1f" % s["median"][key] for key, _ in cols))
    ratios = {}
    if "mini-vmm" in summary and "qemu" in summary:
        m, q = summary["mini-vmm"]["median"], summary["qemu"]["median"]
        # Throughput: higher is better; boot: mini-vmm's time over QEMU's.
        ratios = {key: m[key] / q[key] for key, _ in cols if q[key]}
        print("%-22s" % "ratio mini-vmm/qemu" + "".join(
            "%20s" % ("%.2fx" % ratios[key]) for key, _ in cols))
    return ratios


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mini-vmm", required=True)
    parser.add_argument("--qemu", default="qemu-system-x86_64")
    parser.add_argument("--qemu-machine", default="microvm,pcie=on,rtc=on")
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--initrd", required=True, help="the bench initramfs (with fio)")
    parser.add_argument("--bdf", default=os.environ.get("MINI_VMM_VFIO_BDF", ""))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory", type=int, default=256,
                        help="guest RAM, MiB (VFIO pins all of it)")
    parser.add_argument("--runtime", type=int, default=5, help="seconds per fio job")
    parser.add_argument("--ramp", type=int, default=1, help="seconds of ramp per fio job")
    parser.add_argument("--seq-qd", type=int, default=4, help="iodepth of the 1 MiB job")
    parser.add_argument("--rand-qd", type=int, default=16, help="iodepth of the 4 KiB job")
    parser.add_argument("--variants", default="auto",
                        help="comma-separated mini-vmm,qemu; auto: mini-vmm only if it has --vfio")
    parser.add_argument("--timeout", type=float, default=600, help="per VM run, seconds")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if not args.bdf:
        parser.error("no device: run under scripts/nested --vfio-nvme (or give --bdf)")

    if args.variants == "auto":
        help_text = subprocess.run([args.mini_vmm, "run", "--help"], capture_output=True,
                                   text=True).stdout
        variants = ["mini-vmm", "qemu"] if "--vfio" in help_text else ["qemu"]
        if "mini-vmm" not in variants:
            print("note: %s has no --vfio option yet: measuring QEMU only" % args.mini_vmm,
                  flush=True)
    else:
        variants = args.variants.split(",")
        if any(v not in ("mini-vmm", "qemu") for v in variants):
            parser.error("--variants takes mini-vmm and qemu")

    results = {v: [] for v in variants}
    for i in range(args.runs):
        # Rotate who goes first, so no VMM always gets the fresher L1.
        shift = i % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            result = run_one(variant, args)
            results[variant].append(result)
            print_run(i + 1, variant, result)

    summary = summarize(results)
    ratios = print_summary(summary, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "ratios": ratios, "kernel": args.kernel,
                       "initrd": args.initrd, "memory_mib": args.memory, "bdf": args.bdf,
                       "qemu_machine": args.qemu_machine,
                       "fio": {"engine": "libaio", "runtime_s": args.runtime,
                               "ramp_s": args.ramp, "seq_iodepth": args.seq_qd,
                               "rand_iodepth": args.rand_qd, "direct": True}},
                      f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
