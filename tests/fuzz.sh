#!/bin/sh
# tests/fuzz.sh - the long ioctl fuzz (`make fuzz` runs it): boots the
# debug kernel (KASAN, lockdep, PROVE_RCU, UBSAN, kmemleak) in the test VM
# with lfq.ko and tests/vm/fuzz only, and fails on any splat, as the
# vm-debug layer of tests/check.sh does.
#
#   tests/fuzz.sh [CALLS [MINUTES [SEED]]]
#
# CALLS defaults to 10^7 (0: no limit), MINUTES to 60: the run stops at
# whichever comes first (reaching MINUTES before CALLS is not a failure
# when CALLS is 0). SEED defaults to one from the time. The seed, the
# command that replays it and the call count are in the console log
# (build/fuzz/vm-debug.log) and on stdout.
set -u
cd "$(dirname "$0")/.." || exit 1
CALLS=${1:-10000000}
MINUTES=${2:-60}
SEED=${3:-}
LOGDIR=${LFQ_LOGDIR:-build/fuzz}
mkdir -p "$LOGDIR"
KOUT=$(tools/vm/build-kernel.sh debug | tail -1) || exit 1

kd=$PWD/$LOGDIR/kmod-debug
rm -rf "$kd"
mkdir -p "$kd"
cp -r Kbuild kmod uapi "$kd/"
find "$kd" \( -name '*.o' -o -name '*.ko' -o -name '*.cmd' \
	-o -name '*.mod*' -o -name modules.order -o -name Module.symvers \) -delete
if ! make -C "$KOUT" M="$kd" W=1 modules >"$LOGDIR/kmod-debug.log" 2>&1; then
	tail -20 "$LOGDIR/kmod-debug.log"
	exit 1
fi

pay=$LOGDIR/pay
rm -rf "$pay"
mkdir -p "$pay"
cp "$kd/kmod/lfq.ko" build/tests/vm/fuzz "$pay/"
secs=$((MINUTES * 60))
args="-n $CALLS -T $secs"
[ -n "$SEED" ] && args="$args -s $SEED"
cat >"$LOGDIR/guest.sh" <<GUEST
. /lfq/guest-lib.sh
lfq_run insmod insmod /lfq/lfq.ko
lfq_run -t $((secs + 120)) fuzz /lfq/fuzz $args
lfq_run rmmod rmmod lfq
exit 0
GUEST
tools/vm/run-vm.sh --kernel debug --payload "$pay" \
	--script "$LOGDIR/guest.sh" --log "$LOGDIR/vm-debug.log" --quiet \
	--timeout $((secs + 600))
rc=$?
grep -E '^# (fuzz seed|replay:|[0-9]+ calls)|^(not )?ok [0-9]+ - ' \
	"$LOGDIR/vm-debug.log" | tr -d '\r'
echo "# console log: $LOGDIR/vm-debug.log"
exit $rc
