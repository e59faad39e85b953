#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tools/packaging/build-deb.sh VERSION OUTDIR - builds the Debian packages
# (make deb): lfq-dkms, liblfq2, liblfq-dev, lfq-tools (and their -dbgsym
# packages) into OUTDIR, then runs lintian on them and fails on any error
# (E:); warnings are listed, not fatal.
#
# The source tree is the working tree's files that git knows or would
# add (tracked, or untracked and not ignored: no build/, no build
# products, no .git) with tools/packaging/debian/ as debian/. When the
# working tree is clean it is HEAD exactly (git archive), and the source
# package (.dsc, with HEAD as lfq_VERSION.orig.tar.xz) is built as well.
# The build runs in a temporary directory; nothing in the repository is
# written but OUTDIR.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 VERSION OUTDIR" >&2; exit 2; }
VERSION=$1
OUTDIR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)

die() { echo "build-deb: $*" >&2; exit 1; }

for t in dpkg-buildpackage dpkg-checkbuilddeps lintian git; do
	command -v $t >/dev/null || die "$t not installed (apt-get install devscripts dpkg-dev lintian git)"
done

# debian/changelog's upstream version must be the Makefile's.
DEBVER=$(dpkg-parsechangelog -l "$HERE/debian/changelog" -S Version)
[ "${DEBVER%-*}" = "$VERSION" ] ||
	die "debian/changelog is at $DEBVER, not $VERSION-N: add a changelog entry (dch -v $VERSION-1)"

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lfq-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SRC=$WORK/lfq-$VERSION

cd "$TOP"
if [ -z "$(git status --porcelain --untracked-files=normal)" ]; then
	CLEAN=1
	echo "build-deb: clean working tree: HEAD $(git rev-parse --short HEAD), source and binary packages"
	git archive --format=tar --prefix="lfq-$VERSION/" HEAD | xz -6 >"$WORK/lfq_$VERSION.orig.tar.xz"
	tar -C "$WORK" -xJf "$WORK/lfq_$VERSION.orig.tar.xz"
else
	CLEAN=0
	echo "build-deb: working tree has changes: binary packages only, from the working tree:"
	git status --short | sed 's/^/build-deb:   /'
	mkdir -p "$SRC"
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
		done | tar -cf - --null -T - | tar -C "$SRC" -xf -
fi
rm -rf "$SRC/debian"
cp -a "$HERE/debian" "$SRC/debian"

cd "$SRC"
dpkg-checkbuilddeps ||
	die "missing build dependencies: apt-get install -y --no-install-recommends debhelper dh-dkms liburcu-dev pkg-config"
if [ $CLEAN = 1 ]; then
	dpkg-buildpackage -us -uc
else
	dpkg-buildpackage -us -uc -b
fi

cd "$WORK"
rm -f "$OUTDIR"/*.deb "$OUTDIR"/*.ddeb "$OUTDIR"/*.changes "$OUTDIR"/*.buildinfo \
	"$OUTDIR"/*.dsc "$OUTDIR"/*.debian.tar.* "$OUTDIR"/*.orig.tar.*
for f in *.deb *.ddeb *.changes *.buildinfo *.dsc *.debian.tar.* *.orig.tar.*; do
	[ -e "$f" ] && mv "$f" "$OUTDIR/"
done
CHANGES=$(ls "$OUTDIR"/lfq_*.changes | head -1)
echo "build-deb: packages in $OUTDIR:"
ls -l "$OUTDIR"

# lintian as root warns and still checks; it reads the .changes (every
# .deb, and the source package if built).
LOG=$OUTDIR/lintian.txt
set +e
lintian --display-info --pedantic --fail-on error "$CHANGES" >"$LOG" 2>&1
rc=$?
set -e
cat "$LOG"
E=$(grep -c '^E: ' "$LOG" || true)
W=$(grep -c '^W: ' "$LOG" || true)
echo "build-deb: lintian: $E errors, $W warnings (full output: $LOG)"
[ "$rc" = 0 ] && [ "$E" = 0 ] || die "lintian reported errors"
