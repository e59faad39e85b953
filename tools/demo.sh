#!/bin/sh
# tools/demo.sh - the demo behind `make demo`: boots Debian's stock kernel
# in the test VM, loads lfq.ko, and streams through /dev/lfq with a live
# rate: two processes on an SPSC queue (batch 1, then batch 32), then four
# producer processes into one MPSC queue; then kernel event sources through
# lfq-stream: process exec/fork/exit live while a small workload runs, and
# the synth source's rate and drops with thread, hardirq and softirq
# producers; then unloads.
# Expects `make all` to have run (make demo does it).
set -eu
cd "$(dirname "$0")/.."
SECS=${LFQ_DEMO_SECONDS:-10}
pay=$(mktemp -d)
trap 'rm -rf "$pay"' EXIT
cp kmod/lfq.ko build/tools/lfq-demo build/tools/lfq-stream "$pay/"
cat >"$pay/stream.sh" <<'EOS'
# stream.sh proc|synth - the guest side of demo.sh's lfq-stream sections.
# Piped through cat: on the console (a tty) lfq-stream's status line would
# redraw in place with \r; through a pipe it prints "# " lines.
set -o pipefail
case $1 in
proc)	# in the background while a small workload runs
	/lfq/lfq-stream -t 8 proc 2>&1 | cat &
	stream=$!
	sleep 1
	sh -c 'ls / >/dev/null; true; (exit 3)'
	sleep 0.2
	/bin/busybox true
	/bin/busybox true
	sh -c 'kill -9 $$'
	wait "$stream" ;;
synth)
	/lfq/lfq-stream -q -t 5 synth --threads 2 --hardirq 1 --softirq 1 \
		--timer-period-ns 100000 2>&1 | cat ;;
esac
EOS
cat >"$pay/demo.sh" <<EOS
. /lfq/guest-lib.sh
echo "=== insmod lfq.ko; ls -l /dev/lfq"
lfq_run insmod insmod /lfq/lfq.ko
ls -l /dev/lfq
echo "=== two processes, one SPSC queue, 64-byte messages, batch 1"
lfq_run -t $((SECS + 60)) stream-batch1 /lfq/lfq-demo -t $SECS
echo "=== the same, batch 32"
lfq_run -t $((SECS + 60)) stream-batch32 /lfq/lfq-demo -t $((SECS / 2)) -b 32
echo "=== four producer processes, one consumer, one MPSC queue"
lfq_run -t $((SECS + 60)) stream-mpsc /lfq/lfq-demo -t $((SECS / 2)) -p 4 -b 8
echo "=== live kernel events: lfq-stream proc while a workload runs"
lfq_run -t 60 stream-proc sh /lfq/stream.sh proc
echo "=== kernel producers: lfq-stream -q synth, 2 threads, a hardirq and a softirq timer"
lfq_run -t 60 stream-synth sh /lfq/stream.sh synth
lfq_run rmmod rmmod lfq
EOS
echo "demo: booting Debian's stock kernel under QEMU (TCG: rates are emulated)"
tools/vm/run-vm.sh --kernel stock --payload "$pay" --script "$pay/demo.sh" \
	--timeout $((SECS * 3 + 300))
