#!/bin/sh
# tests/model/check.sh - model-checks tests/model/*.pml exhaustively with
# SPIN and prints TAP: the model must verify with no error and a complete
# search, and every mutation listed in its header ("-D NAME" variants)
# must be caught, which shows each ordering or step the model keeps is
# one the protocol needs. Verifications run as many at a time as there
# are CPUs, at most 4 (LFQ_MODEL_JOBS: 1 to 4); the output keeps the plan
# order.
set -u
cd "$(dirname "$0")"
MUTATIONS_mpmc_recover="NO_RECOVERY IGNORE_LIVE NO_CLEAR SNAPSHOT_BEFORE_TAIL"
MUTATIONS_mpmc="CLAIM_INDEX_ONLY NO_COMMIT_CHECK RELEASE_BEFORE_READ CLAIM_NO_CAS"
MUTATIONS_mpmc_torn="NO_MARK NO_RECHECK MARK_AFTER_DATA CHECK_BEFORE_DATA"
MUTATIONS_rec_mpmc="CLAIM_NO_CAS NO_CLAIM_LAP MARK_BEFORE_ZERO ADVANCE_BEFORE_MARK ADVANCE_NO_FLAG ADVANCE_NO_LAP"
MUTATIONS_rec_mpmc_recover="NO_RECOVERY IGNORE_LIVE NO_CLEAR CLAIM_AFTER_COPY NO_TAKEN_CHECK"
MUTATIONS_rec_mpmc_wake="NO_CLAIM_RECHECK"
# Extra pan flags per model: lossless state compression for the biggest
# (rec_mpmc_recover: 36.7 M states, 1.6 GB with it).
PANFLAGS_rec_mpmc_recover="-DCOLLAPSE"
MUTATIONS_records="NO_ZERO ZERO_AFTER_TAIL HDR_BEFORE_DATA NO_SPACE_CHECK NO_LAP_CHECK"
MUTATIONS_overwrite="SNAP_NO_TAIL_RECHECK SNAP_NO_HDR_RECHECK SNAP_CHECK_NO_OWNER NO_RELEASE_MARK TAIL_BEFORE_ZERO RECLAIM_UNCOMMITTED CONSUMER_NO_OWN"
MUTATIONS_mpsc="NO_RECHECK FLAG_BEFORE_PUB PUB_BEFORE_DATA NO_SPACE_CHECK"
MUTATIONS_claims="CLAIM_AFTER_CAS NO_COVER_CHECK NO_RESCAN NO_LAP_CHECK"
MUTATIONS_lap="NO_LAP_GUARD"
MUTATIONS_segments="NO_GRACE LINK_BEFORE_INIT RETIRE_UNDRAINED"
MUTATIONS_rec_segments="LAP_IN_LIFE NO_SEAL_CHECK REUSE_UNDRAINED"
MUTATIONS_rec_lap_guard="MARK_AFTER_CAS PLAIN_PROMOTE PENDING_HELD PLAIN_DROP"
MUTATIONS_seg_hint="NO_RECHECK NO_LOOP"
MUTATIONS_wake_asym="NO_HEAVY LOAD_BEFORE_STORE"
MUTATIONS_wake_threshold="OLD_INDEX STORE_NOT_MIN MPSC_COMMIT_BOUND"
# LFQ_MODEL_JOBS: verifications run at once (default: the CPUs, at most
# 4); each is one pan process, and the TAP lines come out in plan order.
JOBS=${LFQ_MODEL_JOBS:-$(nproc 2>/dev/null || echo 1)}
case $JOBS in
1 | 2 | 3 | 4) ;;
*[!0-9]* | '' | 0) JOBS=1 ;;
*) JOBS=4 ;;
esac

# verify MODEL [DEFINE] in work directory $W -> sets $errors, $states, $out
verify() {
	eval "panflags=\${PANFLAGS_${1%.pml}:-}"
	rm -rf "$W" && mkdir "$W" && cp "$1" "$W/" &&
	(cd "$W" && spin ${2:+-D$2} -a "$1" >spin.log 2>&1 &&
	 gcc -O2 -DSAFETY -DVECTORSZ=4096 $panflags -o pan pan.c >gcc.log 2>&1 &&
	 ./pan -m1000000 >pan.log 2>&1)
	out=$W/pan.log
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$out" | head -1)
	states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$out" | head -1)
	: "${errors:=?}" "${states:=?}"
}

# --one DIR N MODEL [DEFINE]: one verification, its TAP line (and, for a
# failing model, the start of pan's output) into DIR/N.tap.
if [ "${1:-}" = --one ]; then
	W=$2/w.$3
	n=$3
	m=$4
	d=${5:-}
	verify "$m" "$d"
	{
		if [ -z "$d" ]; then
			if [ "$errors" = 0 ] &&
			   ! grep -q 'max search depth too small\|Search not completed' "$out"; then
				echo "ok $n - $m verifies: 0 errors, $states states, exhaustive"
			else
				echo "not ok $n - $m: errors=$errors"
				sed 's/^/# /' "$out" | head -20
			fi
		else
			why=$(grep -m1 -o 'invalid end state\|assertion violated.*' "$out")
			if [ "$errors" != 0 ] && [ "$errors" != "?" ]; then
				echo "ok $n - $m with $d fails as it must ($why, $states states)"
			else
				echo "not ok $n - $m with $d was not caught (errors=$errors)"
			fi
		fi
	} >"$2/$n.tap.tmp"
	rm -rf "$W"
	mv "$2/$n.tap.tmp" "$2/$n.tap"
	exit 0
fi

T=$(mktemp -d)
pool=
trap 'rm -rf "$T"' EXIT
# Interrupted: no new verification starts (those running finish alone).
trap '[ -n "$pool" ] && kill "$pool" 2>/dev/null; exit 1' INT TERM HUP
n=0
for m in *.pml; do
	n=$((n + 1))
	echo "$n $m" >>"$T/jobs"
	eval "muts=\${MUTATIONS_${m%.pml}:-}"
	for d in $muts; do
		n=$((n + 1))
		echo "$n $m $d" >>"$T/jobs"
	done
done
plan=$n
echo "TAP version 13"
echo "1..$plan"
# The biggest models first would balance better, but plan order keeps the
# output streaming; xargs runs the rest as slots free up.
xargs -P "$JOBS" -L 1 sh "./${0##*/}" --one "$T" <"$T/jobs" &
pool=$!
fails=0
i=1
while [ "$i" -le "$plan" ]; do
	while [ ! -f "$T/$i.tap" ]; do
		if ! kill -0 "$pool" 2>/dev/null && [ ! -f "$T/$i.tap" ]; then
			echo "not ok $i - its verification did not report"
			break
		fi
		sleep 1
	done
	if [ -f "$T/$i.tap" ]; then
		cat "$T/$i.tap"
		grep -q '^not ok' "$T/$i.tap" && fails=$((fails + 1))
	else
		fails=$((fails + 1))
	fi
	i=$((i + 1))
done
wait "$pool"
exit $((fails > 0))
