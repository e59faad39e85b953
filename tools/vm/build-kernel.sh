#!/usr/bin/env bash
# tools/vm/build-kernel.sh - owned by tools/vm.
# Builds (and caches, outside the repo) the lfq VM test kernels from Debian's
# linux-source-6.1: tinyconfig + tools/vm/kconfig/{base,FLAVOUR}.config.
#
# Usage: tools/vm/build-kernel.sh [--force] debug|kcsan
#        tools/vm/build-kernel.sh --config-only DIR debug|kcsan
#
# Prints progress on stderr and the kernel build directory (KOUT) as the only,
# hence LAST, line of stdout:
#     KOUT=$(tools/vm/build-kernel.sh debug | tail -1)
#     make -C "$KOUT" M="$PWD/kmod" modules     # out-of-tree module
#     "$KOUT/arch/x86/boot/bzImage"             # what run-vm.sh boots
# --config-only DIR generates and verifies the .config in DIR without compiling.
#
# Cache: ${LFQ_CACHE:-$HOME/.cache/lfq}/kernel-FLAVOUR-HASH, HASH = first 12 hex
# of sha256(fragments + build settings below). A build is complete only once
# KOUT/.lfq-complete exists; an incomplete directory is (incrementally) rebuilt.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${LFQ_CACHE:-$HOME/.cache/lfq}
TARBALL=${LFQ_KSRC_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
SRC_NAME=linux-source-6.1
SRC=$CACHE/src/$SRC_NAME
JOBS=${LFQ_JOBS:-$(nproc)}
# Bump when anything below changes what gets built.
BUILD_RECIPE_VERSION=1
BUILD_TARGETS=(bzImage modules)

log() { printf 'build-kernel: %s\n' "$*" >&2; }
die() { printf 'build-kernel: ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
	sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

FORCE=0
CONFIG_ONLY=
while [ $# -gt 0 ]; do
	case $1 in
	--force) FORCE=1; shift ;;
	--config-only) [ $# -ge 2 ] || usage; CONFIG_ONLY=$2; shift 2 ;;
	-h|--help) usage ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || usage
FLAVOUR=$1
case $FLAVOUR in
debug|kcsan) ;;
*) die "unknown flavour '$FLAVOUR' (want debug or kcsan)" ;;
esac

FRAGS=("$HERE/kconfig/base.config" "$HERE/kconfig/$FLAVOUR.config")
for f in "${FRAGS[@]}"; do [ -r "$f" ] || die "missing fragment $f"; done

command -v gcc >/dev/null || die "gcc not installed"
SRC_VERSION=$(dpkg-query -W -f='${Version}' "$SRC_NAME" 2>/dev/null || true)
[ -n "$SRC_VERSION" ] || SRC_VERSION=$(stat -c '%s-%Y' "$TARBALL" 2>/dev/null || echo unknown)
SETTINGS="recipe=$BUILD_RECIPE_VERSION
flavour=$FLAVOUR
base=tinyconfig
targets=${BUILD_TARGETS[*]}
source=$SRC_NAME $SRC_VERSION
cc=$(gcc --version | head -1)"
HASH=$( { cat "${FRAGS[@]}"; printf '%s\n' "$SETTINGS"; } | sha256sum | cut -c1-12)

# ---------------------------------------------------------------- source tree
extract_source() {
	mkdir -p "$CACHE/src"
	if [ -e "$SRC/.lfq-extracted" ]; then
		return
	fi
	# A tree extracted by hand (before this script existed) is accepted when
	# it looks whole; otherwise extract afresh into a temp dir, then rename.
	if [ -f "$SRC/Makefile" ] && [ -f "$SRC/scripts/kconfig/merge_config.sh" ] &&
	   [ -d "$SRC/arch/x86/configs" ] && [ -f "$SRC/virt/kvm/Kconfig" ] &&
	   [ -f "$SRC/usr/gen_init_cpio.c" ]; then
		touch "$SRC/.lfq-extracted"
		return
	fi
	[ -r "$TARBALL" ] || die "$TARBALL missing: apt-get install $SRC_NAME"
	log "extracting $TARBALL into $CACHE/src (once)"
	local tmp
	tmp=$(mktemp -d "$CACHE/src/.extract.XXXXXX")
	tar -xf "$TARBALL" -C "$tmp"
	[ -f "$tmp/$SRC_NAME/Makefile" ] || die "tarball did not contain $SRC_NAME/"
	rm -rf "$SRC"
	mv "$tmp/$SRC_NAME" "$SRC"
	rmdir "$tmp"
	touch "$SRC/.lfq-extracted"
}

# ------------------------------------------------------------ config + verify
# verify_config CONFIG FRAGMENT...: every CONFIG_X=v must appear verbatim,
# every "# CONFIG_X is not set" must not be =y/=m. Lists all misses.
verify_config() {
	local cfg=$1; shift
	local missing
	missing=$(awk '
		FNR == NR {
			if ($0 ~ /^CONFIG_[A-Za-z0-9_]+=/) {
				k = $0; sub(/=.*/, "", k); have[k] = $0
			}
			next
		}
		/^CONFIG_[A-Za-z0-9_]+=/ {
			k = $0; sub(/=.*/, "", k)
			got = (k in have) ? have[k] : k " unset"
			if (got != $0) {
				printf "  want %-45s got %s   (%s)\n", $0, got, FILENAME
			}
			next
		}
		/^# CONFIG_[A-Za-z0-9_]+ is not set/ {
			k = $2
			if ((k in have) && have[k] !~ /=n$/)
				printf "  want %-45s got %s   (%s)\n", k "=n", have[k], FILENAME
		}
	' "$cfg" "$@")
	if [ -n "$missing" ]; then
		printf 'build-kernel: ERROR: %s lacks options the fragments request:\n%s\n' \
			"$cfg" "$missing" >&2
		printf 'build-kernel: (a dependency is probably unmet; see the Kconfig "depends on" of each)\n' >&2
		return 1
	fi
}

make_config() {
	local out=$1
	mkdir -p "$out"
	log "configuring $FLAVOUR in $out"
	make -s -C "$SRC" O="$out" tinyconfig >"$out/config.log" 2>&1 ||
		{ tail -40 "$out/config.log" >&2; die "make tinyconfig failed"; }
	"$SRC/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${FRAGS[@]}" \
		>>"$out/config.log" 2>&1 ||
		{ tail -40 "$out/config.log" >&2; die "merge_config.sh failed"; }
	make -s -C "$SRC" O="$out" olddefconfig >>"$out/config.log" 2>&1 ||
		{ tail -40 "$out/config.log" >&2; die "make olddefconfig failed"; }
	verify_config "$out/.config" "${FRAGS[@]}" || die "config verification failed for $FLAVOUR"
	log "config verified: all $(grep -chE '^(CONFIG_|# CONFIG_.* is not set)' "${FRAGS[@]}" |
		paste -sd+ | bc) fragment options as requested"
}

# ------------------------------------------------- out-of-tree module smoke test
check_external_module() {
	local kout=$1 dir=$1/lfq-hello
	rm -rf "$dir"
	mkdir -p "$dir"
	cat >"$dir/lfq_vm_hello.c" <<'EOF'
// Throwaway module proving out-of-tree builds work against this KOUT.
#include <linux/module.h>
#include <linux/init.h>
static int __init lfq_vm_hello_init(void)
{
	pr_info("lfq_vm_hello: loaded\n");
	return 0;
}
static void __exit lfq_vm_hello_exit(void)
{
	pr_info("lfq_vm_hello: unloaded\n");
}
module_init(lfq_vm_hello_init);
module_exit(lfq_vm_hello_exit);
MODULE_LICENSE("GPL");
EOF
	echo 'obj-m := lfq_vm_hello.o' >"$dir/Kbuild"
	make -C "$kout" M="$dir" modules >"$dir/build.log" 2>&1 ||
		{ cat "$dir/build.log" >&2; die "out-of-tree module build against $kout failed"; }
	local rel vm
	rel=$(cat "$kout/include/config/kernel.release")
	vm=$(modinfo -F vermagic "$dir/lfq_vm_hello.ko")
	case $vm in
	"$rel "*) ;;
	*) die "vermagic '$vm' does not match kernel release '$rel'" ;;
	esac
	log "out-of-tree module OK: $dir/lfq_vm_hello.ko (vermagic $vm)"
}

# ---------------------------------------------------------------------- main
extract_source
if [ -e "$SRC/.config" ] || [ -d "$SRC/include/config" ]; then
	log "source tree $SRC is not clean (needed for O= builds); running mrproper"
	make -s -C "$SRC" mrproper
fi

if [ -n "$CONFIG_ONLY" ]; then
	make_config "$(realpath -m "$CONFIG_ONLY")"
	realpath -m "$CONFIG_ONLY"
	exit 0
fi

KOUT=$CACHE/kernel-$FLAVOUR-$HASH
mkdir -p "$CACHE"
# Serialise builders of the same kernel (e.g. two run-vm.sh at once).
exec 9>"$CACHE/.lock-kernel-$FLAVOUR-$HASH"
flock 9

if [ "$FORCE" = 1 ]; then
	rm -f "$KOUT/.lfq-complete"
fi
if [ -e "$KOUT/.lfq-complete" ] && [ -f "$KOUT/arch/x86/boot/bzImage" ]; then
	log "cached: $KOUT ($(cat "$KOUT/.lfq-complete"))"
	echo "$KOUT"
	exit 0
fi

[ -d "$KOUT" ] && log "incomplete build in $KOUT: resuming"
make_config "$KOUT"
printf '%s\n' "$SETTINGS" >"$KOUT/.lfq-settings"

log "building ${BUILD_TARGETS[*]} with -j$JOBS (log: $KOUT/build.log)"
start=$(date +%s)
if ! make -C "$KOUT" -j"$JOBS" "${BUILD_TARGETS[@]}" >"$KOUT/build.log" 2>&1; then
	tail -60 "$KOUT/build.log" >&2
	die "kernel build failed; full log $KOUT/build.log"
fi
secs=$(( $(date +%s) - start ))
for f in arch/x86/boot/bzImage vmlinux Module.symvers scripts/mod/modpost; do
	[ -e "$KOUT/$f" ] || die "build finished but $KOUT/$f is missing"
done
log "built $FLAVOUR kernel $(cat "$KOUT/include/config/kernel.release") in ${secs}s"

check_external_module "$KOUT"

echo "built_in_s=$secs release=$(cat "$KOUT/include/config/kernel.release") date=$(date -u +%FT%TZ)" \
	>"$KOUT/.lfq-complete"
echo "$KOUT"
