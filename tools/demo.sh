#!/bin/sh
# tools/demo.sh - the demo behind `make demo`: boots Debian's stock kernel
# in the test VM, loads lfq.ko, and streams through /dev/lfq with a live
# rate: two processes on an SPSC queue (batch 1, then batch 32), then four
# producer processes into one MPSC queue; then unloads.
# Expects `make all` to have run (make demo does it).
set -eu
cd "$(dirname "$0")/.."
SECS=${LFQ_DEMO_SECONDS:-10}
pay=$(mktemp -d)
trap 'rm -rf "$pay"' EXIT
cp kmod/lfq.ko build/tools/lfq-demo "$pay/"
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
lfq_run rmmod rmmod lfq
EOS
echo "demo: booting Debian's stock kernel under QEMU (TCG: rates are emulated)"
tools/vm/run-vm.sh --kernel stock --payload "$pay" --script "$pay/demo.sh" \
	--timeout $((SECS * 3 + 300))
