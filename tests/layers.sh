#!/bin/sh
# tests/layers.sh - checks that every #include "..." in our C code goes to
# the same layer or one below it:
#
#   uapi  <  kmod/proto  <  kmod/core  <  kmod/sources  <  kmod/dev
#            kmod/proto  <  libuser      (liblfq builds on proto and uapi)
#
# In kmod/, a header of another layer is named "layer/file.h"; a bare name
# is a header of the including file's own directory, or of uapi/. In
# libuser/, bare names resolve to libuser/, kmod/proto/ or uapi/ (its -I
# path). kmod/tests/ (KUnit) may include anything. Prints each offending
# line and exits 1 if there is one.
#
# Usage: tests/layers.sh [ROOT]     (default: the repository root)
set -u
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$ROOT" || exit 2

rank() {
	case $1 in
	uapi) echo 0 ;;
	proto) echo 1 ;;
	core) echo 2 ;;
	sources) echo 3 ;;
	dev) echo 4 ;;
	libuser) echo 2 ;;
	*) echo 99 ;;
	esac
}

bad=0
check_file() { # check_file FILE LAYER DIR
	file=$1 layer=$2 dir=$3
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" |
	while IFS= read -r line; do
		n=${line%%:*}
		inc=$(printf '%s\n' "$line" | sed 's/.*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/')
		case $inc in
		*/*)
			to=${inc%%/*}
			if [ "$layer" = libuser ] || [ ! -f "kmod/$inc" ]; then
				echo "$file:$n: #include \"$inc\": no such layer header"
				echo x >>"$T"
				continue
			fi ;;
		*)
			if [ -f "$dir/$inc" ]; then
				to=$layer
			elif [ "$layer" = libuser ] && [ -f "kmod/proto/$inc" ]; then
				to=proto
			elif [ -f "uapi/$inc" ]; then
				to=uapi
			else
				echo "$file:$n: #include \"$inc\": not in $dir/ or uapi/ (name another layer's header as \"layer/$inc\")"
				echo x >>"$T"
				continue
			fi ;;
		esac
		if [ "$(rank "$to")" -gt "$(rank "$layer")" ]; then
			echo "$file:$n: #include \"$inc\": $layer may not include $to (a higher layer)"
			echo x >>"$T"
		fi
	done
}

T=$(mktemp)
trap 'rm -f "$T"' EXIT
for f in uapi/*.h; do check_file "$f" uapi uapi; done
for l in proto core sources dev; do
	for f in kmod/$l/*.[ch]; do
		[ -e "$f" ] && check_file "$f" "$l" "kmod/$l"
	done
done
for f in libuser/*.[ch]; do check_file "$f" libuser libuser; done
[ -s "$T" ] && bad=1
exit $bad
