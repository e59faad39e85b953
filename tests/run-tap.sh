#!/bin/sh
# tests/run-tap.sh - runs one TAP-printing test program on the host, echoes
# its output, and appends "NAME PASSED FAILED SKIPPED" to $LFQ_RESULTS_FILE.
# A non-zero exit status, or a plan not met, counts as one more failure.
#
# Usage: tests/run-tap.sh NAME CMD [ARGS...]
set -u
name=$1
shift
out=$(mktemp)
"$@" >"$out" 2>&1
rc=$?
cat "$out"
awk -v name="$name" -v rc="$rc" '
	/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; planned = 1 }
	/^ok / { if ($0 ~ /# SKIP/) s++; else p++ }
	/^not ok / { f++ }
	END {
		n = p + f + s
		if (rc != 0 && f == 0) { f++; print "# " name ": exit status " rc }
		if (!planned || plan != n) {
			f++; print "# " name ": plan " plan + 0 ", ran " n
		}
		printf "%s %d %d %d\n", name, p, f, s >> ENVIRON["LFQ_RESULTS_FILE"]
		printf "# %s: %d passed, %d failed, %d skipped\n", name, p, f, s
	}' "$out"
rm -f "$out"
