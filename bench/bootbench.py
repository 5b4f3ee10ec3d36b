#!/usr/bin/env python3
"""Boot-time benchmark: mini-vmm against QEMU microvm, same kernel and
initramfs, inside one machine (the nested L1 when there is no hardware
virtualization). Runs are interleaved, rotating which VMM goes first (later
boots in one L1 are slower, nested-notes item 12), and timed from process
spawn to the guest's boot marker (byte 123 written to I/O port 0x3f0 by the
test /init):
  - mini-vmm reports it with --boot-timer; we time the line's arrival;
  - QEMU gets an isa-debugcon on port 0x3f0 writing to a file we poll.
QEMU runs twice per round: as a user who benchmarks it would configure it
(`-M microvm,rtc=on`: without an RTC, the guest's rtc_cmos probe stalls for
seconds under KVM) and with microvm's defaults, labelled as such. The
guest's own uptime at the marker (printed by /init) is reported beside the
wall time, so the VMM's share and the guest's share are apart.
--variant LABEL=ARGS adds mini-vmm with extra arguments to the rotation
(e.g. `--variant "gdb=--gdb 127.0.0.1:23456"`: the GDB stub listening, no
client), reported as a ratio to plain mini-vmm; --vmms picks which of the
base VMMs run (e.g. only mini-vmm, for a variant's cost alone).
--devices gives every VM one virtio-blk disk (a 16 MiB raw image in this
script's temporary folder) and one virtio-net NIC on a tap that this script
creates in this machine (no address, nothing routed or bridged: no packet
leaves it), on virtio-mmio; it adds mini-vmm with transport=pci for both
devices (mini-vmm-pci) and QEMU -M microvm,rtc=on,pcie=on with
virtio-blk-pci and virtio-net-pci (qemu-rtc-pcie), and prints the ratios
issue 10 sets targets for (PCI within 10 % of MMIO, below QEMU). The test
/init loads the virtio modules (insmod probes synchronously) before the
marker; after the marker (not timed) the guest prints which driver each
virtio device is bound to, and a run whose disk and NIC are not bound to
virtio_blk and virtio_net fails. --guest-dmesg prints the guest's dmesg
lines about virtio, vda, eth0 and PCI from each VMM's first run.
--dmesg-dir DIR writes every run's whole guest dmesg, with the kernel's
timestamps, to DIR/<vmm>-run<N>.txt (sent gzipped and base64-encoded over
the console after the marker, so it costs no timed serial output), for
comparing the guests' boot timelines (bench/dmesgdiff.py). --append TEXT
adds TEXT to every VMM's kernel command line alike, for diagnosis (e.g.
initcall_debug, whose per-initcall durations dmesgdiff.py compares).
mini-vmm decompresses a bzImage on the host and caches the result (README,
"Kernel decompression"): plain mini-vmm boots with a cache that an untimed
boot warmed before the first round (the second and later boots of a
kernel), mini-vmm-cold with an empty cache directory every run (the first
boot). Where mini-vmm decides not to cache a payload (a fast decoder on a
CPU without SHA extensions, e.g. LZ4 in the TCG L1) both decompress and
the two should match.
RSS outside guest RAM is read from /proc/PID/smaps at the marker: VmRSS
minus the resident part of the guest-RAM mapping(s), whose huge-page share
is reported too.
"""

import argparse
import base64
import gzip
import json
import os
import re
import shlex
import select
import statistics
import subprocess
import sys
import tempfile
import time

MARKER_BYTE = b"{"  # 123
CMDLINE = "console=ttyS0 reboot=k panic=-1 quiet io_delay=none"


# name: (argv builder key, description)
VMMS = {
    "mini-vmm": "mini-vmm (defaults; kernel cache warm)",
    "mini-vmm-cold": "mini-vmm (defaults; first boot of the kernel: empty kernel cache)",
    "qemu-rtc": "QEMU -M microvm,rtc=on (best configured)",
    "qemu-default": "QEMU -M microvm (its defaults: no RTC)",
}
# Added to the rotation by --devices.
DEVICE_VMMS = {
    "mini-vmm-pci": "mini-vmm, disk and NIC with transport=pci",
    "qemu-rtc-pcie": "QEMU -M microvm,rtc=on,pcie=on, virtio-blk-pci + virtio-net-pci",
}
DEVICE_DESCRIPTIONS = {
    "mini-vmm": "mini-vmm, disk and NIC on virtio-mmio (default transport), kernel cache warm",
    "qemu-rtc": "QEMU -M microvm,rtc=on, virtio-blk-device + virtio-net-device (mmio)",
    "qemu-default": "QEMU -M microvm (its defaults: no RTC), virtio-*-device (mmio)",
}
DEFAULT_VMMS = ",".join(VMMS)
UPTIME_RE = re.compile(rb"boot marker at guest uptime ([0-9.]+)s")
TAP = "mvmboot0"
MAC = "52:54:00:12:34:58"
DISK_MIB = 16
# Run by the test /init after the marker (mvm_cmd64): the driver of every
# virtio device, then, for --guest-dmesg, the kernel's lines about them.
CHECK_SCRIPT = r"""
for d in /sys/bus/virtio/devices/*; do
  drv=none
  [ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
  echo "bench-boot: bound $(basename "$d") device $(cat "$d/device") driver $drv"
done
echo "bench-boot: done"
"""
DMESG_SCRIPT = r"""
dmesg | grep -iE 'virtio|vda|eth0|pci' | sed 's/^/bench-boot: dmesg /'
"""
# --dmesg-dir: the whole ring buffer, after the marker.
FULL_DMESG_SCRIPT = r"""
echo "bench-boot: dmesg-begin"
dmesg | gzip -9 | base64
echo "bench-boot: dmesg-end"
"""
FULL_DMESG_RE = re.compile(rb"bench-boot: dmesg-begin\r?\n(.*?)bench-boot: dmesg-end", re.S)
BOUND_RE = re.compile(rb"bench-boot: bound (\S+) device (\S+) driver (\S+)")
# virtio device IDs (virtio 1.2 section 5): 1 network card, 2 block device.
EXPECTED_DRIVERS = {"0x0001": "virtio_net", "0x0002": "virtio_blk"}


def smaps_rss_kib(pid, guest_ram_bytes):
    """(total RSS, RSS of guest RAM, RSS of guest RAM on huge pages, private
    RSS outside guest RAM) in KiB. Guest RAM is the anonymous mapping(s) of
    at least the RAM size below 3 GiB, or mini-vmm's named memfd. Private
    (Private_Clean + Private_Dirty) leaves out shared library pages that
    every process on the host shares."""
    total = 0
    ram = 0
    ram_huge = 0
    private = 0
    current_is_ram = False
    low_ram = min(guest_ram_bytes, 3 << 30)
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5:  # A mapping header.
                start, end = (int(x, 16) for x in fields[0].split("-"))
                name = fields[5] if len(fields) > 5 else ""
                size = end - start
                current_is_ram = ("mini-vmm-guest-ram" in name or
                                  (name == "" and size >= low_ram))
            elif fields[0] == "Rss:":
                kib = int(fields[1])
                total += kib
                if current_is_ram:
                    ram += kib
            elif fields[0] in ("AnonHugePages:", "ShmemPmdMapped:") and current_is_ram:
                ram_huge += int(fields[1])
            elif fields[0] in ("Private_Clean:", "Private_Dirty:") and not current_is_ram:
                private += int(fields[1])
    return total, ram, ram_huge, private


class Output:
    """Collects a child's stdout and stderr without ever blocking on them."""

    def __init__(self, proc):
        self.proc = proc
        self.data = {proc.stdout.fileno(): b"", proc.stderr.fileno(): b""}
        self.open = set(self.data)

    def pump(self, timeout):
        ready, _, _ = select.select(list(self.open), [], [], timeout) if self.open else ([], 0, 0)
        for fd in ready:
            chunk = os.read(fd, 65536)
            if chunk:
                self.data[fd] += chunk
            else:
                self.open.discard(fd)
        if not self.open:
            time.sleep(timeout)

    def text(self, stream):
        return self.data[stream.fileno()]


def wait_for(condition, out, deadline):
    while time.monotonic() < deadline:
        if condition():
            return True
        if out.proc.poll() is not None and not condition():
            out.pump(0)
            return condition()
        out.pump(0.002)
    return False


def marker_in_file(path):
    try:
        with open(path, "rb") as f:
            return MARKER_BYTE in f.read()
    except FileNotFoundError:
        return False


def vmm_env(vmm, args, tmp):
    """mini-vmm's kernel cache: the bench's warm one, or a fresh empty one."""
    env = dict(os.environ)
    if is_mini_vmm(vmm):
        env["XDG_CACHE_HOME"] = tmp if vmm == "mini-vmm-cold" else args.warm_cache
    return env


def is_mini_vmm(vmm):
    return vmm in ("mini-vmm", "mini-vmm-cold", "mini-vmm-pci") or vmm.startswith("mini-vmm+")


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True)


def make_tap():
    delete_tap()
    sh("ip", "tuntap", "add", "dev", TAP, "mode", "tap")
    sh("ip", "link", "set", TAP, "up")


def delete_tap():
    subprocess.run(["ip", "link", "del", TAP], capture_output=True)


def cmdline(args):
    base = CMDLINE + (" " + args.append if args.append else "")
    script = FULL_DMESG_SCRIPT if args.dmesg_dir else ""
    if args.devices:
        script += (DMESG_SCRIPT if args.guest_dmesg else "") + CHECK_SCRIPT
    if not script:
        return base
    return base + " mvm_cmd64=" + base64.b64encode(script.encode()).decode()


def device_argv(vmm, args):
    """The disk and NIC arguments of --devices (none without it)."""
    if not args.devices:
        return []
    if is_mini_vmm(vmm):
        transport = ",transport=pci" if vmm == "mini-vmm-pci" else ""
        return ["--disk", "path=%s%s" % (args.disk, transport),
                "--net", "tap=%s,mac=%s%s" % (TAP, MAC, transport)]
    kind = "pci" if vmm == "qemu-rtc-pcie" else "device"
    return ["-drive", "file=%s,format=raw,if=none,id=d0" % args.disk,
            "-device", "virtio-blk-%s,drive=d0" % kind,
            "-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no" % TAP,
            "-device", "virtio-net-%s,netdev=n0,mac=%s" % (kind, MAC)]


def vmm_argv(vmm, args, marker):
    if is_mini_vmm(vmm):
        extra = shlex.split(args.variants[vmm]) if vmm in args.variants else []
        return [args.mini_vmm, "run", "--kernel", args.kernel, "--initrd", args.initrd,
                "--memory", "%dM" % args.memory, "--cpus", str(args.cpus),
                "--cmdline", cmdline(args), "--boot-timer"] + device_argv(vmm, args) + extra
    machine = {"qemu-rtc": "microvm,rtc=on", "qemu-rtc-pcie": "microvm,rtc=on,pcie=on",
               "qemu-default": "microvm"}[vmm]
    return [args.qemu, "-M", machine, "-accel", "kvm", "-cpu", "host",
            "-m", "%d" % args.memory, "-smp", str(args.cpus), "-nodefaults",
            "-no-user-config", "-nographic", "-no-reboot",
            "-serial", "stdio", "-kernel", args.kernel, "-initrd", args.initrd,
            "-append", cmdline(args), "-chardev", "file,id=marker,path=" + marker,
            "-device", "isa-debugcon,iobase=0x3f0,chardev=marker"] + device_argv(vmm, args)


def check_devices(vmm, out, first, args):
    """After the marker: wait for the guest's list of bound virtio devices
    and fail unless the disk and the NIC are bound to their drivers."""
    wait_for(lambda: b"bench-boot: done" in out.text(out.proc.stdout), out,
             time.monotonic() + 30)
    stdout = out.text(out.proc.stdout)
    bound = {device.decode(): driver.decode() for _, device, driver in BOUND_RE.findall(stdout)}
    if sorted(bound.items()) != sorted(EXPECTED_DRIVERS.items()):
        raise RuntimeError("%s: virtio devices not bound as expected %s: %s\n%s" % (
            vmm, EXPECTED_DRIVERS, bound, stdout.decode(errors="replace")[-3000:]))
    if first and args.guest_dmesg:
        for line in stdout.decode(errors="replace").replace("\r", "").split("\n"):
            if line.startswith("bench-boot: "):
                print("%s guest: %s" % (vmm, line[len("bench-boot: "):]), flush=True)
    return bound


def save_dmesg(vmm, out, run, args):
    """After the marker: wait for the guest's whole dmesg and write it to
    args.dmesg_dir/<vmm>-run<run>.txt."""
    wait_for(lambda: FULL_DMESG_RE.search(out.text(out.proc.stdout)), out,
             time.monotonic() + 60)
    found = FULL_DMESG_RE.search(out.text(out.proc.stdout))
    if not found:
        raise RuntimeError("%s: no dmesg from the guest" % vmm)
    text = gzip.decompress(base64.b64decode(found.group(1).replace(b"\r", b"")))
    with open(os.path.join(args.dmesg_dir, "%s-run%d.txt" % (vmm, run)), "wb") as f:
        f.write(text)


def run_one(vmm, args, first, run=1, let_exit=False):
    with tempfile.TemporaryDirectory() as tmp:
        marker = os.path.join(tmp, "marker")
        if args.devices:
            make_tap()  # afresh for every VM, as every VMM finds it
        start = time.monotonic()
        proc = subprocess.Popen(vmm_argv(vmm, args, marker), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=vmm_env(vmm, args, tmp))
        out = Output(proc)
        deadline = start + args.timeout
        try:
            if is_mini_vmm(vmm):
                reached = lambda: b"guest boot marker" in out.text(proc.stderr)
            else:
                reached = lambda: marker_in_file(marker)
            ok = wait_for(reached, out, deadline)
            elapsed = time.monotonic() - start
            if not ok:
                raise RuntimeError("%s: no boot marker (exit %s): %s" % (
                    vmm, proc.poll(), out.text(proc.stderr).decode(errors="replace")[-2000:]))
            total, ram, ram_huge, private = smaps_rss_kib(proc.pid, args.memory << 20)
            # /init prints its uptime just before the marker; the serial line
            # may still be on its way.
            wait_for(lambda: UPTIME_RE.search(out.text(proc.stdout)), out,
                     time.monotonic() + 10)
            found = UPTIME_RE.search(out.text(proc.stdout))
            uptime = float(found.group(1)) if found else None
            if args.dmesg_dir:
                save_dmesg(vmm, out, run, args)
            if args.devices:
                check_devices(vmm, out, first, args)
        finally:
            if let_exit:
                # The test /init powers off after the marker; mini-vmm then
                # finishes what it does in the background (the cache entry).
                try:
                    proc.wait(timeout=args.timeout)
                except subprocess.TimeoutExpired:
                    pass
            proc.kill()
            proc.wait()
            if args.devices:
                delete_tap()
        return {"seconds": elapsed, "guest_uptime_seconds": uptime,
                "rss_outside_ram_kib": total - ram, "private_outside_ram_kib": private,
                "ram_resident_kib": ram, "ram_huge_kib": ram_huge}


def median_of(runs, key):
    values = [r[key] for r in runs if r[key] is not None]
    return statistics.median(values) if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mini-vmm", required=True)
    parser.add_argument("--qemu", default="qemu-system-x86_64")
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--initrd", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--memory", type=int, default=256, help="MiB")
    parser.add_argument("--cpus", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--vmms", default=DEFAULT_VMMS,
                        help="comma-separated base VMMs to run (default: all)")
    parser.add_argument("--variant", action="append", default=[], metavar="LABEL=ARGS",
                        help="also run mini-vmm with ARGS added, as mini-vmm+LABEL")
    parser.add_argument("--devices", action="store_true",
                        help="a virtio-blk disk and a virtio-net NIC in every VM; adds"
                        " mini-vmm-pci and qemu-rtc-pcie")
    parser.add_argument("--guest-dmesg", action="store_true",
                        help="with --devices: print the guest's dmesg about its devices")
    parser.add_argument("--dmesg-dir", help="write each run's whole guest dmesg here")
    parser.add_argument("--append", help="add to every VMM's kernel command line (diagnosis)")
    parser.add_argument("--command", help="printed as the reproducer")
    args = parser.parse_args()
    if args.guest_dmesg and not args.devices:
        parser.error("--guest-dmesg needs --devices")
    if args.dmesg_dir:
        os.makedirs(args.dmesg_dir, exist_ok=True)
    if args.devices:
        if os.geteuid() != 0:
            parser.error("--devices must run as root (it creates a tap)")
        VMMS.update(DEVICE_VMMS)
        VMMS.update(DEVICE_DESCRIPTIONS)
        if args.vmms == DEFAULT_VMMS:
            args.vmms = ",".join(VMMS)

    args.variants = {}
    for spec in args.variant:
        label, sep, extra = spec.partition("=")
        if not sep or not label:
            parser.error("--variant wants LABEL=ARGS, not %r" % spec)
        args.variants["mini-vmm+" + label] = extra
        VMMS["mini-vmm+" + label] = "mini-vmm " + extra
    names = ["mini-vmm"] + [v for v in args.vmms.split(",") if v != "mini-vmm"]
    for vmm in names:
        if vmm not in VMMS:
            parser.error("unknown VMM %r (one of %s)" % (vmm, ", ".join(VMMS)))
    names += list(args.variants)
    if args.variants and os.environ.get("MINI_VMM_IN_L1") == "1":
        # scripts/nested's L1 has no network, not even loopback, up; a
        # variant may listen on it (--gdb).
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    results = {vmm: [] for vmm in names}
    work = tempfile.TemporaryDirectory(prefix="bench-boot-")
    if args.devices:
        args.disk = os.path.join(work.name, "disk.img")
        with open(args.disk, "wb") as f:
            f.truncate(DISK_MIB << 20)
    args.warm_cache = os.path.join(work.name, "cache")
    os.makedirs(args.warm_cache)
    try:
        warm_kernel_cache(args)
        run_all(names, results, args)
    finally:
        delete_tap()
        work.cleanup()
    report(names, results, args)


def warm_kernel_cache(args):
    """One untimed mini-vmm boot that fills the warm cache, if mini-vmm
    caches this kernel here at all. It runs until the guest powers off, so
    the entry, which a background thread writes while the guest boots and
    mini-vmm finishes at exit, is complete however busy the machine was."""
    r = run_one("mini-vmm", args, first=False, let_exit=True)
    cache = os.path.join(args.warm_cache, "mini-vmm")
    entries = [f for f in os.listdir(cache) if f.endswith(".vmlinux")] \
        if os.path.isdir(cache) else []
    print("warm-up boot %.2f s; kernel cache: %s" % (
        r["seconds"], "1 entry" if entries else
        "empty (mini-vmm does not cache this kernel here: warm and cold boots both decompress)"),
        flush=True)


def run_all(names, results, args):
    for i in range(args.runs):
        # Rotate which goes first, so none always gets the fresher L1.
        order = names[i % len(names):] + names[:i % len(names)]
        for vmm in order:
            r = run_one(vmm, args, first=(i == 0), run=i + 1)
            results[vmm].append(r)
            print("run %d %-13s boot-to-marker %6.2f s (guest uptime %s s)  outside guest RAM:"
                  " RSS %6.0f KiB, private %6.0f KiB; guest RAM %4.0f MiB, %3.0f%% on huge pages"
                  % (i + 1, vmm, r["seconds"], "%.2f" % r["guest_uptime_seconds"]
                     if r["guest_uptime_seconds"] is not None else "?", r["rss_outside_ram_kib"],
                     r["private_outside_ram_kib"], r["ram_resident_kib"] / 1024,
                     100.0 * r["ram_huge_kib"] / max(r["ram_resident_kib"], 1)), flush=True)


# --devices: (ours, peer, issue 10's target for ours / peer, or None).
DEVICE_PAIRS = (
    ("mini-vmm-pci", "mini-vmm", "<= 1.10"),
    ("qemu-rtc-pcie", "qemu-rtc", None),
    ("mini-vmm", "qemu-rtc", None),
    ("mini-vmm-pci", "qemu-rtc", "< 1.00"),
    ("mini-vmm-pci", "qemu-rtc-pcie", "< 1.00"),
    ("mini-vmm", "qemu-default", None),
)


def print_device_ratios(results, summary):
    """Ratios of medians, boot-to-marker and guest uptime, with the median
    of the per-round ratios beside (both of one round ran close in time)."""
    print("--devices ratios: boot-to-marker (median of per-round ratios), guest uptime,"
          " [issue 10 target]")
    ratios = {}
    for ours, peer, target in DEVICE_PAIRS:
        if ours not in summary or peer not in summary:
            continue
        wall = summary[ours]["seconds"] / summary[peer]["seconds"]
        paired = statistics.median(r["seconds"] / p["seconds"]
                                   for r, p in zip(results[ours], results[peer]))
        guest = summary[ours]["guest_uptime_seconds"] / summary[peer]["guest_uptime_seconds"]
        label = "%s / %s" % (ours, peer)
        ratios[label] = {"seconds": wall, "paired_seconds": paired, "guest_uptime": guest,
                         "target": target}
        print("  %-30s %.3f (%.3f)  guest uptime %.3f  %s"
              % (label, wall, paired, guest, "[%s]" % target if target else ""))
    return ratios


def report(names, results, args):
    summary = {}
    for vmm, runs in results.items():
        summary[vmm] = {key: median_of(runs, key) for key in runs[0]}
        summary[vmm]["description"] = VMMS[vmm]
        summary[vmm]["runs"] = runs
    # mini-vmm over each other VMM; each variant over plain mini-vmm.
    ratios = {other: summary["mini-vmm"]["seconds"] / summary[other]["seconds"]
              for other in names[1:] if not is_mini_vmm(other)}
    cold_ratios = {other: summary["mini-vmm-cold"]["seconds"] / summary[other]["seconds"]
                   for other in ratios if "mini-vmm-cold" in summary}
    variant_ratios = {v: summary[v]["seconds"] / summary["mini-vmm"]["seconds"]
                      for v in args.variants}
    # Each round's variant over the same round's mini-vmm: an L1 that slows
    # down over the session (or a busy host) moves both alike.
    paired_ratios = {v: statistics.median(r["seconds"] / base["seconds"]
                                          for r, base in zip(results[v], results["mini-vmm"]))
                     for v in args.variants}
    print()
    print("kernel %s, initrd %s, %d MiB, %d vCPU(s), %d runs each, medians"
          % (os.path.basename(args.kernel), os.path.basename(args.initrd), args.memory,
             args.cpus, args.runs))
    for vmm in names:
        s = summary[vmm]
        print("%-13s boot-to-marker %6.2f s, guest uptime at marker %6.2f s; outside guest RAM:"
              " RSS %7.0f KiB, private %7.0f KiB  [%s]"
              % (vmm, s["seconds"], s["guest_uptime_seconds"], s["rss_outside_ram_kib"],
                 s["private_outside_ram_kib"], VMMS[vmm]))
    for other, ratio in ratios.items():
        print("ratio mini-vmm / %-12s boot time: %.2f (kernel cache warm)" % (other, ratio))
    for other, ratio in cold_ratios.items():
        print("ratio mini-vmm-cold / %-7s boot time: %.2f (first boot: cache empty)"
              % (other, ratio))
    for variant, ratio in variant_ratios.items():
        print("ratio %s / mini-vmm boot time: %.3f (median of per-round ratios %.3f)"
              % (variant, ratio, paired_ratios[variant]))
    device_ratios = print_device_ratios(results, summary) if args.devices else {}
    if args.command:
        print("reproduce: %s" % args.command)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "ratios": ratios, "cold_ratios": cold_ratios,
                       "variant_ratios": variant_ratios,
                       "paired_variant_ratios": paired_ratios,
                       "device_ratios": device_ratios, "devices": args.devices,
                       "command": args.command, "cpus": args.cpus,
                       "memory_mib": args.memory, "kernel": args.kernel}, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
