# tools/vm/guest-lib.sh - owned by tools/vm.
# Shell helpers for guest scripts run inside the test VM (busybox ash).
# run-vm.sh copies this file to /lfq/guest-lib.sh; a guest script does:
#
#     . /lfq/guest-lib.sh
#     lfq_run insmod insmod /lfq/lfq.ko
#     lfq_run -t 300 ring_test /lfq/ring_test
#     lfq_run -u lfqa perm_test /lfq/perm_test      # as uid/gid 1001
#     lfq_run rmmod rmmod lfq
#     lfq_kmemleak_check                             # debug kernel only
#     exit 0
#
# lfq_run prints "LFQ-TEST-BEGIN NAME" / "LFQ-TEST-END NAME rc=N secs=S"
# around the command (S: the whole seconds of guest uptime it took); the
# host-side runner counts rc!=0 or a missing END as a failure, checks TAP
# plans ("1..N") inside each BEGIN/END block and lists the slowest tests. Output of the command
# (stdout and stderr) goes to the console, so it must not contain kernel-splat
# words such as "BUG:", "WARNING:", "Call Trace:" unless it means them.
# Test names must be single words (no spaces).
# Deliberately no "set -e": this file is sourced into the guest's own script.
# shellcheck shell=sh

LFQ_FAILED=${LFQ_FAILED:-0}

# lfq_as USER CMD [ARGS...]: run CMD as USER (root, lfqa=1001, lfqb=1002).
lfq_as() {
	_lfq_user=$1
	shift
	su -m -s /bin/sh "$_lfq_user" -c 'exec "$@"' lfq-as "$@"
}

# lfq_run [-t SECS] [-u USER] NAME CMD [ARGS...]
#   -t SECS  kill the command (SIGKILL) after SECS seconds (rc 137)
#   -u USER  run the command as USER
# Returns the command's exit status; also counts failures in LFQ_FAILED.
lfq_run() {
	_lfq_t=
	_lfq_u=
	while [ $# -gt 0 ]; do
		case $1 in
		-t) _lfq_t=$2; shift 2 ;;
		-u) _lfq_u=$2; shift 2 ;;
		*) break ;;
		esac
	done
	if [ $# -lt 2 ]; then
		echo "lfq_run: usage: lfq_run [-t SECS] [-u USER] NAME CMD [ARGS...]" >&2
		return 2
	fi
	_lfq_name=$1
	shift
	echo "LFQ-TEST-BEGIN $_lfq_name"
	_lfq_up0=$(cut -d. -f1 /proc/uptime)
	# su and sh exec, so timeout's SIGKILL reaches the test program itself
	if [ -n "$_lfq_u" ]; then
		set -- su -m -s /bin/sh "$_lfq_u" -c 'exec "$@"' lfq-as "$@"
	fi
	if [ -n "$_lfq_t" ]; then
		set -- timeout -s KILL "$_lfq_t" "$@"
	fi
	"$@" 2>&1
	_lfq_rc=$?
	echo "LFQ-TEST-END $_lfq_name rc=$_lfq_rc secs=$(($(cut -d. -f1 /proc/uptime) - _lfq_up0))"
	[ "$_lfq_rc" -eq 0 ] || LFQ_FAILED=$((LFQ_FAILED + 1))
	return "$_lfq_rc"
}

# true when kmemleak is present and enabled (a write fails when it is off);
# also keeps its automatic scans off (idempotent).
_lfq_kmemleak_on() {
	[ -e /sys/kernel/debug/kmemleak ] &&
		{ echo scan=off >/sys/kernel/debug/kmemleak; } 2>/dev/null
}

# kmemleak only reports an object that is >= 5 s old AND unchanged since the
# previous scan (checksum), so a leak needs two scans to show up.
_lfq_kmemleak_2scans() {
	_lfq_t0=$(date +%s)
	echo scan >/sys/kernel/debug/kmemleak
	_lfq_el=$(( $(date +%s) - _lfq_t0 ))
	[ "$_lfq_el" -ge 6 ] || sleep $((6 - _lfq_el))
	echo scan >/sys/kernel/debug/kmemleak
}

_lfq_jiffies() {
	sed -n 's/^jiffies: *\([0-9]*\).*/\1/p' /proc/timer_list | head -1
}

# lfq_kmemleak_baseline: ignore everything allocated so far (boot-time false
# positives: some boot objects only become reportable minutes later, so
# "clear" alone is not enough; objects allocated before the baseline are
# filtered by their allocation jiffies) and stop kmemleak's automatic scans,
# so that only explicit checks report. run-vm.sh's /init calls it before run.sh.
lfq_kmemleak_baseline() {
	_lfq_kmemleak_on || return 0
	_lfq_kmemleak_2scans
	echo clear >/sys/kernel/debug/kmemleak
	LFQ_KMEMLEAK_SINCE=$(_lfq_jiffies)
	export LFQ_KMEMLEAK_SINCE
	echo "$LFQ_KMEMLEAK_SINCE" >/run/lfq-kmemleak-since
}

# lfq_kmemleak_check: print kmemleak reports for objects allocated since the
# baseline on the console (the runner fails on "unreferenced object"), then
# forget them. No-op without kmemleak. /init calls it after run.sh; call it
# earlier to pin a leak on the test that caused it (e.g. right after rmmod).
# ~10 s under TCG.
lfq_kmemleak_check() {
	_lfq_kmemleak_on || return 0
	_lfq_since=${LFQ_KMEMLEAK_SINCE:-$(cat /run/lfq-kmemleak-since 2>/dev/null || echo 0)}
	_lfq_kmemleak_2scans
	awk -v since="$_lfq_since" '
		function flush() {
			if (rec == "") return
			if (j + 0 >= since + 0) printf "%s", rec; else old++
			rec = ""
		}
		/^unreferenced object / { flush(); j = 0; inrec = 1 }
		!inrec { print; next }
		/^  comm ".*", pid [0-9]+, jiffies [0-9]+/ {
			j = $0; sub(/.*jiffies /, "", j); sub(/[^0-9].*$/, "", j)
		}
		{ rec = rec $0 "\n" }
		END {
			flush()
			if (old) print "LFQ-VM: kmemleak: ignored " old " object(s) allocated before the baseline"
		}
	' /sys/kernel/debug/kmemleak
	echo clear >/sys/kernel/debug/kmemleak
}

# lfq_has_kunit: true when the running kernel can run KUnit test modules.
lfq_has_kunit() {
	[ -d /sys/kernel/debug/kunit ] || grep -q ' kunit_run_tests$' /proc/kallsyms 2>/dev/null
}
