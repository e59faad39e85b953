#!/usr/bin/env bash
# tools/vm/selftest.sh - owned by tools/vm.
# Proves the VM runner (run-vm.sh) and its log scanner; prints TAP.
#
# Usage: tools/vm/selftest.sh [--debug] [--kcsan]
#   default: scanner checks on canned logs (no VM), then three stock-kernel
#            boots: a passing TAP payload, a fake WARNING splat (must fail),
#            a guest that reboots before the sentinel (must fail).
#   --debug / --kcsan: also boot that flavour (built/cached by build-kernel.sh)
#            with a real out-of-tree module and a KUnit test module, checking
#            insmod/rmmod and KTAP leaf counting; on debug also check that a
#            leaking module (kmemleak) and an out-of-bounds write (KASAN) fail.
# Per-test logs are kept in a temp dir printed at the end.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUNVM=$HERE/run-vm.sh
FLAVOURS=()
while [ $# -gt 0 ]; do
	case $1 in
	--debug) FLAVOURS+=(debug); shift ;;
	--kcsan) FLAVOURS+=(kcsan); shift ;;
	*) echo "usage: $0 [--debug] [--kcsan]" >&2; exit 2 ;;
	esac
done

T=$(mktemp -d "${TMPDIR:-/tmp}/lfq-vm-selftest.XXXXXX")
n=0
nfail=0
plan=12
for f in "${FLAVOURS[@]}"; do
	case $f in debug) plan=$((plan + 3)) ;; *) plan=$((plan + 1)) ;; esac
done
echo "1..$plan"

# check DESC EXPECT(pass|fail) GREP_REGEX LOG -- CMD...
# Runs CMD with output to LOG; passes when its exit status matches EXPECT and
# LOG contains a line matching GREP_REGEX.
check() {
	local desc=$1 expect=$2 re=$3 log=$4 rc=0 ok=1
	shift 5
	local start=$SECONDS
	"$@" >"$log" 2>&1 || rc=$?
	if [ "$expect" = pass ] && [ $rc -ne 0 ]; then ok=0; fi
	if [ "$expect" = fail ] && [ $rc -eq 0 ]; then ok=0; fi
	grep -Eq -- "$re" "$log" || ok=0
	n=$((n + 1))
	if [ $ok = 1 ]; then
		echo "ok $n - $desc ($((SECONDS - start))s)"
	else
		nfail=$((nfail + 1))
		echo "not ok $n - $desc (rc=$rc, wanted $expect and /$re/; log $log)"
		tail -25 "$log" | sed 's/^/# | /'
	fi
	tail -1 "$log" | sed 's/^/# /'
}

# ------------------------------------------------- scanner checks, no VM
cat >"$T/leaf.log" <<'EOF'
[    4.448200] KTAP version 1
[    4.448200] 1..0
LFQ-VM-BOOTED kernel=x cpus=2 mem_kb=1 uptime=1.0
LFQ-TEST-BEGIN kunit
[    5.100000]     KTAP version 1
[    5.100001]     # Subtest: suite_a
[    5.100002]     1..3
[    5.100003]         KTAP version 1
[    5.100004]         # Subtest: param_case
[    5.100005]         ok 1 p1
[    5.100006]         ok 2 p2
[    5.100007]     ok 1 param_case
[    5.100008]     ok 2 case_b
[    5.100009]     ok 3 case_c # SKIP not here
[    5.100010] # suite_a: pass:2 fail:0 skip:1 total:3
[    5.100011] ok 1 suite_a
LFQ-TEST-END kunit rc=0
LFQ-TEST-BEGIN user
TAP version 13
1..2
ok 1 x
# a comment
ok 2 y
LFQ-TEST-END user rc=0 secs=7
LFQ-VM-END rc=0
EOF
check "scanner counts only leaf results (KTAP nesting, SKIP)" pass \
	'^vm-stock: 5 passed, 0 failed, 1 skipped$' "$T/scan-leaf.out" -- \
	"$RUNVM" --kernel stock --scan "$T/leaf.log"

check "scanner lists the slowest tests from their END markers' secs=" pass \
	'timing: 1 tests took 7s of guest uptime; slowest: user 7s$' \
	"$T/scan-timing.out" -- "$RUNVM" --kernel stock --scan "$T/leaf.log"

sed -e 's/^ok 2 y$/Segmentation fault/' -e 's/user rc=0/user rc=139/' "$T/leaf.log" >"$T/crash.log"
check "scanner fails a short plan and a non-zero program rc" fail \
	'^vm-stock: 4 passed, 2 failed, 1 skipped$' "$T/scan-crash.out" -- \
	"$RUNVM" --kernel stock --scan "$T/crash.log"

sed -e '/LFQ-TEST-END kunit/i [    6.000000] BUG: KASAN: slab-use-after-free in lfq_pop+0x1/0x2 [lfq]' \
	"$T/leaf.log" >"$T/kasan.log"
check "scanner fails a KASAN report even when all tests pass" fail \
	'SPLAT: 1 suspicious' "$T/scan-kasan.out" -- \
	"$RUNVM" --kernel stock --scan "$T/kasan.log"

sed -e '/^LFQ-TEST-BEGIN user/,$d' "$T/leaf.log" >"$T/nosentinel.log"
echo 'LFQ-TEST-BEGIN user' >>"$T/nosentinel.log"
check "scanner fails a missing sentinel and an unfinished program" fail \
	"no 'LFQ-VM-END' sentinel" "$T/scan-nosentinel.out" -- \
	"$RUNVM" --kernel stock --scan "$T/nosentinel.log"

printf 'LFQ-VM-BOOTED x\n    ok 1 a\nnot ok 1 s\nok 2 t\nLFQ-VM-END rc=0\n' >"$T/parent.log"
check "scanner treats a failed parent as closing, not as a leaf" pass \
	'^vm-stock: 2 passed, 0 failed, 0 skipped$' "$T/scan-parent.out" -- \
	"$RUNVM" --kernel stock --scan "$T/parent.log"

# ------------------------------------------------- stock-kernel boots
mkdir -p "$T/pay"
cat >"$T/pay/tap.sh" <<'EOF'
#!/bin/sh
echo "1..3"
echo "ok 1 - two plus two"
echo "ok 2 - shell works"
echo "ok 3 - needs hardware # SKIP not in a VM"
EOF
chmod +x "$T/pay/tap.sh"

cat >"$T/pass.sh" <<'EOF'
. /lfq/guest-lib.sh
lfq_run tap /lfq/tap.sh
EOF
check "stock boot: 2 ok + 1 skip passes" pass \
	'^vm-stock: 2 passed, 0 failed, 1 skipped$' "$T/boot-pass.out" -- \
	"$RUNVM" --kernel stock --timeout 180 --payload "$T/pay" --script "$T/pass.sh" \
	--log "$T/boot-pass.log"

cat >"$T/warn.sh" <<'EOF'
. /lfq/guest-lib.sh
lfq_run tap /lfq/tap.sh
echo "WARNING: CPU: 0 PID: 1 at lib/fake.c:1 fake_warn+0x0/0x10"
EOF
check "stock boot: a WARNING line in the log fails the run" fail \
	'SPLAT: 1 suspicious' "$T/boot-warn.out" -- \
	"$RUNVM" --kernel stock --timeout 180 --payload "$T/pay" --script "$T/warn.sh" \
	--log "$T/boot-warn.log"

cat >"$T/reboot.sh" <<'EOF'
. /lfq/guest-lib.sh
lfq_run tap /lfq/tap.sh
reboot -f
sleep 30
EOF
check "stock boot: guest rebooting before the sentinel fails the run" fail \
	"no 'LFQ-VM-END' sentinel" "$T/boot-reboot.out" -- \
	"$RUNVM" --kernel stock --timeout 180 --payload "$T/pay" --script "$T/reboot.sh" \
	--log "$T/boot-reboot.log"

# A stuck guest is stopped long before --timeout and classified: the
# kernel's lockup report with no lfq code on the stacks is INFRA (exit 3),
# with lfq code it is a test failure; a silent console is stuck too.
cat >"$T/stuck.sh" <<'EOF'
. /lfq/guest-lib.sh
lfq_run tap /lfq/tap.sh
echo "LFQ-TEST-BEGIN spin"
echo "watchdog: BUG: soft lockup - CPU#1 stuck for 45s! [spin:99]"
echo " smp_call_function_many_cond+0x1/0x2"
sleep 600
EOF
# shellcheck disable=SC2016  # $@ belongs to the inner bash
check "stock boot: a lockup outside lfq stops the VM early as INFRA (exit 3)" pass \
	'INFRA guest stuck in spin: the kernel reported: watchdog: BUG: soft lockup' \
	"$T/boot-stuck.out" -- bash -c '"$@"; [ $? -eq 3 ]' \
	run "$RUNVM" --kernel stock --timeout 300 --payload "$T/pay" --script "$T/stuck.sh" \
	--log "$T/boot-stuck.log"

sed 's|smp_call_function_many_cond+0x1/0x2|lfq_queue_reserve+0x12/0x40 [lfq]|' \
	"$T/stuck.sh" >"$T/stuck-lfq.sh"
check "stock boot: a lockup with lfq code on the stack is a test failure" fail \
	'FAIL STUCK in spin: .* lfq code is on the stacks' "$T/boot-stuck-lfq.out" -- \
	"$RUNVM" --kernel stock --timeout 300 --payload "$T/pay" \
	--script "$T/stuck-lfq.sh" --log "$T/boot-stuck-lfq.log"

printf '. /lfq/guest-lib.sh\nlfq_run quiet sleep 600\n' >"$T/silent.sh"
check "stock boot: a console silent for LFQ_VM_SILENT_SECS is stuck" fail \
	'INFRA guest stuck in quiet: the console went silent' "$T/boot-silent.out" -- \
	env LFQ_VM_SILENT_SECS=30 "$RUNVM" --kernel stock --timeout 300 \
	--payload "$T/pay" --script "$T/silent.sh" --log "$T/boot-silent.log"

# ------------------------------------------ optional: built flavours + modules
# build_module KOUT DIR NAME: builds DIR/NAME.c (already written) into NAME.ko
build_module() {
	echo "obj-m := $3.o" >"$2/Kbuild"
	make -C "$1" M="$2" modules >"$2/build.log" 2>&1
}

write_modules() {
	local dir=$1
	mkdir -p "$dir/kunit" "$dir/leak" "$dir/kasan"
	cat >"$dir/kunit/lfq_vm_kunit.c" <<'EOF'
// Throwaway KUnit suite proving KTAP from insmod is counted by run-vm.sh.
#include <kunit/test.h>
static void lfq_vm_pass(struct kunit *test) { KUNIT_EXPECT_EQ(test, 2 + 2, 4); }
static void lfq_vm_pass2(struct kunit *test) { KUNIT_EXPECT_TRUE(test, true); }
static void lfq_vm_skip(struct kunit *test) { kunit_skip(test, "selftest skip"); }
static struct kunit_case lfq_vm_cases[] = {
	KUNIT_CASE(lfq_vm_pass), KUNIT_CASE(lfq_vm_pass2), KUNIT_CASE(lfq_vm_skip), {}
};
static struct kunit_suite lfq_vm_suite = { .name = "lfq_vm_selftest", .test_cases = lfq_vm_cases };
kunit_test_suite(lfq_vm_suite);
MODULE_LICENSE("GPL");
EOF
	cat >"$dir/leak/lfq_vm_leak.c" <<'EOF'
// Throwaway module that leaks 1 KiB on load: kmemleak must report it.
#include <linux/module.h>
#include <linux/slab.h>
static void *lfq_vm_sink;
static int __init lfq_vm_leak_init(void)
{
	void *p = kmalloc(1024, GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	memset(p, 0x5a, 1024);
	WRITE_ONCE(lfq_vm_sink, p);
	WRITE_ONCE(lfq_vm_sink, NULL);
	return 0;
}
static void __exit lfq_vm_leak_exit(void) { }
module_init(lfq_vm_leak_init);
module_exit(lfq_vm_leak_exit);
MODULE_LICENSE("GPL");
EOF
	cat >"$dir/kasan/lfq_vm_kasan.c" <<'EOF'
// Throwaway module writing one byte past a kmalloc(16): KASAN must report it.
#include <linux/module.h>
#include <linux/slab.h>
static int __init lfq_vm_kasan_init(void)
{
	char *p = kmalloc(16, GFP_KERNEL);
	size_t i = 16;
	if (!p)
		return -ENOMEM;
	OPTIMIZER_HIDE_VAR(i);
	p[i] = 1;
	kfree(p);
	return 0;
}
static void __exit lfq_vm_kasan_exit(void) { }
module_init(lfq_vm_kasan_init);
module_exit(lfq_vm_kasan_exit);
MODULE_LICENSE("GPL");
EOF
}

for flav in "${FLAVOURS[@]}"; do
	kout=$("$HERE/build-kernel.sh" "$flav" 2>"$T/build-$flav.err" | tail -1) || {
		n=$((n + 1)); nfail=$((nfail + 1))
		echo "not ok $n - $flav kernel build failed (see $T/build-$flav.err)"
		continue
	}
	md=$T/mod-$flav
	write_modules "$md"
	pay=$T/pay-$flav
	mkdir -p "$pay"
	cp "$T/pay/tap.sh" "$kout/lfq-hello/lfq_vm_hello.ko" "$pay/"
	for m in kunit leak kasan; do
		if build_module "$kout" "$md/$m" "lfq_vm_$m"; then
			cp "$md/$m/lfq_vm_$m.ko" "$pay/"
		else
			echo "# building lfq_vm_$m.ko against $kout failed: $md/$m/build.log"
		fi
	done

	cat >"$T/mod-$flav.sh" <<'EOF'
. /lfq/guest-lib.sh
lfq_run insmod_hello insmod /lfq/lfq_vm_hello.ko
lfq_run rmmod_hello rmmod lfq_vm_hello
lfq_run kunit insmod /lfq/lfq_vm_kunit.ko
lfq_run rmmod_kunit rmmod lfq_vm_kunit
lfq_run tap /lfq/tap.sh
EOF
	check "$flav boot: insmod/rmmod + KUnit KTAP counted (4 passed, 2 skipped)" pass \
		"^vm-$flav: 4 passed, 0 failed, 2 skipped\$" "$T/boot-$flav.out" -- \
		"$RUNVM" --kernel "$flav" --timeout 600 --payload "$pay" --script "$T/mod-$flav.sh" \
		--log "$T/boot-$flav.log"

	[ "$flav" = debug ] || continue
	printf '. /lfq/guest-lib.sh\nlfq_run leak insmod /lfq/lfq_vm_leak.ko\n' >"$T/leak.sh"
	check "debug boot: a leaking module is reported by kmemleak and fails" fail \
		'unreferenced object' "$T/boot-leak.out" -- \
		"$RUNVM" --kernel debug --timeout 600 --payload "$pay" --script "$T/leak.sh" \
		--log "$T/boot-leak.log"
	printf '. /lfq/guest-lib.sh\nlfq_run kasan insmod /lfq/lfq_vm_kasan.ko\n' >"$T/kasan.sh"
	check "debug boot: an out-of-bounds write is reported by KASAN and fails" fail \
		'BUG: KASAN: slab-out-of-bounds' "$T/boot-kasan.out" -- \
		"$RUNVM" --kernel debug --timeout 600 --payload "$pay" --script "$T/kasan.sh" \
		--log "$T/boot-kasan.log"
done

echo "# selftest logs: $T"
echo "# vm-selftest: $((n - nfail)) passed, $nfail failed"
[ "$nfail" -eq 0 ]
