#!/bin/sh
# tools/stock-kdir.sh - prints the build directory of Debian's stock kernel
# headers (the release linux-headers-amd64 depends on). Never `uname -r`:
# the host kernel is not the kernel the test VM boots.
set -eu
rel=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null |
	sed -n 's/.*linux-headers-\([^ ,]*-amd64\).*/\1/p')
[ -n "$rel" ] || { echo "stock-kdir: linux-headers-amd64 not installed" >&2; exit 1; }
echo "/lib/modules/$rel/build"
