#!/bin/sh
# tests/static-checks.sh - the checks that need no running code, as TAP:
# the uapi headers compile standalone as C89, C11 and C++17 with one
# layout on 32 and 64 bits, liblfq exports only its API, make install
# honours PREFIX/DESTDIR (a working pkg-config file, the tools, the man
# pages) and uninstalls cleanly, the man pages render clean, and the
# kernel code is
# checkpatch --strict, sparse (C=2) and W=1 clean, and includes only go
# down the layers (tests/layers.sh), and the rules the code names exist
# (tests/rules.sh).
#
# Usage: tests/static-checks.sh   (from the repository root, after `make`)
set -u
KDIR=${KDIR:-$(tools/stock-kdir.sh)}
CHECKPATCH=${CHECKPATCH:-${LFQ_CACHE:-$HOME/.cache/lfq}/src/linux-source-6.1/scripts/checkpatch.pl}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
fails=0

ok() { # ok COND-STATUS DESCRIPTION [LOG]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		fails=$((fails + 1))
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && sed 's/^/# /' "$3" | head -40
	fi
}

echo "TAP version 13"
echo "1..10"

# Every uapi header alone, in C89, C11 and C++17, all -pedantic -Werror.
rc=0
for h in uapi/*.h; do
	printf '#include "%s"\nint main(void) { return 0; }\n' "$PWD/$h" >"$T/c.c"
	cp "$T/c.c" "$T/cc.cc"
	for cc in "gcc -std=c89" "gcc -std=c11" "g++ -std=c++17"; do
		echo "== $h: $cc" >>"$T/c.log"
		src=$T/c.c
		[ "${cc%% *}" = g++ ] && src=$T/cc.cc
		# shellcheck disable=SC2086
		$cc -Wall -Wextra -Werror -pedantic -c "$src" -o "$T/c.o" \
			>>"$T/c.log" 2>&1 || rc=1
	done
done
ok $rc "uapi headers compile standalone as C89, C11 and C++17 (-pedantic -Werror)" "$T/c.log"

# A 32-bit process shares the same structs: every uapi struct has the
# same size and member offsets under -m32 as under -m64 (gdb's ptype /o
# of the debug info of both builds).
rc=0
printf '#include "%s"\n' uapi/*.h | sed "s|\"|\"$PWD/|" >"$T/l.c"
structs=$(sed -n 's/^struct \(lfq_[a-z0-9_]*\) {.*/\1/p' uapi/*.h | sort -u)
for m in 32 64; do
	gcc -m$m -g -fno-eliminate-unused-debug-types -c "$T/l.c" \
		-o "$T/l$m.o" >>"$T/l.log" 2>&1 || rc=1
	for st in $structs; do
		gdb -batch -ex "ptype /o struct $st" "$T/l$m.o" 2>&1
	done >"$T/l$m.txt"
done
grep -q 'total size' "$T/l64.txt" || rc=1
diff -u "$T/l64.txt" "$T/l32.txt" >>"$T/l.log" 2>&1 || rc=1
ok $rc "the $(echo "$structs" | wc -w) uapi structs have one layout under -m32 and -m64" "$T/l.log"

# The API is what liblfq.h and lfq_inline.h declare LFQ_API; the .so must
# export exactly that (listed by name in liblfq.map), and the .a hold
# nothing else global.
sed -n 's/^LFQ_API .*[ *]\(lfq_[a-z_]*\)(.*/\1/p' libuser/liblfq.h \
	libuser/lfq_inline.h | sort >"$T/api"
# (A function whose struct grew is listed, and exported, once per version.)
sed -n 's/^[[:space:]]*\(lfq_[a-z_]*\);$/\1/p' libuser/liblfq.map | sort -u >"$T/map"
nm -D --defined-only build/lib/liblfq.so | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' |
	sort -u >"$T/so"
nm build/lib/liblfq.a | awk '$2 ~ /^[A-TV-Z]$/ { sub(/@.*/, "", $3); print $3 }' |
	sort -u >"$T/a"
{
	diff -u "$T/api" "$T/map" && diff -u "$T/api" "$T/so" &&
		diff -u "$T/api" "$T/a" && [ "$(wc -l <"$T/api")" -ge 20 ]
} >"$T/nm.log" 2>&1
ok $? "liblfq.so and liblfq.a export exactly the $(wc -l <"$T/api") functions liblfq.h and lfq_inline.h declare (liblfq.map)" "$T/nm.log"

# make install honours PREFIX and DESTDIR at install time (the build
# used the default prefix): the .pc names the install prefix, a program
# builds with it and runs; the tools and man pages are there; make
# uninstall leaves no file behind.
rc=0
P=/opt/lfq-check left=
# shellcheck disable=SC2086  # $flags is pkg-config's word list
{
	make -s install DESTDIR="$T/root" PREFIX=$P &&
	cat >"$T/use.c" <<'EOC' &&
#include <liblfq.h>
#include <lfq_inline.h>
int main(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = 64,
		 .slot_count = 64, .backend = LFQ_BACKEND_MEMFD);
	struct lfq_inline_prod ip;
	struct lfq_inline_cons ic;
	const void *r;
	struct lfq *q;
	char m[64] = "hi";
	void *w;

	if (lfq_create(&o, &q) || lfq_push(q, m, 3) || lfq_pop(q, m, 3) ||
	    lfq_inline_producer(q, &ip) || lfq_inline_consumer(q, &ic) ||
	    lfq_inline_reserve(&ip, 1, &w) != 1)
		return 1;
	*(char *)w = 'i';
	lfq_inline_commit(&ip, 1);
	if (lfq_inline_peek(&ic, 1, &r) != 1 || *(const char *)r != 'i')
		return 1;
	lfq_inline_release(&ic, 1);
	lfq_close(q);
	return m[0] != 'h';
}
EOC
	grep -qx "libdir=$P/lib" "$T/root$P/lib/pkgconfig/liblfq.pc" &&
	flags=$(PKG_CONFIG_SYSROOT_DIR="$T/root" \
		PKG_CONFIG_PATH="$T/root$P/lib/pkgconfig" \
		pkg-config --cflags --libs liblfq) &&
	gcc -std=c11 -Wall -Wextra -Werror "$T/use.c" -o "$T/use" $flags &&
	printf '#include <lfq_inline.h>\nint f(struct lfq_inline_prod *p)\n{\n\tvoid *w;\n\tint n = lfq_inline_reserve(p, 1, &w);\n\n\tif (n > 0)\n\t\tlfq_inline_commit(p, 1);\n\treturn n;\n}\n' >"$T/use.cc" &&
	g++ -std=c++17 -Wall -Wextra -Werror -pedantic -fsyntax-only \
		"$T/use.cc" $(PKG_CONFIG_SYSROOT_DIR="$T/root" \
		PKG_CONFIG_PATH="$T/root$P/lib/pkgconfig" \
		pkg-config --cflags liblfq) &&
	LD_LIBRARY_PATH="$T/root$P/lib" "$T/use" &&
	LD_LIBRARY_PATH="$T/root$P/lib" "$T/root$P/bin/lfqctl" --help 2>&1 |
		grep -q Usage &&
	[ -x "$T/root$P/bin/lfq-stream" ] &&
	[ -f "$T/root$P/share/man/man4/lfq.4" ] &&
	[ -f "$T/root$P/share/man/man7/liblfq.7" ] &&
	[ -f "$T/root$P/share/man/man1/lfqctl.1" ] &&
	make -s uninstall DESTDIR="$T/root" PREFIX=$P &&
	left=$(find "$T/root" -type f -o -type l) && [ -z "$left" ] ||
		{ echo "left after make uninstall: $left"; false; }
} >"$T/pc.log" 2>&1 || rc=1
ok $rc "make install PREFIX=$P: .pc for that prefix, a program using liblfq.h and lfq_inline.h builds and runs (lfq_inline.h also as C++17), tools and man pages; make uninstall leaves no file" "$T/pc.log"

# Every man page renders without a warning (a ".so man3/x.3" alias
# through a man tree in which it resolves, as it does once installed).
rc=0
pages=$(ls tools/man/*.[1347] 2>/dev/null)
: >"$T/man.log"
[ -n "$pages" ] || rc=1
mkdir -p "$T/man"
for sec in 1 3 4 7; do ln -s "$PWD/tools/man" "$T/man/man$sec"; done
for pg in $pages; do
	LC_ALL=C.UTF-8 MANWIDTH=80 MANPATH="$T/man" man --warnings -E UTF-8 \
		-l "$pg" 2>>"$T/man.log" >/dev/null || rc=1
done
[ -s "$T/man.log" ] && rc=1
ok $rc "the $(echo "$pages" | wc -w) man pages render clean under man --warnings" "$T/man.log"

if [ -x "$CHECKPATCH" ]; then
	"$CHECKPATCH" --no-tree --strict --terse --show-types -f \
		kmod/proto/*.h kmod/core/*.[ch] kmod/sources/*.[ch] \
		kmod/dev/*.[ch] kmod/tests/*.[ch] >"$T/cp.log" 2>&1
	# uapi headers cannot use the kernel-internal BIT() macro.
	"$CHECKPATCH" --no-tree --strict --terse --show-types \
		--ignore BIT_MACRO -f uapi/*.h >>"$T/cp.log" 2>&1
	grep -Ev '^(total|$)' "$T/cp.log" | grep -v '\.mod\.c' >"$T/cp.bad"
	[ -s "$T/cp.bad" ] && rc=1 || rc=0
	ok $rc "checkpatch --strict clean" "$T/cp.bad"
else
	n=$((n + 1)); echo "not ok $n - checkpatch.pl not found at $CHECKPATCH"
	fails=$((fails + 1))
fi

tests/layers.sh >"$T/layers.log" 2>&1
ok $? "includes go only down the layers (uapi < proto < core < sources < dev; proto < libuser)" "$T/layers.log"
tests/rules.sh >"$T/rules.log" 2>&1
ok $? "every ORDERING and HOSTILE MEMORY rule the code names is in kmod/proto/lfq_rules.h" "$T/rules.log"

# sparse and W=1 on a clean copy, so every file is compiled and checked.
mkdir -p "$T/k"
cp -r Kbuild kmod uapi "$T/k/"
find "$T/k" \( -name '*.o' -o -name '*.ko' -o -name '*.cmd' -o -name '*.mod*' \
	-o -name modules.order -o -name Module.symvers \) -delete
make -C "$KDIR" M="$T/k" W=1 C=2 modules >"$T/k.log" 2>&1
rc=$?
grep -E 'warning:|error:' "$T/k.log" | grep -v 'Skipping BTF' >"$T/k.bad"
[ $rc = 0 ] && [ ! -s "$T/k.bad" ] && r=0 || r=1
ok "$r" "module builds W=1 with no warning" "$T/k.bad"
grep -cE '^/.*: (warning|error): ' "$T/k.log" >/dev/null && r=1 || r=0
grep -q 'CHECK ' "$T/k.log" || r=1
ok "$r" "sparse (C=2) reports nothing" "$T/k.log"

exit $((fails > 0))
