#!/bin/sh
# tools/bench/install-peers.sh - installs, from Debian's archive, the peers
# lfq-bench measures lfq against and what it needs to measure and plot:
# DPDK (rte_ring), Concurrency Kit (ck_ring), boost (spsc_queue), liburcu
# (wfcqueue), libbpf + bpftool + clang (the BPF ring buffer), valgrind
# (instruction counts), gnuplot (plots). Idempotent; run as root.
set -eu

PKGS="libdpdk-dev libck-dev libboost-dev liburcu-dev libbpf-dev bpftool
clang libelf-dev zlib1g-dev valgrind gnuplot-nox g++ pkg-config"

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-peers: installing:$missing" >&2
if [ "$(id -u)" != 0 ]; then
	echo "install-peers: need root to apt-get install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
