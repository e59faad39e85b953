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
rc=0
tools/vm/run-vm.sh --kernel stock --payload "$pay" --script "$pay/demo.sh" \
	--log "$pay/demo.log" --timeout $((SECS * 3 + 300)) || rc=$?

# The last line says what the demo showed, from what the guest printed.
sed 's/^\[ *[0-9.]*\] //' "$pay/demo.log" | awk -v rc="$rc" '
	/^LFQ-VM-BOOTED / { k = $2; sub(/^kernel=/, "", k) }
	/^lfq-demo: [0-9]+ messages in / {
		r = $0; sub(/^.*\(/, "", r); sub(/ msgs\/s.*$/, "", r)
		b = $0; sub(/^.*\), /, "", b); sub(/ bad.*$/, "", b)
		rate[++n] = r; bad += b
	}
	/^# lfq-stream: [0-9]+ events, / { ev[++m] = $3; dr[m] = $5 }
	END {
		if (rc != 0 || n != 3 || m != 2) {
			printf "demo: FAILED (runner exit %d; %d of 3 queue streams and %d of 2 event streams finished): see the log above\n", rc, n, m
			exit 1
		}
		printf "demo: lfq.ko on Debian kernel %s streamed through /dev/lfq: 64-byte messages between processes at %d msg/s (SPSC batch 1), %d (batch 32), %d (MPSC, 4 producers), %d bad; %d live process events; %d kernel-produced records (%d dropped and counted). Rates are emulated (QEMU/TCG).\n", k, rate[1], rate[2], rate[3], bad, ev[1], ev[2], dr[2]
	}'

