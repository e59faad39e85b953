#!/bin/sh
# tests/rules.sh - checks that every rule the code refers to by name is
# defined in kmod/proto/lfq_rules.h: "ORDERING name" (memory-ordering
# pairs) and "HOSTILE MEMORY Hn". A reference to a rule that does not
# exist (a typo, or a rule renamed or dropped) prints the line and exits 1.
#
# Usage: tests/rules.sh [ROOT]
set -u
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$ROOT" || exit 2
RULES=kmod/proto/lfq_rules.h
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Defined: " * name<TAB>" entries of the ORDERING section, " * Hn<TAB>" ones.
sed -n 's/^ \* \([a-z][a-z-]*\)\t.*/\1/p' "$RULES" | sort -u >"$T/ordering"
sed -n 's/^ \* \(H[0-9]*\)\t.*/\1/p' "$RULES" | sort -u >"$T/hostile"
[ -s "$T/ordering" ] && [ -s "$T/hostile" ] || {
	echo "$RULES: no rules found"
	exit 1
}

bad=0
files=$(ls kmod/*/*.[ch] libuser/*.[ch] 2>/dev/null | grep -v "$RULES")
# "ORDERING a, b / c" names a list; words with a '-' or known names count.
for f in $files; do
	grep -HnoE 'ORDERING [a-z][a-z-]*([ ,/]+[a-z][a-z-]*)*' "$f" |
	while IFS=: read -r file n ref; do
		for w in $(printf '%s\n' "${ref#ORDERING }" | tr ',/' '  '); do
			case $w in *-*) ;; *) grep -qx "$w" "$T/ordering" || continue ;; esac
			case $w in *-) continue ;; esac	# "mpsc-*" prose
			grep -qx "$w" "$T/ordering" ||
				echo "$file:$n: ORDERING $w is not in $RULES"
		done
	done
	grep -HnoE 'HOSTILE MEMORY (H[0-9]+)(-H[0-9]+)?' "$f" |
	while IFS=: read -r file n ref; do
		for w in $(printf '%s\n' "${ref#HOSTILE MEMORY }" | tr '-' ' '); do
			grep -qx "$w" "$T/hostile" ||
				echo "$file:$n: HOSTILE MEMORY $w is not in $RULES"
		done
	done
done >"$T/bad"
cat "$T/bad"
[ -s "$T/bad" ] && bad=1
exit $bad
