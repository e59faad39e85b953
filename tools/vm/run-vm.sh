#!/usr/bin/env bash
# tools/vm/run-vm.sh - owned by tools/vm.
# Boots a kernel in QEMU/TCG with a busybox initramfs, runs a guest script,
# then scans the console log for kernel splats and counts TAP/KTAP results.
#
# Usage:
#   tools/vm/run-vm.sh --kernel stock|debug|kcsan --payload DIR --script FILE
#                      [--timeout SECS] [--log FILE] [--mem MB] [--cpus N]
#                      [--append "EXTRA CMDLINE"] [--quiet]
#   tools/vm/run-vm.sh --kernel NAME --scan LOGFILE     (no boot: scan a log)
#
#   --kernel   stock: Debian's newest /boot/vmlinuz-6.1.0-*-amd64 (must match
#              the installed linux-headers-amd64); debug|kcsan: bzImage from
#              tools/vm/build-kernel.sh (built on first use, then cached).
#   --payload  directory copied to /lfq/ in the guest (.ko files, static
#              test binaries, helper scripts).
#   --script   guest script, copied to /lfq/run.sh and run by /init with
#              `sh /lfq/run.sh` in /lfq. /lfq/guest-lib.sh (lfq_run etc.) is
#              always present.
#   --timeout  whole-VM wall-clock limit (default 900); TIMEOUT fails the run.
#   --log      where to keep the console log (default: a temp file).
#   --mem/--cpus  guest RAM in MB (default 1024) and vCPUs (default 2).
#   --append   extra kernel command line.
#   --quiet    do not echo the guest console to stdout (still logged).
#   --no-kmemleak  boot with kmemleak=off (saves ~20 s per debug-kernel run;
#              by default /init takes a leak baseline before run.sh and
#              checks for leaks after it).
#   --tcg multi|single  QEMU's TCG threading (default multi, or $LFQ_VM_TCG):
#              single runs every vCPU on one host thread (no parallelism).
#
# A stuck guest is stopped early instead of at --timeout: when the kernel
# reports a soft or hard lockup, an RCU stall or a hung task, the runner
# lets it print its traces for STUCK_GRACE (40 s) and kills QEMU; when the
# console prints nothing for $LFQ_VM_SILENT_SECS (default 300; /init prints
# a heartbeat every 60 s) it kills QEMU too. Either is reported on its own
# line: "STUCK" (a test failure) when lfq code is on the reported stacks,
# "INFRA" (an infrastructure failure: the emulator or the guest kernel,
# not lfq) otherwise; the exit status is 3 for INFRA alone.
#
# Exit 0 only when no test failed and there was no splat, timeout or
# sentinel problem. The last stdout line is always
#   vm-<kernel>: N passed, N failed, N skipped
# and, when LFQ_RESULTS_FILE is set, "vm-<kernel> P F S" is appended to it.
# Splats, a timeout, a missing/non-zero sentinel each add one failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

KERNEL=
TIMEOUT=900
LOG=
MEM=1024
CPUS=2
PAYLOAD=
SCRIPT=
APPEND_EXTRA=
QUIET=0
SCAN_ONLY=
TCG=${LFQ_VM_TCG:-multi}
SILENT_SECS=${LFQ_VM_SILENT_SECS:-300}
STUCK_GRACE=40

usage() {
	sed -n '2,45p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
die() { printf 'run-vm: ERROR: %s\n' "$*" >&2; exit 2; }
note() { printf 'run-vm: %s\n' "$*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) KERNEL=${2:?}; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--log) LOG=${2:?}; shift 2 ;;
	--mem) MEM=${2:?}; shift 2 ;;
	--cpus) CPUS=${2:?}; shift 2 ;;
	--payload) PAYLOAD=${2:?}; shift 2 ;;
	--script) SCRIPT=${2:?}; shift 2 ;;
	--append) APPEND_EXTRA=${2?}; shift 2 ;;
	--quiet) QUIET=1; shift ;;
	--no-kmemleak) APPEND_EXTRA="$APPEND_EXTRA kmemleak=off"; shift ;;
	--scan) SCAN_ONLY=${2:?}; shift 2 ;;
	--tcg) TCG=${2:?}; shift 2 ;;
	-h|--help) usage ;;
	*) printf 'run-vm: unknown argument %s\n' "$1" >&2; usage ;;
	esac
done
case $KERNEL in
stock|debug|kcsan) ;;
'') usage ;;
*) die "--kernel must be stock, debug or kcsan (got '$KERNEL')" ;;
esac
case $TCG in
multi|single) ;;
*) die "--tcg must be multi or single (got '$TCG')" ;;
esac
LABEL=vm-$KERNEL

# ------------------------------------------------------------- log scanning
# Prints a human report, then one machine line:
#   @@COUNTS passed failed skipped splats sentinel(ok|missing|rc=N)
# Rules (lines have "\r" removed; a "[  12.345678] " printk prefix is
# stripped before TAP parsing, not before splat matching):
# - splat: any line matching SPLAT_RE anywhere in it.
# - TAP/KTAP results "ok N ..."/"not ok N ..." at any indent; only LEAF
#   results count: a result that follows deeper-indented results (since the
#   previous result at its own indent) closes a subtest block and is a parent.
#   "# SKIP" -> skipped; "not ok ... # TODO" -> skipped.
# - plans "1..N": a plan opens a scope at its indent, counting results at that
#   indent until a shallower result, another plan at that indent, a
#   LFQ-TEST-BEGIN/END marker or the end of log closes it; count != N fails.
#   A plan right after results numbered 1..N at its indent is taken as a
#   trailing plan and accepted; "1..0" is accepted and opens no scope.
# - LFQ-TEST-BEGIN/END NAME: rc != 0, END missing, or BEGIN without END
#   (next BEGIN or end of log) each add one failure. An END's "secs=S"
#   (guest-lib.sh) is summed and the ten slowest are listed ("timing:").
SPLAT_RE='BUG:|WARNING:|KASAN:|UBSAN:|KCSAN:|kernel BUG at|Kernel panic|Oops|general protection fault|Call Trace:|cut here \]|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|INFO: task|INFO: lockdep|INFO: trying to register non-static key|INFO: possible|DEBUG_LOCKS_WARN_ON|rcu_sched detected stall|rcu_preempt detected stall|detected stalls on CPU|rcu: INFO|soft lockup|hard LOCKUP|unreferenced object|list_add corruption|list_del corruption|ODEBUG:|NMI received for unknown reason|Dazed and confused'

# The kernel's own detectors saying a CPU or a task stopped making progress.
STUCK_RE='soft lockup|hard LOCKUP|rcu: INFO: rcu_(preempt|sched) (self-)?detected stall|detected stalls on CPU|INFO: task .* blocked for more than'

# stuck_report LOG: after a stuck guest, one line classifying it. The
# stacks the kernel printed from the first lockup/stall report on name lfq
# functions (or the lfq module) -> STUCK, a test failure; otherwise INFRA.
# Prints "stuck" or "infra" as its last line.
stuck_report() {
	local log=$1 first test why
	first=$(grep -n -m1 -E "$STUCK_RE" "$log" | cut -d: -f1)
	test=$(sed 's/^\[ *[0-9.]*\] //' "$log" |
		awk '/^LFQ-TEST-BEGIN /{t=$2} /^LFQ-TEST-END /{t=""} END{print t}')
	if [ -z "$first" ]; then
		why="the console went silent for ${SILENT_SECS}s"
	else
		why="the kernel reported: $(sed -n "${first}p" "$log" | sed 's/^\[ *[0-9.]*\] //')"
	fi
	if [ -n "$first" ] &&
		tail -n "+$first" "$log" | head -400 | grep -qE '(^|[^a-z_])lfq_[a-z_0-9]+\+0x|\[lfq\]'; then
		echo "  FAIL STUCK in ${test:-(no test)}: $why; lfq code is on the stacks (a test failure)"
		echo stuck
	else
		echo "  INFRA guest stuck in ${test:-(no test)}: $why; no lfq code on the stacks: an infrastructure failure (emulator or guest kernel), not a test result"
		echo infra
	fi
}

# On the kcsan kernel, a data race between two functions that are not lfq's
# (the "data-race in A / B" title names no lfq_* function) is listed but not
# counted: the 6.1 core kernel has a few (docs/KCSAN.md). Any other KCSAN
# report is a splat.
scan_log() {
	foreign_ok=0
	[ "$KERNEL" = kcsan ] && foreign_ok=1
	awk -v splat_re="$SPLAT_RE" -v foreign_ok="$foreign_ok" '
	function report(msg) { print "  " msg; nrep++ }
	function close_scope(d,   where) {
		if (!(d in plan_active) || !plan_active[d]) { cnt[d] = 0; return }
		if (cnt[d] != plan_n[d]) {
			where = (block != "") ? "in " block : "outside any LFQ-TEST block"
			report("FAIL plan 1.." plan_n[d] " (indent " d ") but " cnt[d] \
			       " results " where " (plan at log line " plan_line[d] ")")
			failed++
		}
		plan_active[d] = 0
		cnt[d] = 0
	}
	function close_all(   d) {
		for (d = 0; d <= maxd; d++) close_scope(d)
		for (d = 0; d <= maxd; d++) child_seen[d] = 0
	}
	BEGIN { block = ""; sentinel = "missing"; maxd = 0 }
	{
		line = $0
		gsub(/\r/, "", line)
		if (foreign_ok && line ~ /BUG: KCSAN: data-race in / &&
		    line !~ /lfq/) {
			if (++foreign <= 20) foreign_lines[foreign] = NR ": " line
		} else if (line ~ splat_re && line !~ /^LFQ-TEST-(BEGIN|END) /) {
			splats++
			if (splats <= 60) splat_lines[splats] = NR ": " line
			if (!first_splat) first_splat = NR
		}
		if (first_splat && NR > first_splat && NR <= first_splat + 40)
			ctx[++nctx] = line
		t = line
		sub(/^\[ *[0-9]+\.[0-9]+\] /, "", t)

		if (t ~ /^LFQ-VM-END rc=/) {
			rc = t; sub(/^LFQ-VM-END rc=/, "", rc); sub(/[^0-9].*$/, "", rc)
			sentinel = (rc == "0") ? "ok" : "rc=" rc
			next
		}
		if (t ~ /^LFQ-TEST-BEGIN /) {
			close_all()
			if (block != "") {
				report("FAIL " block ": no LFQ-TEST-END (program did not finish)")
				failed++
			}
			block = t; sub(/^LFQ-TEST-BEGIN /, "", block); sub(/ .*$/, "", block)
			next
		}
		if (t ~ /^LFQ-TEST-END /) {
			close_all()
			name = t; sub(/^LFQ-TEST-END /, "", name); sub(/ .*$/, "", name)
			rc = t; sub(/^.* rc=/, "", rc); sub(/[^0-9].*$/, "", rc)
			if (t ~ / secs=[0-9]+/) {
				secs = t; sub(/^.* secs=/, "", secs); sub(/[^0-9].*$/, "", secs)
				tname[++ntimed] = name; tsecs[ntimed] = secs + 0
				tsum += secs
			}
			if (block == "") {
				report("FAIL LFQ-TEST-END " name " without BEGIN")
				failed++
			} else if (rc != "0") {
				report("FAIL " name ": exited rc=" rc)
				failed++
			}
			block = ""
			next
		}

		# indentation (spaces; a tab counts as 8)
		ind = 0
		while (substr(t, ind + 1, 1) == " " || substr(t, ind + 1, 1) == "\t") ind++
		body = substr(t, ind + 1)
		if (ind > maxd) maxd = ind

		if (body ~ /^1\.\.[0-9]+([ \t]|$)/) {
			n = body; sub(/^1\.\./, "", n); sub(/[^0-9].*$/, "", n)
			n += 0
			if ((ind in plan_active) && plan_active[ind]) {
				close_scope(ind)
			} else if (n > 0 && cnt[ind] == n && last_num[ind] == n) {
				# trailing plan matching the results just seen: done
				cnt[ind] = 0
				next
			}
			cnt[ind] = 0
			# "1..0" (e.g. KUnit at boot with no built-in suites): nothing to check
			if (n == 0) next
			plan_active[ind] = 1; plan_n[ind] = n; plan_line[ind] = NR
			next
		}

		if (body ~ /^(not ok|ok)([ \t]|$)/) {
			notok = (body ~ /^not ok/)
			num = body; sub(/^(not ok|ok)[ \t]*/, "", num); sub(/[^0-9].*$/, "", num)
			last_num[ind] = num + 0
			for (d = ind + 1; d <= maxd; d++) close_scope(d)
			cnt[ind]++
			is_parent = child_seen[ind]
			child_seen[ind] = 0
			for (d = ind + 1; d <= maxd; d++) child_seen[d] = 0
			for (d = 0; d < ind; d++) child_seen[d] = 1
			if (is_parent) next
			dir = body; lower = tolower(body)
			if (lower ~ /#[ \t]*skip/) {
				skipped++
			} else if (lower ~ /#[ \t]*todo/) {
				if (notok) skipped++; else passed++
			} else if (notok) {
				failed++
				report("FAIL " (block != "" ? block ": " : "") body)
			} else {
				passed++
			}
		}
	}
	END {
		close_all()
		if (block != "") {
			report("FAIL " block ": no LFQ-TEST-END (VM died or test hung)")
			failed++
		}
		if (ntimed) {
			# the ten slowest tests, by guest uptime
			line = ""
			for (k = 1; k <= 10 && k <= ntimed; k++) {
				best = 0
				for (i = 1; i <= ntimed; i++)
					if (!(i in shown) && (!best || tsecs[i] > tsecs[best]))
						best = i
				shown[best] = 1
				line = line (k > 1 ? ", " : "") tname[best] " " tsecs[best] "s"
			}
			print "  timing: " ntimed " tests took " tsum "s of guest uptime; slowest: " line
		}
		if (foreign) {
			print "  KCSAN: " foreign " data race(s) outside lfq, not counted (docs/KCSAN.md):"
			for (i = 1; i <= foreign && i <= 20; i++) print "    " foreign_lines[i]
		}
		if (splats) {
			print "  SPLAT: " splats " suspicious kernel log line(s):"
			for (i = 1; i <= splats && i <= 60; i++) print "    " splat_lines[i]
			if (splats > 60) print "    ..."
			print "  context after the first one (log line " first_splat "):"
			for (i = 1; i <= nctx; i++) print "    | " ctx[i]
		}
		printf "@@COUNTS %d %d %d %d %s\n", passed, failed, skipped, splats, sentinel
	}
	' "$1"
}

# finish LOG QEMU_STATUS(ok|timeout|error:N) WALL_SECS
finish() {
	local log=$1 qstat=$2 wall=$3 out counts p f s sp sen infra=0
	out=$(scan_log "$log")
	counts=$(printf '%s\n' "$out" | sed -n 's/^@@COUNTS //p')
	read -r p f s sp sen <<<"$counts"
	echo "---- $LABEL: log scan ($log) ----"
	printf '%s\n' "$out" | grep -v '^@@COUNTS ' || true
	if [ "$sp" -gt 0 ]; then
		echo "  FAIL kernel splat(s) in the log (see above)"
		f=$((f + 1))
	fi
	case $sen in
	ok) ;;
	missing) echo "  FAIL no 'LFQ-VM-END' sentinel: guest script did not finish (panic, reboot, hang?)"; f=$((f + 1)) ;;
	*) echo "  FAIL guest script exited with $sen"; f=$((f + 1)) ;;
	esac
	case $qstat in
	ok) ;;
	timeout) echo "  FAIL TIMEOUT: VM killed after ${TIMEOUT}s"; f=$((f + 1)) ;;
	stuck)
		local cls
		cls=$(stuck_report "$log")
		printf '%s\n' "$cls" | sed '$d'
		f=$((f + 1))
		[ "$(printf '%s\n' "$cls" | tail -1)" = infra ] && infra=1
		;;
	*) echo "  FAIL qemu: $qstat"; f=$((f + 1)) ;;
	esac
	local boot
	boot=$(sed -n 's/^.*LFQ-VM-BOOTED .*uptime=\([0-9.]*\).*$/\1/p' "$log" | head -1)
	[ -n "$wall" ] && echo "  timing: /init reached at ${boot:-?}s guest uptime; VM wall time ${wall}s"
	if [ "$f" -gt 0 ] && [ "$QUIET" = 1 ] && [ -n "$wall" ]; then
		echo "  last 30 console lines:"
		tail -30 "$log" | sed 's/^/    | /'
	fi
	if [ -n "${LFQ_RESULTS_FILE:-}" ]; then
		if [ "$infra" = 1 ]; then
			echo "$LABEL $p $f $s infra" >>"$LFQ_RESULTS_FILE"
		else
			echo "$LABEL $p $f $s" >>"$LFQ_RESULTS_FILE"
		fi
	fi
	if [ "$infra" = 1 ]; then
		echo "$LABEL: $p passed, $f failed, $s skipped (INFRA: the guest got stuck; see above)"
		return 3
	fi
	echo "$LABEL: $p passed, $f failed, $s skipped"
	[ "$f" -eq 0 ]
}

if [ -n "$SCAN_ONLY" ]; then
	[ -r "$SCAN_ONLY" ] || die "cannot read $SCAN_ONLY"
	TIMEOUT=0
	finish "$SCAN_ONLY" ok ""
	exit $?
fi

# ------------------------------------------------------------ resolve kernel
[ -n "$PAYLOAD" ] || die "--payload DIR is required"
[ -n "$SCRIPT" ] || die "--script FILE is required"
[ -d "$PAYLOAD" ] || die "payload $PAYLOAD is not a directory"
[ -r "$SCRIPT" ] || die "cannot read script $SCRIPT"
case $TIMEOUT$MEM$CPUS in *[!0-9]*) die "--timeout/--mem/--cpus take integers" ;; esac

stock_kernel() {
	local img rel dep hdr_rel iver hver
	img=$(printf '%s\n' /boot/vmlinuz-6.1.0-*-amd64 | grep -v '\*' | sort -V | tail -1 || true)
	[ -n "$img" ] || die "no /boot/vmlinuz-6.1.0-*-amd64: apt-get install linux-image-amd64"
	[ -r "$img" ] || die "$img is not readable (run as root)"
	rel=${img#/boot/vmlinuz-}
	dep=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null) ||
		die "linux-headers-amd64 not installed (our module is built against it)"
	hdr_rel=$(printf '%s\n' "$dep" | sed -n 's/.*linux-headers-\([^ ,]*-amd64\).*/\1/p')
	[ "$hdr_rel" = "$rel" ] ||
		die "stock kernel $rel (newest in /boot) != linux-headers-amd64's $hdr_rel; install matching linux-image-amd64/linux-headers-amd64"
	iver=$(dpkg-query -W -f='${Version}' "linux-image-$rel" 2>/dev/null ||
		dpkg-query -W -f='${Version}' "linux-image-$rel-unsigned" 2>/dev/null || true)
	hver=$(dpkg-query -W -f='${Version}' "linux-headers-$rel" 2>/dev/null || true)
	if [ -z "$iver" ] || [ "$iver" != "$hver" ]; then
		die "linux-image-$rel ($iver) and linux-headers-$rel ($hver) versions differ"
	fi
	[ -d "/lib/modules/$rel/build" ] || die "/lib/modules/$rel/build missing (headers not installed?)"
	local krel
	# vermagic comes from UTS_RELEASE (Debian's kernel.release says 6.1.NNN)
	krel=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
		"/lib/modules/$rel/build/include/generated/utsrelease.h" 2>/dev/null || true)
	[ "$krel" = "$rel" ] || die "headers UTS_RELEASE '$krel' != stock kernel $rel"
	note "stock kernel $img ($iver), headers /lib/modules/$rel/build"
	KIMG=$img
}

case $KERNEL in
stock) stock_kernel ;;
debug|kcsan)
	note "getting $KERNEL kernel from build-kernel.sh (builds on first use)"
	KOUT=$("$HERE/build-kernel.sh" "$KERNEL" | tail -1)
	KIMG=$KOUT/arch/x86/boot/bzImage
	[ -f "$KIMG" ] || die "no bzImage at $KIMG"
	note "$KERNEL kernel $KIMG ($(cat "$KOUT/include/config/kernel.release"))"
	;;
esac

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not installed"
BUSYBOX=${LFQ_BUSYBOX:-/bin/busybox}
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
	die "$BUSYBOX is not a static busybox (apt-get install busybox-static)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lfq-vm.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$LOG" ]; then
	LOG=$(mktemp "${TMPDIR:-/tmp}/lfq-$LABEL.XXXXXX.log")
fi
mkdir -p "$(dirname "$LOG")"
: >"$LOG"

# --------------------------------------------------------------- initramfs
ROOT=$WORK/root
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,run,lfq}
cp "$BUSYBOX" "$ROOT/bin/busybox"
for app in $("$BUSYBOX" --list-full); do
	[ -e "$ROOT/$app" ] || ln -s /bin/busybox "$ROOT/$app"
done
[ -e "$ROOT/bin/sh" ] || ln -s busybox "$ROOT/bin/sh"
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$ROOT/dev/null" c 1 3 2>/dev/null || true

cat >"$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
lfqa:x:1001:1001:lfq test user a:/tmp:/bin/sh
lfqb:x:1002:1002:lfq test user b:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$ROOT/etc/group" <<'EOF'
root:x:0:
lfqa:x:1001:
lfqb:x:1002:
nogroup:x:65534:
EOF
cat >"$ROOT/etc/shadow" <<'EOF'
root::0:0:99999:7:::
lfqa:!:0:0:99999:7:::
lfqb:!:0:0:99999:7:::
nobody:!:0:0:99999:7:::
EOF
chmod 600 "$ROOT/etc/shadow"
printf '/bin/sh\n' >"$ROOT/etc/shells"
echo lfq-vm >"$ROOT/etc/hostname"

cp -a "$PAYLOAD/." "$ROOT/lfq/"
cp "$SCRIPT" "$ROOT/lfq/run.sh"
cp "$HERE/guest-lib.sh" "$ROOT/lfq/guest-lib.sh"

cat >"$ROOT/init" <<'EOF'
#!/bin/sh
# /init generated by tools/vm/run-vm.sh
export PATH=/lfq:/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=dumb
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mkdir -p /dev/shm /dev/mqueue /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
mount -t tmpfs tmpfs /run
hostname lfq-vm
ln -sf /proc/self/fd /dev/fd 2>/dev/null
echo "LFQ-VM-BOOTED kernel=$(uname -r) cpus=$(nproc) mem_kb=$(sed -n 's/MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) uptime=$(cut -d' ' -f1 /proc/uptime)"
. /lfq/guest-lib.sh
# The runner takes a silent console for a stuck guest: say we are alive.
(while sleep 60; do echo "LFQ-VM-HEARTBEAT uptime=$(cut -d' ' -f1 /proc/uptime)"; done) &
if _lfq_kmemleak_on; then
	echo "LFQ-VM: kmemleak baseline (boot-time objects are not reported)"
	lfq_kmemleak_baseline
fi
cd /lfq
sh /lfq/run.sh </dev/null
rc=$?
if _lfq_kmemleak_on; then
	echo "LFQ-VM: kmemleak final check"
	lfq_kmemleak_check
fi
echo "LFQ-VM-END rc=$rc"
sync
reboot -f
sleep 5
echo "LFQ-VM: reboot -f did not exit the VM"
EOF
chmod 755 "$ROOT/init" "$ROOT/lfq/run.sh"

INITRD=$WORK/initramfs.cpio.gz
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet | gzip -1) >"$INITRD"

# ------------------------------------------------------------------- qemu
CPU=max
if ! printf 'quit\n' | timeout 20 qemu-system-x86_64 -accel tcg -cpu max -machine pc \
	-nodefaults -display none -S -monitor stdio >/dev/null 2>&1; then
	note "-cpu max not usable with TCG here; falling back to qemu64"
	CPU=qemu64
fi

APPEND="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 loglevel=7 printk.time=1"
# KCSAN reports are warnings: a race in core kernel code must not panic the
# run; the log scan decides (see scan_log).
[ "$KERNEL" = kcsan ] && APPEND=${APPEND/ panic_on_warn=1/}
[ -n "$APPEND_EXTRA" ] && APPEND="$APPEND $APPEND_EXTRA"

# shellcheck disable=SC2054  # the comma belongs to -accel's value
QEMU=(qemu-system-x86_64 -accel "tcg,thread=$TCG" -cpu "$CPU" -machine pc
	-smp "$CPUS" -m "$MEM" -nodefaults -display none -no-reboot
	-serial stdio -kernel "$KIMG" -initrd "$INITRD" -append "$APPEND"
	-pidfile "$WORK/qemu.pid")

note "booting $KERNEL: ${QEMU[*]}"
note "console log: $LOG (timeout ${TIMEOUT}s)"
start=$(date +%s)
rm -f "$WORK/qemu.pid" "$WORK/stuck"
set +e
(
	if [ "$QUIET" = 1 ]; then
		timeout -k 10 "$TIMEOUT" "${QEMU[@]}" </dev/null 2>&1 |
			sed -u 's/\r//g' >"$LOG"
	else
		timeout -k 10 "$TIMEOUT" "${QEMU[@]}" </dev/null 2>&1 |
			sed -u 's/\r//g' | tee "$LOG" | sed -u "s/^/[$LABEL] /"
	fi
	echo "${PIPESTATUS[0]}" >"$WORK/qemu.status"
) &
runner=$!
# Watch the console: a lockup/stall report, or silence, means stuck.
last_size=-1 last_change=$(date +%s) stuck_at=
while kill -0 "$runner" 2>/dev/null; do
	sleep 2
	now=$(date +%s)
	size=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
	if [ "$size" != "$last_size" ]; then
		last_size=$size last_change=$now
	fi
	if [ -z "$stuck_at" ] && grep -qE "$STUCK_RE" "$LOG"; then
		stuck_at=$now
		note "the guest reports a lockup or stall; stopping it in ${STUCK_GRACE}s"
	fi
	if { [ -n "$stuck_at" ] && [ $((now - stuck_at)) -ge "$STUCK_GRACE" ]; } ||
		[ $((now - last_change)) -ge "$SILENT_SECS" ]; then
		: >"$WORK/stuck"
		[ -s "$WORK/qemu.pid" ] && kill "$(cat "$WORK/qemu.pid")" 2>/dev/null
		wait "$runner"
		break
	fi
done
wait "$runner" 2>/dev/null
set -e
wall=$(( $(date +%s) - start ))
qst=$(cat "$WORK/qemu.status" 2>/dev/null || echo 1)
if [ -e "$WORK/stuck" ]; then
	qstat=stuck
else
	case $qst in
	0) qstat=ok ;;
	124|137) qstat=timeout ;;
	*) qstat="exited with status $qst" ;;
	esac
fi

finish "$LOG" "$qstat" "$wall"
