#!/bin/sh
# tests/static-checks.sh - the checks that need no running code, as TAP:
# the uapi headers compile standalone as C and C++, liblfq exports only its
# API and installs a working pkg-config file, and the kernel code is
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
echo "1..9"

rc=0
for h in uapi/*.h; do
	printf '#include "%s"\nint main(void) { return 0; }\n' "$PWD/$h" >"$T/c.c"
	gcc -std=c11 -Wall -Wextra -Werror -pedantic -c "$T/c.c" -o "$T/c.o" \
		>>"$T/c.log" 2>&1 || rc=1
done
ok $rc "uapi headers compile standalone as C11 (-pedantic)" "$T/c.log"

rc=0
for h in uapi/*.h; do
	printf '#include "%s"\nint main() { return 0; }\n' "$PWD/$h" >"$T/cc.cc"
	g++ -std=c++11 -Wall -Wextra -Werror -c "$T/cc.cc" -o "$T/cc.o" \
		>>"$T/cc.log" 2>&1 || rc=1
done
ok $rc "uapi headers compile standalone as C++11" "$T/cc.log"

# The API is what liblfq.h declares LFQ_API; the .so must export exactly
# that (listed by name in liblfq.map), and the .a hold nothing else global.
sed -n 's/^LFQ_API .*[ *]\(lfq_[a-z_]*\)(.*/\1/p' libuser/liblfq.h | sort >"$T/api"
sed -n 's/^[[:space:]]*\(lfq_[a-z_]*\);$/\1/p' libuser/liblfq.map | sort >"$T/map"
nm -D --defined-only build/lib/liblfq.so | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' |
	sort >"$T/so"
nm build/lib/liblfq.a | awk '$2 ~ /^[A-TV-Z]$/ { print $3 }' | sort >"$T/a"
{
	diff -u "$T/api" "$T/map" && diff -u "$T/api" "$T/so" &&
		diff -u "$T/api" "$T/a" && [ "$(wc -l <"$T/api")" -ge 20 ]
} >"$T/nm.log" 2>&1
ok $? "liblfq.so and liblfq.a export exactly liblfq.h's $(wc -l <"$T/api") functions (liblfq.map)" "$T/nm.log"

rc=0
{
	make -s install DESTDIR="$T/root" PREFIX=/usr/local &&
	cat >"$T/use.c" <<'EOC' &&
#include <liblfq.h>
int main(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC, .slot_size = 64,
		 .slot_count = 64, .backend = LFQ_BACKEND_MEMFD);
	struct lfq *q;
	char m[64] = "hi";

	if (lfq_create(&o, &q) || lfq_push(q, m, 3) || lfq_pop(q, m, 3))
		return 1;
	lfq_close(q);
	return m[0] != 'h';
}
EOC
	flags=$(PKG_CONFIG_SYSROOT_DIR="$T/root" \
		PKG_CONFIG_PATH="$T/root/usr/local/lib/pkgconfig" \
		pkg-config --cflags --libs liblfq) &&
	# shellcheck disable=SC2086
	gcc -std=c11 -Wall -Wextra -Werror "$T/use.c" -o "$T/use" $flags &&
	LD_LIBRARY_PATH="$T/root/usr/local/lib" "$T/use"
} >"$T/pc.log" 2>&1 || rc=1
ok $rc "make install + pkg-config: a program builds and runs against liblfq" "$T/pc.log"

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
ok $r "module builds W=1 with no warning" "$T/k.bad"
grep -cE '^/.*: (warning|error): ' "$T/k.log" >/dev/null && r=1 || r=0
grep -q 'CHECK ' "$T/k.log" || r=1
ok $r "sparse (C=2) reports nothing" "$T/k.log"

exit $((fails > 0))
