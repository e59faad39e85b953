# tools/bench/vm-bench.sh - the guest side of lfq-bench's "vm" suite
# (tools/bench/bench_vm.c boots the test VM with it as /lfq/run.sh; busybox
# ash). The payload holds lfq.ko, the static lfq-bench-vm and bench-args
# (--quick or --full). Loads the module, runs the VM suites (ipc: lfq
# through /dev/lfq against pipes, sockets and message queues; stream: lfq
# against the BPF ring buffer; flight: lfq's overwrite mode against
# perf's overwrite ring) with their figures as LFQ-BENCH lines on the
# console, and unloads the module. run-vm.sh counts the LFQ-TEST blocks:
# the run passes only when every step exits 0 (and the kernel log is
# clean), and the host reads the figures back from the console log.
# Nothing printed here may contain kernel-splat words (see run-vm.sh).
# shellcheck shell=sh

# shellcheck source=tools/vm/guest-lib.sh
. /lfq/guest-lib.sh

ARGS=$(cat /lfq/bench-args 2>/dev/null)
[ -n "$ARGS" ] || ARGS=--quick

lfq_run insmod insmod /lfq/lfq.ko || exit 1
echo "lfq-bench-vm: $(nproc) CPUs, args $ARGS"
# $ARGS is a list of options: split on purpose.
# shellcheck disable=SC2086
lfq_run lfq-bench-vm /lfq/lfq-bench-vm $ARGS --suites ipc,stream,flight --tsv
lfq_run rmmod rmmod lfq
exit "$LFQ_FAILED"
