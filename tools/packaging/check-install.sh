#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tools/packaging/check-install.sh DEBDIR - the installation test of the
# Debian packages (make check-install): installs the .debs of DEBDIR into a
# Debian 12 root filesystem, boots it in QEMU (TCG) with Debian's stock
# kernel and checks, in the guest, what a user gets: DKMS builds lfq.ko in
# lfq-dkms's postinst, /dev/lfq is a static node at boot (group lfq, 0660)
# whose open loads the module, the tools and liblfq work, the man pages
# are found; then purging the four packages leaves nothing behind.
#
# The guest boots twice from the same disk: boot 1 installs (as a user
# would, then reboots), boot 2 checks the device as systemd set it up at
# boot, uses it and purges. Guest side: check-install-guest.sh.
#
# The root filesystem (debootstrap from the mirror of this machine's apt
# sources, plus the stock kernel image and headers of tools/vm/run-vm.sh's
# stock kernel, dkms, build-essential, pkg-config, systemd, kmod, liburcu,
# man-db) is built once and cached in ${LFQ_CACHE:-~/.cache/lfq}/
# rootfs-bookworm-HASH, HASH over everything that goes into it.
#
# Output: TAP; last line "check-install: N passed, N failed"; exit status
# 0 only if every check passed. `check-install.sh --rootfs` only builds
# the cached root filesystem. Needs root (debootstrap, chroot).
#
# Environment: LFQ_CACHE, LFQ_CHECK_TIMEOUT (seconds for both boots,
# default 2400), LFQ_KEEP=1 keeps the work directory (disk image, logs),
# LFQ_MIRROR / LFQ_SECURITY_MIRROR override the mirrors.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
T_START=$(date +%s)
SUITE=bookworm
CACHE=${LFQ_CACHE:-$HOME/.cache/lfq}
TIMEOUT=${LFQ_CHECK_TIMEOUT:-2400}
# Bump when the way the root filesystem is made changes.
ROOTFS_FORMAT=1

die() { echo "Bail out! check-install: $*"; exit 2; }
note() { echo "# $*"; }

ROOTFS_ONLY=0
case ${1:-} in
--rootfs) ROOTFS_ONLY=1 ;;
''|-h|--help) echo "usage: $0 DEBDIR | --rootfs" >&2; exit 2 ;;
*) DEBDIR=$1 ;;
esac

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, reading /boot)"
for t in debootstrap mkfs.ext4 qemu-system-x86_64 flock timeout; do
	command -v $t >/dev/null || die "$t not installed"
done

# ------------------------------------------------------------ stock kernel
# As tools/vm/run-vm.sh's stock_kernel(): the newest /boot/vmlinuz-6.1.0-*
# -amd64, which must be the release linux-headers-amd64 depends on.
img=$(printf '%s\n' /boot/vmlinuz-6.1.0-*-amd64 | grep -v '\*' | sort -V | tail -1 || true)
[ -n "$img" ] || die "no /boot/vmlinuz-6.1.0-*-amd64: apt-get install linux-image-amd64"
KREL=${img#/boot/vmlinuz-}
hdr_rel=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null |
	sed -n 's/.*linux-headers-\([^ ,]*-amd64\).*/\1/p')
[ "$hdr_rel" = "$KREL" ] ||
	die "stock kernel $KREL (newest in /boot) != linux-headers-amd64's '$hdr_rel'"
KVER=$(dpkg-query -W -f='${Version}' "linux-image-$KREL" 2>/dev/null ||
	dpkg-query -W -f='${Version}' "linux-image-$KREL-unsigned" 2>/dev/null || true)
[ -n "$KVER" ] || die "linux-image-$KREL not installed"

# ----------------------------------------------------------------- mirrors
# This machine's apt sources (either format), as apt itself reads them.
repo_for() {
	apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
		awk -v s="$1" '$2 == s { print $1; exit }'
}
MIRROR=${LFQ_MIRROR:-$(repo_for $SUITE)}
SECURITY=${LFQ_SECURITY_MIRROR:-$(repo_for $SUITE-security)}
[ -n "$MIRROR" ] || die "no '$SUITE' suite in /etc/apt/sources.list*: set LFQ_MIRROR"
[ -n "$SECURITY" ] || SECURITY=http://deb.debian.org/debian-security/

# ---------------------------------------------------------- root filesystem
# What the guest needs, all preinstalled (the guest has no network): the
# kernel and its headers (DKMS), dkms and the compiler, systemd and udev
# (static nodes), kmod, liblfq's dependencies (liburcu8, and liburcu-dev for
# liblfq-dev), adduser (lfq-dkms's postinst), man-db (man -w).
PKGS="linux-image-$KREL linux-headers-$KREL dkms build-essential pkg-config
systemd systemd-sysv udev kmod adduser liburcu8 liburcu-dev man-db"
PKGS=$(echo $PKGS)
KEY=$(printf '%s\n' "$ROOTFS_FORMAT" "$SUITE" "$MIRROR" "$SECURITY" \
	"$KREL=$KVER" "$PKGS" | sha256sum | cut -c1-12)
ROOTFS=$CACHE/rootfs-$SUITE-$KEY

chroot_mounts=
umount_chroot() {
	local m
	for m in $chroot_mounts; do umount "$m" 2>/dev/null || umount -l "$m" || true; done
	chroot_mounts=
}

build_rootfs() {
	local tmp=$ROOTFS.tmp.$$ p t0=$(date +%s)
	note "building $ROOTFS (debootstrap $SUITE from $MIRROR; $PKGS)"
	mkdir -p "$CACHE"
	rm -rf "$ROOTFS".tmp.*
	trap 'umount_chroot; rm -rf "$tmp"' EXIT
	debootstrap --variant=minbase --components=main $SUITE "$tmp" "$MIRROR" \
		>"$CACHE/debootstrap.log" 2>&1 ||
		{ tail -20 "$CACHE/debootstrap.log"; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
	cat >"$tmp/etc/apt/sources.list" <<-SRC
	deb $MIRROR $SUITE main
	deb $MIRROR $SUITE-updates main
	deb $SECURITY $SUITE-security main
	SRC
	# No service starts inside the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/usr/sbin/policy-rc.d"
	for p in proc sys dev; do
		mount --bind /$p "$tmp/$p"
		chroot_mounts="$tmp/$p $chroot_mounts"
	done
	# The host's exact kernel package version if the archive still has it.
	local kpkgs="linux-image-$KREL=$KVER linux-headers-$KREL=$KVER"
	local rest=${PKGS//linux-image-$KREL /}
	rest=${rest//linux-headers-$KREL /}
	chroot "$tmp" apt-get update -q >>"$CACHE/debootstrap.log" 2>&1 ||
		die "apt-get update in the chroot failed"
	if ! DEBIAN_FRONTEND=noninteractive chroot "$tmp" apt-get install -y -q \
		--no-install-recommends $kpkgs $rest >>"$CACHE/debootstrap.log" 2>&1; then
		note "linux-image-$KREL=$KVER not in the archive; taking its current version"
		DEBIAN_FRONTEND=noninteractive chroot "$tmp" apt-get install -y -q \
			--no-install-recommends $PKGS >>"$CACHE/debootstrap.log" 2>&1 ||
			{ tail -20 "$CACHE/debootstrap.log"; die "apt-get install in the chroot failed"; }
	fi
	chroot "$tmp" apt-get clean
	umount_chroot
	rm -f "$tmp/usr/sbin/policy-rc.d"
	rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/var/log/*.log "$tmp"/var/log/apt/*
	[ -r "$tmp/boot/vmlinuz-$KREL" ] && [ -r "$tmp/boot/initrd.img-$KREL" ] ||
		die "no kernel or initrd in $tmp/boot"
	# The guest: root on /dev/vda, a fixed machine-id (no first-boot
	# logic), no timers that would run apt, man-db or e2scrub during the
	# test, root without a password on the console (no network).
	echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" >"$tmp/etc/fstab"
	echo lfq-check >"$tmp/etc/hostname"
	head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/etc/machine-id"
	echo >>"$tmp/etc/machine-id"
	for t in apt-daily.timer apt-daily-upgrade.timer man-db.timer \
		e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
		ln -sf /dev/null "$tmp/etc/systemd/system/$t"
	done
	chroot "$tmp" passwd -d root >/dev/null
	mv "$tmp" "$ROOTFS"
	trap - EXIT
	note "root filesystem built in $(( $(date +%s) - t0 )) s ($(du -sh "$ROOTFS" | cut -f1))"
}

if [ -d "$ROOTFS" ]; then
	note "root filesystem $ROOTFS (cached)"
else
	build_rootfs
fi
[ $ROOTFS_ONLY = 1 ] && exit 0

# ------------------------------------------------------------------- debs
[ -d "$DEBDIR" ] || die "no directory $DEBDIR (make deb first)"
DEBDIR=$(cd "$DEBDIR" && pwd)
debs=()
for p in lfq-dkms liblfq2 liblfq-dev lfq-tools; do
	f=$(ls "$DEBDIR"/${p}_*.deb 2>/dev/null | sort -V | tail -1 || true)
	[ -n "$f" ] || die "no ${p}_*.deb in $DEBDIR"
	debs+=("$f")
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lfq-check-install.XXXXXX")
QEMU_PID=
cleanup() {
	[ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null
	if [ "${LFQ_KEEP:-0}" = 1 ]; then
		note "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------- disk image
# The cached root filesystem plus the .debs, the guest script and its
# unit, enabled; an ext4 image made from the directory (mkfs.ext4 -d keeps
# owners, modes, links and device nodes: no loop mount).
t0=$(date +%s)
R=$WORK/root
cp -a "$ROOTFS" "$R"
mkdir -p "$R/var/lib/lfq-check/debs"
cp "${debs[@]}" "$R/var/lib/lfq-check/debs/"
install -m 755 "$HERE/check-install-guest.sh" "$R/usr/local/sbin/lfq-check"
cat >"$R/etc/systemd/system/lfq-check.service" <<UNIT
[Unit]
Description=lfq package installation test (tools/packaging/check-install.sh)
After=basic.target systemd-udevd.service systemd-udev-trigger.service kmod-static-nodes.service systemd-tmpfiles-setup-dev.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/lfq-check
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity
# As in a shell: dpkg and dkms run with SIGPIPE at its default.
IgnoreSIGPIPE=no

[Install]
WantedBy=multi-user.target
UNIT
mkdir -p "$R/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/lfq-check.service \
	"$R/etc/systemd/system/multi-user.target.wants/lfq-check.service"
size_mb=$(( $(du -sm "$R" | cut -f1) + 2048 ))
mkfs.ext4 -q -F -L lfqroot -d "$R" "$WORK/disk.img" "${size_mb}M" >/dev/null ||
	die "mkfs.ext4 -d failed"
rm -rf "$R"
note "disk image ${size_mb} MB made in $(( $(date +%s) - t0 )) s"

# ------------------------------------------------------------------- boots
# The port ttyS1 carries the guest's TAP lines alone (the console, ttyS0,
# has them too, among the kernel's and systemd's messages).
boot() {
	local b=$1 left t0 rc=0
	left=$(( DEADLINE - $(date +%s) ))
	[ $left -gt 0 ] || return 124
	t0=$(date +%s)
	note "boot $b (timeout ${left} s; console: $WORK/console$b.log)"
	# The guest's TAP lines are shown as they come.
	: >"$WORK/tap$b.log"
	timeout --foreground $left \
		qemu-system-x86_64 -accel tcg,thread=multi -m 2048 -smp 2 \
		-kernel "$ROOTFS/boot/vmlinuz-$KREL" \
		-initrd "$ROOTFS/boot/initrd.img-$KREL" \
		-append "root=/dev/vda rw console=ttyS0,115200 loglevel=4 panic=-1" \
		-drive file="$WORK/disk.img",if=virtio,format=raw,cache=unsafe \
		-nic none -display none -monitor none -no-reboot \
		-serial file:"$WORK/console$b.log" -serial file:"$WORK/tap$b.log" \
		>"$WORK/qemu$b.log" 2>&1 &
	local pid=$! shown=0 lines
	QEMU_PID=$pid
	while kill -0 $pid 2>/dev/null; do
		sleep 5
		lines=$(wc -l <"$WORK/tap$b.log")
		if [ "$lines" -gt $shown ]; then
			tail -n +$((shown + 1)) "$WORK/tap$b.log" | head -n $((lines - shown)) | tr -d '\r'
			shown=$lines
		fi
	done
	wait $pid || rc=$?
	QEMU_PID=
	tail -n +$((shown + 1)) "$WORK/tap$b.log" | tr -d '\r'
	BOOT_TIME[$b]=$(( $(date +%s) - t0 ))
	note "boot $b: ${BOOT_TIME[$b]} s wall time"
	return $rc
}

declare -A BOOT_TIME
# One VM at a time on this machine (/tmp/lfq-vm.lock), held across both
# boots.
t0=$(date +%s)
exec 9>>/tmp/lfq-vm.lock
flock 9
[ $(( $(date +%s) - t0 )) -lt 2 ] || note "waited $(( $(date +%s) - t0 )) s for /tmp/lfq-vm.lock"
DEADLINE=$(( $(date +%s) + TIMEOUT ))
host_n=0
host_fail=0
host_check() {	# DESCRIPTION STATUS
	host_n=$((host_n + 1))
	if [ "$2" = 0 ]; then echo "ok - $1"; else echo "not ok - $1"; host_fail=$((host_fail + 1)); fi
}

rc=0; boot 1 || rc=$?
grep -q '^# check-install boot 1 done' "$WORK/tap1.log" 2>/dev/null
host_check "boot 1 (install) completed (qemu exit $rc)" $?
if [ $host_fail = 0 ]; then
	rc=0; boot 2 || rc=$?
	grep -q '^# check-install boot 2 done' "$WORK/tap2.log" 2>/dev/null
	host_check "boot 2 (use, purge) completed (qemu exit $rc)" $?
fi
if [ $host_fail != 0 ]; then
	echo "# last console lines:"
	tail -40 "$WORK"/console*.log 2>/dev/null | tr -d '\r' | sed 's/^/#   /'
	[ "${LFQ_KEEP:-0}" = 1 ] || note "LFQ_KEEP=1 keeps the disk image and logs"
fi

# ---------------------------------------------------------------- summary
pass=$(cat "$WORK"/tap*.log 2>/dev/null | tr -d '\r' | grep -c '^ok ' || true)
fail=$(cat "$WORK"/tap*.log 2>/dev/null | tr -d '\r' | grep -c '^not ok ' || true)
pass=$(( pass + host_n - host_fail ))
fail=$(( fail + host_fail ))
echo "1..$(( pass + fail ))"
note "boot 1 (install, DKMS build): ${BOOT_TIME[1]:-?} s; boot 2 (checks, purge): ${BOOT_TIME[2]:-?} s; total $(( $(date +%s) - T_START )) s"
echo "check-install: $pass passed, $fail failed"
[ $fail = 0 ] && [ $pass -gt 0 ]
