#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tools/packaging/dkms-src.sh DESTDIR_SRC VERSION - the sources of lfq.ko
# as DKMS builds them (make dkms-src, and lfq-dkms's /usr/src/lfq-VERSION):
# the top-level Kbuild, kmod/ (sources only: no build products, no
# kmod/tests, whose KUnit modules are not shipped), uapi/, and dkms.conf
# from dkms.conf.in. DESTDIR_SRC is emptied first.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 DESTDIR_SRC VERSION" >&2; exit 2; }
dst=$1
version=$2
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

case $version in
''|*[!0-9A-Za-z.+~-]*) echo "dkms-src: bad version '$version'" >&2; exit 2 ;;
esac

rm -rf "$dst"
mkdir -p "$dst"
cd "$top"
# Sources by name, so that whatever a build left in the tree (objects,
# .cmd files, *.mod*, modules.order, Module.symvers) never ships.
find kmod uapi -path kmod/tests -prune -o -type f \
	\( -name '*.c' -o -name '*.h' -o -name Kbuild \) -print |
	LC_ALL=C sort |
	while read -r f; do
		mkdir -p "$dst/$(dirname "$f")"
		cp -p "$f" "$dst/$f"
		chmod 644 "$dst/$f"
	done
cp -p Kbuild "$dst/Kbuild"
chmod 644 "$dst/Kbuild"
sed "s/@VERSION@/$version/g" "$here/dkms.conf.in" >"$dst/dkms.conf"
chmod 644 "$dst/dkms.conf"
find "$dst" -type d -exec chmod 755 {} +

# Every object of lfq-y (kmod/Kbuild) must have its source there.
for o in $(awk '/^lfq-y/ { on = 1 } on { print; if (!/\\$/) exit }' kmod/Kbuild |
	tr -s ' \t\\' '\n' | grep '\.o$'); do
	[ -f "$dst/kmod/${o%.o}.c" ] ||
		{ echo "dkms-src: kmod/${o%.o}.c missing from $dst" >&2; exit 1; }
done
