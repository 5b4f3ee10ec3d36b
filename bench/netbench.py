#!/usr/bin/env python3
"""Network benchmark: virtio-net in mini-vmm against QEMU, same kernel, same
initramfs, inside one machine (the nested L1 when there is no hardware
virtualization). Rounds are interleaved, rotating which variant goes first
(later boots in one L1 are slower, nested-notes item 12).

The network is a tap that this script creates in this machine (L1) and
removes at exit, with HOST_IP on it; nothing is routed or bridged anywhere,
so no packet leaves this machine. For each run the tap is made afresh, an
iperf3 server (Debian's, the same binary the guest runs) listens on
HOST_IP, the VMM boots the guest, and the guest (bench/net_guest.sh) runs
four iperf3 client tests one after the other, each for --seconds after
--omit seconds of warm-up:
  tcp-g2h / tcp-h2g  TCP throughput guest->host / host->guest (-R), one
                     stream, as received (iperf3's sum_received)
  udp-g2h / udp-h2g  64-byte UDP payloads at unlimited rate (-b 0), one
                     stream: datagrams *received* per second (the sender's
                     rate is printed beside it; the rest was dropped)
Both ends share L1's single CPU with the VMM, as on a small host.

Variants (1 vCPU, 1 queue pair, same MAC, same guest RAM):
  mvm            mini-vmm userspace virtio-net, default transport (mmio)
  mvm-pci        mini-vmm userspace virtio-net, transport=pci (MSI-X)
  mvm-vhost      mini-vmm vhost=on, transport=pci (--vhost-transport mmio:
                 the default transport); "not available" when the binary
                 does not accept vhost=on or /dev/vhost-net is absent
  qemu           QEMU, -netdev tap,vhost=off + virtio-net-pci
  qemu-vhost     QEMU, -netdev tap,vhost=on + virtio-net-pci
  qemu-mmio      (only with --variants) QEMU, vhost=off + virtio-net-device
                 on plain microvm,rtc=on: the same transport as mvm
QEMU runs as bench/boot runs it (-M microvm,rtc=on -accel kvm -cpu host),
with pcie=on so that the NIC can be virtio-net-pci: a user after network
throughput picks PCI on QEMU, because QEMU's virtio-mmio has one interrupt
line per device, read through the ISR register (a VM exit per interrupt),
and QEMU does not wire it to an irqfd, so even vhost's interrupts pass
through QEMU's main loop; virtio-net-pci has MSI-X vectors on irqfds.
Both VMMs get a tap with a vnet header and offloads negotiated by the
guest (QEMU's defaults: vnet_hdr on when the tap supports it).

Ratios (mini-vmm / peer) and the targets from issue 10, printed beside
them, never asserted: userspace >= 1.0x QEMU userspace; vhost >= 1.0x QEMU
vhost and >= 2x our userspace (mvm-vhost against mvm-pci, or mvm with
--vhost-transport mmio: the same transport).
"""

import argparse
import base64
import gzip
import json
import os
import statistics
import subprocess
import sys
import time

CMDLINE = "console=ttyS0 reboot=k panic=-1 quiet io_delay=none"
TAP = "mvmbench0"
HOST_IP = "10.0.3.1"
GUEST_IP = "10.0.3.2"
MAC = "52:54:00:12:34:57"
PORT = 5201
TESTS = ("tcp-g2h", "tcp-h2g", "udp-g2h", "udp-h2g")
TITLES = {"tcp-g2h": "TCP g->h Mbit/s", "tcp-h2g": "TCP h->g Mbit/s",
          "udp-g2h": "UDP64 g->h kpps", "udp-h2g": "UDP64 h->g kpps"}
VARIANTS = ("mvm", "mvm-pci", "mvm-vhost", "qemu", "qemu-vhost", "qemu-mmio")
DEFAULT_VARIANTS = VARIANTS[:5]
DESCRIPTIONS = {
    "mvm": "mini-vmm, userspace virtio-net, transport=mmio (default)",
    "mvm-pci": "mini-vmm, userspace virtio-net, transport=pci",
    "mvm-vhost": "mini-vmm, vhost=on, transport=pci",
    "qemu": "QEMU microvm,rtc=on,pcie=on, -netdev tap,vhost=off, virtio-net-pci",
    "qemu-vhost": "QEMU microvm,rtc=on,pcie=on, -netdev tap,vhost=on, virtio-net-pci",
    "qemu-mmio": "QEMU microvm,rtc=on, -netdev tap,vhost=off, virtio-net-device (mmio)",
}
# (label, ours, peer, target)
PAIRS = (
    ("userspace: mvm/qemu", "mvm", "qemu", 1.0),
    ("userspace: mvm-pci/qemu", "mvm-pci", "qemu", 1.0),
    ("vhost: mvm-vhost/qemu-vhost", "mvm-vhost", "qemu-vhost", 1.0),
    ("ours: mvm-vhost/mvm-<same transport>", "mvm-vhost", None, 2.0),
    ("qemu's own: qemu-vhost/qemu", "qemu-vhost", "qemu", None),
    ("same transport: mvm/qemu-mmio", "mvm", "qemu-mmio", None),
)


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True)


def make_tap():
    delete_tap()
    sh("ip", "tuntap", "add", "dev", TAP, "mode", "tap")
    sh("ip", "addr", "add", HOST_IP + "/24", "dev", TAP)
    sh("ip", "link", "set", TAP, "up")


def delete_tap():
    subprocess.run(["ip", "link", "del", TAP], capture_output=True)


def vhost_net_options(args):
    return "vhost=on" + (",transport=pci" if args.vhost_transport == "pci" else "")


def mini_vmm_has_vhost(args):
    """Whether the binary accepts --net vhost=on (with transport=pci unless
    --vhost-transport mmio): it names an unknown key before it looks for
    the (absent) tap."""
    try:
        probe = subprocess.run(
            [args.mini_vmm, "run", "--kernel", args.kernel, "--net",
             "tap=mvmprobe9," + vhost_net_options(args)],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return False, "the probe run did not stop within 60 s"
    text = probe.stderr.decode(errors="replace")
    return "unknown key" not in text, text.strip()


def availability(args):
    """{variant: None if it can run, else why not}."""
    why = {v: None for v in VARIANTS}
    if not os.path.exists("/dev/vhost-net"):
        why["mvm-vhost"] = why["qemu-vhost"] = "no /dev/vhost-net in this machine"
    else:
        ok, text = mini_vmm_has_vhost(args)
        if not ok:
            why["mvm-vhost"] = "this mini-vmm does not accept %s (%s)" % (
                vhost_net_options(args), text)
    return why


def vmm_argv(variant, args, cmdline):
    if variant.startswith("mvm"):
        net = "tap=%s,mac=%s" % (TAP, MAC)
        if variant == "mvm-pci":
            net += ",transport=pci"
        if variant == "mvm-vhost":
            net += "," + vhost_net_options(args)
        return [args.mini_vmm, "run", "--kernel", args.kernel, "--initrd", args.initrd,
                "--memory", "%dM" % args.memory, "--cmdline", cmdline, "--net", net]
    vhost = "on" if variant == "qemu-vhost" else "off"
    machine, device = "microvm,rtc=on,pcie=on", "virtio-net-pci"
    if variant == "qemu-mmio":
        machine, device = "microvm,rtc=on", "virtio-net-device"
    return [args.qemu, "-M", machine, "-accel", "kvm", "-cpu", "host",
            "-m", str(args.memory), "-smp", "1", "-nodefaults", "-no-user-config",
            "-nographic", "-no-reboot", "-serial", "stdio", "-kernel", args.kernel,
            "-initrd", args.initrd, "-append", cmdline,
            "-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no,vhost=%s" % (TAP, vhost),
            "-device", "%s,netdev=n0,mac=%s" % (device, MAC)]


def unpack(text):
    return gzip.decompress(base64.b64decode(text)).decode(errors="replace") if text else ""


def figures(name, report):
    """The metric of one iperf3 client JSON report (plus the UDP send rate)."""
    end = report["end"]
    received = end["sum_received"]
    if name.startswith("tcp"):
        return {"value": received["bits_per_second"] / 1e6}
    blksize = report["start"]["test_start"]["blksize"]
    sent = end["sum_sent"]
    return {"value": received["bytes"] / blksize / received["seconds"] / 1e3,
            "sent_kpps": sent["packets"] / sent["seconds"] / 1e3,
            "lost_percent": received["lost_percent"]}


def parse_output(stdout):
    results = {}
    irqs = {}
    for line in stdout.replace("\r", "").split("\n"):
        if not line.startswith("bench-net: "):
            continue
        kind, _, rest = line[len("bench-net: "):].partition(" ")
        if kind == "error":
            raise RuntimeError("guest: " + rest)
        if kind == "irqchips":
            irqs["chips"] = rest
        elif kind == "irq":
            before, after, name = rest.split()
            irqs[name] = int(after) - int(before)
        elif kind == "result":
            fields = rest.split(" ")
            name, status = fields[0], int(fields[1])
            report_text = unpack(fields[2] if len(fields) > 2 else "")
            err = unpack(fields[3] if len(fields) > 3 else "")
            try:
                report = json.loads(report_text)
            except ValueError:
                report = {}
            if status != 0 or "error" in report:
                raise RuntimeError("iperf3 %s exited %d: %s %s" % (
                    name, status, report.get("error", ""), err.strip()[:500]))
            results[name] = figures(name, report)
    missing = [t for t in TESTS if t not in results]
    if missing:
        raise RuntimeError("no result for %s" % ", ".join(missing))
    chips = irqs.pop("chips", "?")
    for name, count in irqs.items():
        results[name]["interrupts"] = count
    results["irqchips"] = chips
    return results


def run_one(variant, args):
    command = "sh /bench/net_guest.sh %d %d %s %s %d" % (
        args.seconds, args.omit, HOST_IP, GUEST_IP, PORT)
    cmdline = CMDLINE + " mvm_cmd64=" + base64.b64encode(command.encode()).decode()
    timeout = args.boot_timeout + len(TESTS) * (args.seconds + args.omit + 30)
    make_tap()
    server = subprocess.Popen(["iperf3", "-s", "-B", HOST_IP, "-p", str(PORT)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    start = time.monotonic()
    try:
        proc = subprocess.run(vmm_argv(variant, args, cmdline), stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError("%s timed out after %d s; output:\n%s" % (
            variant, timeout, (e.stdout or b"").decode(errors="replace")[-3000:]))
    finally:
        server.kill()
        server.wait()
        delete_tap()
    seconds = time.monotonic() - start
    stdout = proc.stdout.decode(errors="replace")
    try:
        results = parse_output(stdout)
    except (RuntimeError, ValueError, KeyError) as e:
        raise RuntimeError("%s (exit %d): %s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            variant, proc.returncode, e, stdout[-3000:],
            proc.stderr.decode(errors="replace")[-3000:]))
    chips = results.pop("irqchips")
    return {"tests": results, "seconds": seconds, "irqchips": chips}


def fmt(name, value):
    return ("%.0f" if name.startswith("tcp") else "%.1f") % value


def print_run(index, variant, result):
    parts = []
    for t in TESTS:
        r = result["tests"][t]
        text = "%s %s" % (t, fmt(t, r["value"]))
        if "sent_kpps" in r:
            text += " (sent %.1f)" % r["sent_kpps"]
        parts.append(text)
    print("round %d %-10s %s   (whole VM %5.1f s)" % (index, variant, "  ".join(parts),
                                                     result["seconds"]), flush=True)


def summarize(results):
    summary = {}
    for variant, runs in results.items():
        s = {"runs": runs, "median": {}, "min": {}, "max": {}}
        for t in TESTS:
            values = [r["tests"][t]["value"] for r in runs]
            s["median"][t] = statistics.median(values)
            s["min"][t] = min(values)
            s["max"][t] = max(values)
        summary[variant] = s
    return summary


def state(variant, summary, missing):
    if variant in summary:
        return None
    if variant not in missing:
        return "not run"
    return "FAILED" if missing[variant].startswith("FAILED") else "not available"


def print_summary(summary, missing, args):
    print()
    print("kernel %s, initrd %s, %d MiB guest RAM, 1 vCPU, 1 queue pair; %d rounds, "
          "interleaved; iperf3 -t %d -O %d per test; server in this machine on %s"
          % (os.path.basename(args.kernel), os.path.basename(args.initrd), args.memory,
             args.rounds, args.seconds, args.omit, TAP))
    for variant in VARIANTS:
        print("  %-10s %s%s" % (variant, DESCRIPTIONS[variant],
                                ("; " if missing[variant].startswith("FAILED") else
                                 "; NOT AVAILABLE: ") + missing[variant] if variant in missing else
                                "" if variant in summary else "; not run (--variants)"))
    print()
    label = 30
    print("%-*s" % (label, "median (min-max)") + "".join("%22s" % TITLES[t] for t in TESTS))
    for variant in VARIANTS:
        if variant not in summary and variant not in missing:
            continue  # not asked for
        if variant not in summary:
            print("%-*s" % (label, variant) +
                  "".join("%22s" % state(variant, summary, missing) for _ in TESTS))
            continue
        s = summary[variant]
        print("%-*s" % (label, variant) + "".join(
            "%22s" % ("%s (%s-%s)" % (fmt(t, s["median"][t]), fmt(t, s["min"][t]),
                                      fmt(t, s["max"][t]))) for t in TESTS))
    print()
    print("%-*s" % (label, "ratio of medians [target]") + "".join("%22s" % t for t in TESTS))
    ratios = {}
    for text, ours, peer, target in PAIRS:
        if peer is None:  # our own userspace on the vhost variant's transport
            peer = "mvm-pci" if args.vhost_transport == "pci" else "mvm"
            text = text.replace("<same transport>", peer[4:] or "mmio").replace("mvm-mmio", "mvm")
        row = "%-*s" % (label, text)
        if any(v not in summary and v not in missing for v in (ours, peer)):
            continue  # not asked for
        if ours not in summary or peer not in summary:
            absent = state(ours, summary, missing) or state(peer, summary, missing)
            print(row + "".join("%22s" % ("n/a: " + absent) for _ in TESTS))
            continue
        ratios[text] = {}
        for t in TESTS:
            peer_median = summary[peer]["median"][t]
            ratio = summary[ours]["median"][t] / peer_median if peer_median else float("nan")
            ratios[text][t] = ratio
            cell = "%.2fx" % ratio
            if target is not None:
                cell += " [>=%.1f]" % target
            row += "%22s" % cell
        print(row)
    print()
    print("UDP rates are datagrams received; sender's median kpps for comparison:")
    for variant in summary:
        runs = summary[variant]["runs"]
        print("  %-10s g->h sent %.1f, h->g sent %.1f" % (variant, *[
            statistics.median(r["tests"][t]["sent_kpps"] for r in runs)
            for t in ("udp-g2h", "udp-h2g")]))
    print()
    print("The machine is shared and nested (TCG L1): expect +-30% noise; compare ratios,"
          " not absolute figures.")
    print("reproduce: %s" % args.command)
    print("guest virtio interrupts per test (median): " + "; ".join(
        "%s %s" % (v, "/".join("%.0f" % statistics.median(
            r["tests"][t].get("interrupts", 0) for r in summary[v]["runs"]) for t in TESTS))
        for v in summary))
    print("guest virtio interrupt lines (chip:name): " + "; ".join(
        "%s %s" % (v, summary[v]["runs"][0]["irqchips"]) for v in summary))
    return ratios


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mini-vmm", required=True)
    parser.add_argument("--qemu", default="qemu-system-x86_64")
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--initrd", required=True, help="the bench initramfs (with iperf3)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="per iperf3 test")
    parser.add_argument("--omit", type=int, default=1, help="warm-up seconds per test")
    parser.add_argument("--memory", type=int, default=512, help="guest RAM, MiB")
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                        help="comma-separated subset of " + ",".join(VARIANTS))
    parser.add_argument("--vhost-transport", default="pci", choices=("pci", "mmio"),
                        help="transport of mvm-vhost (pci, like qemu-vhost)")
    parser.add_argument("--boot-timeout", type=float, default=240)
    parser.add_argument("--command", default="bench/net", help="printed as the reproducer")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    wanted = [v for v in args.variants.split(",") if v]
    unknown = [v for v in wanted if v not in VARIANTS]
    if unknown:
        parser.error("unknown variant(s) %s" % ", ".join(unknown))
    if os.geteuid() != 0:
        parser.error("must run as root (it creates a tap)")

    DESCRIPTIONS["mvm-vhost"] = "mini-vmm, vhost=on, transport=%s" % args.vhost_transport
    why = availability(args)
    missing = {v: why[v] for v in wanted if why[v]}
    variants = [v for v in VARIANTS if v in wanted and not why[v]]
    for variant, reason in missing.items():
        print("%s: not available: %s" % (variant, reason), flush=True)
    results = {v: [] for v in variants}
    try:
        for i in range(args.rounds):
            shift = i % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                if variant in missing:
                    continue  # failed in an earlier round
                try:
                    result = run_one(variant, args)
                except RuntimeError as e:
                    # Keep the other variants' rounds; the failure is
                    # reported in full here, in the table and in the status.
                    print("round %d %s FAILED: %s" % (i + 1, variant, e), file=sys.stderr,
                          flush=True)
                    missing[variant] = "FAILED in round %d: %s" % (
                        i + 1, str(e).split("\n")[0][:300])
                    del results[variant]
                    continue
                results[variant].append(result)
                print_run(i + 1, variant, result)
    finally:
        delete_tap()

    summary = summarize(results)
    ratios = print_summary(summary, missing, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "ratios": ratios, "not_available": missing,
                       "descriptions": DESCRIPTIONS, "kernel": args.kernel,
                       "initrd": args.initrd, "memory_mib": args.memory,
                       "rounds": args.rounds, "seconds": args.seconds, "omit": args.omit,
                       "command": args.command}, f, indent=2)
    return 1 if any(reason.startswith("FAILED") for reason in missing.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
