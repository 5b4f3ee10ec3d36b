#!/usr/bin/env python3
"""Boot-time benchmark: mini-vmm against QEMU microvm, same kernel and
initramfs, inside one machine (the nested L1 when there is no hardware
virtualization). Runs are interleaved (later boots in one L1 are slower,
nested-notes item 12) and timed from process spawn to the guest's boot
marker (byte 123 written to I/O port 0x3f0 by the test /init):
  - mini-vmm reports it with --boot-timer; we time the line's arrival;
  - QEMU gets an isa-debugcon on port 0x3f0 writing to a file we poll.
RSS outside guest RAM is read from /proc/PID/smaps at the marker: VmRSS
minus the resident part of the guest-RAM mapping.
"""

import argparse
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time

MARKER_BYTE = b"{"  # 123
CMDLINE = "console=ttyS0 reboot=k panic=-1 quiet io_delay=none"


def smaps_rss_kib(pid, guest_ram_bytes, ram_name):
    """(total RSS, RSS of the guest RAM mapping, private RSS outside guest
    RAM) in KiB. Private (Private_Clean + Private_Dirty) leaves out shared
    library pages that every process on the host shares."""
    total = 0
    ram = 0
    private = 0
    current_is_ram = False
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5:  # A mapping header.
                start, end = (int(x, 16) for x in fields[0].split("-"))
                name = fields[5] if len(fields) > 5 else ""
                size = end - start
                if ram_name:
                    current_is_ram = ram_name in name
                else:  # QEMU: guest RAM is one anonymous mapping of its size.
                    current_is_ram = name == "" and size >= guest_ram_bytes
            elif fields[0] == "Rss:":
                kib = int(fields[1])
                total += kib
                if current_is_ram:
                    ram += kib
            elif fields[0] in ("Private_Clean:", "Private_Dirty:") and not current_is_ram:
                private += int(fields[1])
    return total, ram, private


def wait_for_marker_minivmm(proc, deadline):
    buffer = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 0.5)
        if ready:
            chunk = os.read(proc.stderr.fileno(), 4096)
            if not chunk:
                return False
            buffer += chunk
            if b"guest boot marker" in buffer:
                return True
        elif proc.poll() is not None:
            return False
    return False


def wait_for_marker_file(path, proc, deadline):
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                if MARKER_BYTE in f.read():
                    return True
        except FileNotFoundError:
            pass
        if proc.poll() is not None:
            return False
        time.sleep(0.002)
    return False


def run_one(vmm, args, kernel, initrd, memory_mib, cpus, timeout):
    with tempfile.TemporaryDirectory() as tmp:
        marker = os.path.join(tmp, "marker")
        if vmm == "mini-vmm":
            argv = [args.mini_vmm, "run", "--kernel", kernel, "--initrd", initrd,
                    "--memory", "%dM" % memory_mib, "--cpus", str(cpus),
                    "--cmdline", CMDLINE, "--boot-timer"]
            ram_name = "memfd:mini-vmm-guest-ram"
        else:
            argv = [args.qemu, "-M", "microvm", "-accel", "kvm", "-cpu", "host",
                    "-m", "%d" % memory_mib, "-smp", str(cpus), "-nodefaults",
                    "-no-user-config", "-nographic", "-no-reboot",
                    "-serial", "stdio", "-kernel", kernel, "-initrd", initrd,
                    "-append", CMDLINE, "-chardev", "file,id=marker,path=" + marker,
                    "-device", "isa-debugcon,iobase=0x3f0,chardev=marker"]
            ram_name = None
        start = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        deadline = start + timeout
        try:
            if vmm == "mini-vmm":
                ok = wait_for_marker_minivmm(proc, deadline)
            else:
                ok = wait_for_marker_file(marker, proc, deadline)
            elapsed = time.monotonic() - start
            if not ok:
                raise RuntimeError("%s: no boot marker (exit %s): %s" % (
                    vmm, proc.poll(), proc.stderr.read().decode(errors="replace")[-2000:]))
            total, ram, private = smaps_rss_kib(proc.pid, memory_mib << 20, ram_name)
        finally:
            proc.kill()
            proc.wait()
        return elapsed, total - ram, private


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mini-vmm", required=True)
    parser.add_argument("--qemu", default="qemu-system-x86_64")
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--initrd", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--memory", type=int, default=512, help="MiB")
    parser.add_argument("--cpus", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    results = {"mini-vmm": [], "qemu-microvm": []}
    for i in range(args.runs):
        # Alternate which goes first, so neither always gets the fresher L1.
        order = ["mini-vmm", "qemu-microvm"] if i % 2 == 0 else ["qemu-microvm", "mini-vmm"]
        for vmm in order:
            seconds, rss_kib, private_kib = run_one(vmm, args, args.kernel, args.initrd,
                                                    args.memory, args.cpus, args.timeout)
            results[vmm].append({"seconds": seconds, "rss_outside_ram_kib": rss_kib,
                                 "private_outside_ram_kib": private_kib})
            print("run %d %-13s boot-to-marker %6.2f s   outside guest RAM: RSS %6.0f KiB,"
                  " private %6.0f KiB" % (i + 1, vmm, seconds, rss_kib, private_kib), flush=True)

    summary = {}
    for vmm, runs in results.items():
        summary[vmm] = {
            "median_seconds": statistics.median(r["seconds"] for r in runs),
            "median_rss_outside_ram_kib": statistics.median(r["rss_outside_ram_kib"] for r in runs),
            "median_private_outside_ram_kib":
                statistics.median(r["private_outside_ram_kib"] for r in runs),
            "runs": runs,
        }
    ratio = summary["mini-vmm"]["median_seconds"] / summary["qemu-microvm"]["median_seconds"]
    print()
    print("kernel %s, initrd %s, %d MiB, %d vCPU(s), %d runs each"
          % (os.path.basename(args.kernel), os.path.basename(args.initrd), args.memory,
             args.cpus, args.runs))
    for vmm in ("mini-vmm", "qemu-microvm"):
        s = summary[vmm]
        print("%-13s median boot-to-marker %6.2f s; outside guest RAM: RSS %7.0f KiB,"
              " private %7.0f KiB" % (vmm, s["median_seconds"], s["median_rss_outside_ram_kib"],
                                      s["median_private_outside_ram_kib"]))
    print("ratio mini-vmm / qemu-microvm boot time: %.2f" % ratio)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "ratio": ratio, "cpus": args.cpus,
                       "memory_mib": args.memory, "kernel": args.kernel}, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
