#!/bin/sh
# Runs inside the bench/net guest (busybox sh, from the initramfs that
# bench/net_initramfs.py builds; the test /init starts it through mvm_cmd64):
# brings eth0 up, waits for the iperf3 server on the host side of the tap,
# then runs four iperf3 client tests one after the other and prints one
# line per test on the console. Nothing is printed while a test runs:
# console output costs VM exits, which would steal the single vCPU.
#
#   sh /bench/net_guest.sh SECONDS OMIT HOST_IP GUEST_IP PORT
#
# Tests (iperf3 --json, -t SECONDS -O OMIT, one stream):
#   tcp-g2h  TCP, guest sends          tcp-h2g  TCP, host sends (-R)
#   udp-g2h  UDP, 64-byte payloads, unlimited rate (-u -l 64 -b 0)
#   udp-h2g  the same, host sends (-R)
#
# Output lines (all start with "bench-net: "; bench/netbench.py parses them):
#   irqchips CHIP:NAME,...       the virtio interrupt lines (MSI-X or not)
#   irq BEFORE AFTER NAME        virtio interrupts around the test
#   result NAME STATUS JSON ERR  iperf3's exit status, its JSON output and
#                                its stderr, each gzip'd and in base64
#   error TEXT                   something failed; the run is invalid
set -u

seconds=$1 omit=$2 host=$3 guest=$4 port=$5
out=/tmp/bench-net
mkdir -p "$out"

say() {
  echo "bench-net: $*"
}

# Interrupts of every virtio device (one vCPU: the count is column 2).
virtio_irqs() {
  awk '/virtio/ { n += $2 } END { print n + 0 }' /proc/interrupts
}

if ! ip link set eth0 up || ! ip addr add "$guest/24" dev eth0; then
  say "error eth0 setup failed (virtio_net not loaded, or no NIC attached)"
  exit 1
fi
# The server may still be starting; the link needs a moment too.
tries=0
until ping -c 1 -W 1 "$host" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ $tries -ge 30 ]; then
    say "error $host does not answer ping"
    exit 1
  fi
done

# run_test NAME IPERF3-ARGS...: one iperf3 run, its JSON kept in $out.
run_test() {
  name=$1
  shift
  before=$(virtio_irqs)
  iperf3 -c "$host" -p "$port" -t "$seconds" -O "$omit" --json "$@" \
    >"$out/$name.json" 2>"$out/$name.err"
  echo "$?" >"$out/$name.status"
  echo "$before $(virtio_irqs)" >"$out/$name.irq"
}

run_test tcp-g2h
run_test tcp-h2g -R
run_test udp-g2h -u -l 64 -b 0
run_test udp-h2g -u -l 64 -b 0 -R

say "irqchips $(awk '/virtio/ { printf "%s%s:%s", sep, $3, $NF; sep = "," }' /proc/interrupts)"
for name in tcp-g2h tcp-h2g udp-g2h udp-h2g; do
  say "irq $(cat "$out/$name.irq") $name"
  say "result $name $(cat "$out/$name.status") $(gzip -9 <"$out/$name.json" | base64 -w 0)" \
    "$(gzip -9 <"$out/$name.err" | base64 -w 0)"
done
