#!/bin/sh
# Runs inside the bench/blk guest (busybox sh, from the bench initramfs that
# bench/blk_initramfs.py builds; the test /init starts it through mvm_cmd64):
# three fio jobs on /dev/vda with O_DIRECT, then one line per job on the
# console. Nothing is printed while a job runs: console output costs VM
# exits, which would steal the single vCPU from the job being measured.
#
#   sh /bench/blk_guest.sh RUNTIME RAMP SEQ_QD RAND_QD ENGINE
#
# Output lines (all start with "bench-blk: "; bench/blkbench.py parses them):
#   queue KEY=VALUE...          the block queue limits the driver chose
#   job NAME STAT_BEFORE | STAT_AFTER | IRQ_BEFORE IRQ_AFTER | TERSE
#       /sys/block/vda/stat before and after, the virtio interrupt count
#       before and after, and fio's terse (version 3) result line
#   error TEXT                  something failed; the run is invalid
set -u

runtime=$1 ramp=$2 seq_qd=$3 rand_qd=$4 engine=$5
dev=/dev/vda
fio="/opt/fio/lib/ld-linux-x86-64.so.2 --library-path /opt/fio/lib /opt/fio/bin/fio"
out=/tmp/bench-blk
mkdir -p "$out"

say() {
  echo "bench-blk: $*"
}

# Interrupts of every virtio device (one vCPU: the count is column 2).
virtio_irqs() {
  awk '/virtio/ { n += $2 } END { print n + 0 }' /proc/interrupts
}

if [ ! -b "$dev" ]; then
  say "error no $dev (virtio_blk not loaded, or no disk attached)"
  exit 1
fi

q=/sys/block/vda/queue
line="queue"
for key in max_sectors_kb max_hw_sectors_kb max_segments max_segment_size nr_requests \
  scheduler rotational; do
  line="$line $key=$(tr ' ' ',' <"$q/$key" 2>/dev/null)"
done
line="$line mq=$(ls /sys/block/vda/mq 2>/dev/null | wc -l)"

# job NAME RW BS QD: one time-based fio job on the whole disk.
job() {
  name=$1
  stat_before=$(cat /sys/block/vda/stat)
  irq_before=$(virtio_irqs)
  # shellcheck disable=SC2086 # $fio is a command line, split on purpose
  $fio --name="$name" --filename="$dev" --direct=1 --ioengine="$engine" --rw="$2" \
    --bs="$3" --iodepth="$4" --runtime="$runtime" --ramp_time="$ramp" --time_based \
    --randrepeat=0 --norandommap --output-format=terse --terse-version=3 \
    >"$out/$name.terse" 2>"$out/$name.err"
  status=$?
  irq_after=$(virtio_irqs)
  stat_after=$(cat /sys/block/vda/stat)
  if [ $status -ne 0 ]; then
    echo "error fio $name exited $status: $(head -c 300 "$out/$name.err" | tr '\n' ' ')" \
      >"$out/$name.result"
    return
  fi
  # shellcheck disable=SC2086 # squeeze the stat columns into single spaces
  echo "job $name" $stat_before "|" $stat_after "| $irq_before $irq_after |" \
    "$(head -n 1 "$out/$name.terse")" >"$out/$name.result"
}

job seqread read 1M "$seq_qd"
job seqwrite write 1M "$seq_qd"
job randread randread 4k "$rand_qd"

say "$line"
for name in seqread seqwrite randread; do
  say "$(cat "$out/$name.result")"
done
