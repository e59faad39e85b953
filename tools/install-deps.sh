#!/bin/sh
# tools/install-deps.sh - installs, from Debian's archive, every package the
# build, the test VM and the tests need. Idempotent and quiet when all are
# present; run as root (the README's commands and .ci/run call it).
set -eu

PKGS="build-essential bc bison flex libelf-dev libssl-dev dwarves cpio kmod
pkg-config sparse qemu-system-x86 busybox-static linux-image-amd64
linux-headers-amd64 linux-source-6.1 liburcu-dev clang strace xz-utils spin g++
gcc-multilib gdb man-db groff-base
debhelper dh-dkms dkms lintian debootstrap e2fsprogs"

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
# lfq-bench's peers are not listed: `make bench` and make check's bench
# layer install them (tools/bench/install-peers.sh).
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing" >&2
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: need root to apt-get install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
