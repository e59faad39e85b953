#!/bin/sh
# tests/check.sh - runs every test layer (`make check` calls it after
# building): static checks, SPIN models, host tests (plain and TSan),
# lfq-bench's quick mode, the integration tests in a VM on Debian's stock
# kernel, and KUnit plus the integration tests again on the debug kernel
# (KASAN, lockdep, PROVE_RCU, UBSAN, kmemleak) and on the KCSAN kernel.
# The last line is "N passed, N failed, N skipped"; the exit status is
# non-zero on any failure.
#
# LFQ_LAYERS selects layers (default "static model host bench vm-stock
# vm-debug vm-kcsan install"); "bench" runs lfq-bench's quick mode (it must
# run; its figures are `make bench`'s business); "install" is `make
# check-install` (the packages built, installed in a Debian 12 root
# filesystem, booted, used and purged; ~7 min, plus ~5 min the first time
# to debootstrap the cached root filesystem). LFQ_LONG=1 runs the VM
# stress tests with the stock kernel's counts on the debug and KCSAN
# kernels too (tests/vm/guest.sh: they run shorter there by default).
set -u
cd "$(dirname "$0")/.."
LAYERS=${LFQ_LAYERS:-static model host bench vm-stock vm-debug vm-kcsan install}
LOGDIR=${LFQ_LOGDIR:-build/check}
mkdir -p "$LOGDIR"
LFQ_RESULTS_FILE=$PWD/$LOGDIR/results
export LFQ_RESULTS_FILE
: >"$LFQ_RESULTS_FILE"
KDIR=${KDIR:-$(tools/stock-kdir.sh)}
export KDIR

has() { case " $LAYERS " in *" $1 "*) return 0 ;; esac; return 1; }
# each layer's heading says when it began (seconds since check.sh started)
T0=$(date +%s)
layer() { printf '\n=== %s === (at %ds)\n' "$*" $(($(date +%s) - T0)); }
fail_layer() { echo "$1 0 1 0" >>"$LFQ_RESULTS_FILE"; echo "# $1: $2"; }

# The debug kernel first: it also provides checkpatch.pl (linux-source).
KOUT=
if has vm-debug || has static; then
	layer "debug kernel (cached by config hash; first build ~10-20 min)"
	KOUT=$(tools/vm/build-kernel.sh debug | tail -1) || KOUT=
fi

if has static; then
	layer static
	tests/run-tap.sh static tests/static-checks.sh
fi

if has model; then
	layer "model checking (SPIN)"
	tests/run-tap.sh model tests/model/check.sh
fi

if has host; then
	for t in build/tests/host/*; do
		layer "host: ${t##*/}"
		tests/run-tap.sh "host-${t##*/}" "$t"
	done
	for t in build/tests/tsan/*; do
		layer "host, ThreadSanitizer: ${t##*/}"
		TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$PWD/tests/host/tsan.supp" \
			tests/run-tap.sh "tsan-${t##*/}" "$t"
	done
fi

# lfq-bench is not part of `make`: this layer installs its peers and
# builds it first.
if has bench; then
	layer "lfq-bench, quick mode"
	if tools/bench/install-peers.sh && make -s bench-tools; then
		tests/run-tap.sh bench tests/bench-quick.sh
	else
		fail_layer bench "installing lfq-bench's peers or building it failed"
	fi
fi

# payload DIR KO... : the module(s), every static VM test program, and the
# static tools under bin/ (tests run /lfq/bin/lfqctl).
payload() {
	dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir/bin"
	cp "$@" build/tests/vm/* "$dir/"
	if [ "${LFQ_LONG:-0}" = 1 ]; then
		: >"$dir/long"
	fi
	find build/tools -maxdepth 1 -type f -exec cp {} "$dir/bin/" \;
}

if has vm-stock; then
	layer "VM, Debian stock kernel"
	payload "$LOGDIR/pay-stock" kmod/lfq.ko
	tools/vm/run-vm.sh --kernel stock --payload "$LOGDIR/pay-stock" \
		--script tests/vm/guest.sh --log "$LOGDIR/vm-stock.log" --quiet \
		--timeout 1500
	echo "# console log: $LOGDIR/vm-stock.log"
fi

# vm_built FLAVOUR KOUT: the module and its KUnit suites built against a
# kernel from tools/vm/build-kernel.sh, then KUnit and guest.sh in its VM.
vm_built() {
	fl=$1
	kout=$2
	if [ -z "$kout" ]; then
		fail_layer "vm-$fl" "$fl kernel build failed"
		return
	fi
	kd=$PWD/$LOGDIR/kmod-$fl
	rm -rf "$kd"
	mkdir -p "$kd"
	cp -r Kbuild kmod uapi "$kd/"
	find "$kd" \( -name '*.o' -o -name '*.ko' -o -name '*.cmd' \
		-o -name '*.mod*' -o -name modules.order \
		-o -name Module.symvers \) -delete
	if ! make -C "$kout" M="$kd" W=1 modules >"$LOGDIR/kmod-$fl.log" 2>&1; then
		tail -20 "$LOGDIR/kmod-$fl.log"
		fail_layer "vm-$fl" "module build against the $fl kernel failed"
		return
	fi
	payload "$LOGDIR/pay-$fl" "$kd/kmod/lfq.ko" "$kd"/kmod/tests/*.ko
	cat tests/vm/kunit.sh tests/vm/guest.sh >"$LOGDIR/guest-$fl.sh"
	# LFQ_LONG=1: the debug kernel's stress tests at stock counts took
	# about 3300 s on a slow 2-CPU machine
	tmo=2700
	[ "${LFQ_LONG:-0}" = 1 ] && tmo=7200
	tools/vm/run-vm.sh --kernel "$fl" --payload "$LOGDIR/pay-$fl" \
		--script "$LOGDIR/guest-$fl.sh" --log "$LOGDIR/vm-$fl.log" \
		--quiet --timeout "$tmo"
	echo "# console log: $LOGDIR/vm-$fl.log"
}

if has vm-debug; then
	layer "VM, debug kernel (KASAN, lockdep, UBSAN): KUnit and the integration tests"
	vm_built debug "$KOUT"
fi

# KCSAN excludes KASAN: its own kernel. Data races it reports fail the run
# like any splat (see docs/KCSAN.md for what it watches).
if has vm-kcsan; then
	layer "kcsan kernel (cached by config hash; first build ~10-20 min)"
	vm_built kcsan "$(tools/vm/build-kernel.sh kcsan | tail -1)"
fi

if has install; then
	layer "packages: make deb, then installed, used and purged in a Debian 12 VM"
	if make -s deb >"$LOGDIR/deb.log" 2>&1; then
		tail -3 "$LOGDIR/deb.log"
		tests/run-tap.sh install tools/packaging/check-install.sh build/deb
	else
		tail -30 "$LOGDIR/deb.log"
		fail_layer install "make deb failed (log: $LOGDIR/deb.log)"
	fi
fi

layer summary
awk '{ printf "%-28s %5d passed %3d failed %3d skipped%s\n", $1, $2, $3, $4,
	($5 == "infra" ? "  INFRA: the guest got stuck outside lfq (see its log scan)" : "") }' \
	"$LFQ_RESULTS_FILE"
awk '{ p += $2; f += $3; s += $4 }
	END { printf "%d passed, %d failed, %d skipped\n", p, f, s; exit f > 0 }' \
	"$LFQ_RESULTS_FILE"
