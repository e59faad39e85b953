#!/bin/sh
# tools/bench/make-bench.sh - `make bench`: runs lfq-bench's full mode
# (host suites, then the VM suites on Debian's stock kernel), keeps the
# JSON and the plots under docs/perf/, and rewrites docs/PERFORMANCE.md
# from tools/bench/performance.md.in with this run's machine, commands,
# tables and targets, and the reading of them in tools/bench/findings.md
# (written by whoever last ran the full benchmark; it names its run). LFQ_BENCH_ARGS adds arguments (e.g. --quick).
set -eu
cd "$(dirname "$0")/../.."

BENCH=build/tools/bench/lfq-bench
OUT=build/bench
DOC=docs/PERFORMANCE.md
PERF=docs/perf
mkdir -p "$OUT" "$PERF"
rm -f "$PERF"/*.svg "$PERF"/*.png

# shellcheck disable=SC2086
"$BENCH" --full ${LFQ_BENCH_ARGS:-} --json "$PERF/results.json" \
	--plots "$OUT/plots" --markdown "$OUT/tables.md" | tee "$OUT/table.txt"
cp "$OUT"/plots/*.svg "$OUT"/plots/*.png "$PERF/"

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
{
	echo "- CPU: $cpu, $(nproc) online CPUs, $(free -g | awk '/Mem:/{print $2}') GiB"
	echo "- Host kernel: $(uname -r); VM: Debian $(ls /boot/vmlinuz-6.1.0-*-amd64 | sort -V | tail -1 | sed 's|/boot/vmlinuz-||') under QEMU/TCG, 2 vCPUs"
	echo "- Compiler: $(cc --version | head -1)"
	echo "- Peers: DPDK $(pkg-config --modversion libdpdk), ck $(dpkg-query -W -f='${Version}' libck-dev), boost $(dpkg-query -W -f='${Version}' libboost-dev), liburcu $(dpkg-query -W -f='${Version}' liburcu-dev), libbpf $(dpkg-query -W -f='${Version}' libbpf-dev), valgrind $(valgrind --version | sed 's/valgrind-//')"
	echo "- lfq: commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), run $(date -u '+%Y-%m-%d %H:%M UTC')"
} >"$OUT/machine.md"
for f in "$PERF"/*.svg; do
	b=$(basename "$f" .svg)
	echo "![$b](perf/$b.svg)"
	echo
done >"$OUT/plots.md"

awk -v machine="$OUT/machine.md" -v tables="$OUT/tables.md" \
	-v plots="$OUT/plots.md" -v findings=tools/bench/findings.md '
	function cat(f,  l) { while ((getline l < f) > 0) print l; close(f) }
	/^@MACHINE@$/ { cat(machine); next }
	/^@TABLES@$/ { cat(tables); next }
	/^@PLOTS@$/ { cat(plots); next }
	/^@FINDINGS@$/ { cat(findings); next }
	{ print }' tools/bench/performance.md.in >"$DOC"
echo "make-bench: wrote $DOC, $PERF/results.json and $(ls "$PERF"/*.svg | wc -l) plots" >&2
