#!/bin/sh
# tests/bench-quick.sh - proves lfq-bench runs (make check's "bench"
# layer), as TAP: every suite in quick mode, including the VM suites on
# the stock kernel, must exit 0 and record rows; the merged report must
# write JSON, markdown and SVG/PNG plots. The figures are not checked:
# quick runs are too short to mean anything, and `make bench` is where
# performance is measured.
#
# Usage: tests/bench-quick.sh   (from the repository root, after `make`)
set -u
BENCH=build/tools/bench/lfq-bench
# The VM suite boots run-vm.sh, which would add its own (empty) line to
# make check's results: this script reports through its TAP lines only.
unset LFQ_RESULTS_FILE
D=${LFQ_LOGDIR:-build/check}/bench
rm -rf "$D"
mkdir -p "$D"
SUITES="spsc mpsc mpmc icount phys ipc vm"
n=0

ok() { # ok STATUS DESCRIPTION [LOG]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && tail -30 "$3" | sed 's/^/# /'
	fi
}

echo "TAP version 13"
echo "1..$(($(echo $SUITES | wc -w) + 1))"
for s in $SUITES; do
	"$BENCH" --quick --suites "$s" --tsv >"$D/$s.tsv" 2>"$D/$s.log"
	rc=$?
	rows=$(grep -c '^LFQ-BENCH' "$D/$s.tsv")
	[ "$rc" = 0 ] && [ "$rows" -gt 0 ]
	ok $? "suite $s runs in quick mode ($rows figures, exit $rc)" "$D/$s.log"
done
args=
for s in $SUITES; do args="$args --load $D/$s.tsv"; done
# shellcheck disable=SC2086
"$BENCH" --suites none $args --json "$D/results.json" --markdown "$D/tables.md" \
	--plots "$D/plots" >"$D/report.txt" 2>&1 &&
	grep -q '"lfq_advantage"' "$D/results.json" &&
	grep -q 'targets met' "$D/tables.md" &&
	[ "$(ls "$D"/plots/*.svg | wc -l)" -gt 5 ] &&
	[ "$(ls "$D"/plots/*.png | wc -l)" -gt 5 ]
ok $? "report: table, ratios, JSON, markdown, SVG and PNG plots" "$D/report.txt"
