#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tools/packaging/check-install-guest.sh - the guest side of
# check-install.sh, run at boot by lfq-check.service (a oneshot after
# basic.target, so udev, kmod-static-nodes and the tmpfiles of /dev are
# done). No network: everything the packages need is preinstalled.
#
# Boot 1 lists the filesystem, installs the .debs of
# /var/lib/lfq-check/debs with dpkg -i (lfq-dkms's postinst has DKMS
# build lfq.ko for the running kernel) and checks what installing did;
# boot 2 checks /dev/lfq as systemd made it at boot, uses the module, the
# tools and liblfq, purges the packages and checks nothing is left. Each
# boot powers off when done.
#
# TAP lines go to /dev/ttyS1 (the host parses that port alone) and to the
# console; command output, as "# " comments, to the console, and to
# /dev/ttyS1 too for a failed check.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C DEBIAN_FRONTEND=noninteractive

STATE=/var/lib/lfq-check
TAP=/dev/ttyS1
PKGS="lfq-dkms liblfq2 liblfq-dev lfq-tools"
KREL=$(uname -r)
stty -F $TAP raw -echo 2>/dev/null || true

say() { printf '%s\n' "$*" >>$TAP; printf '%s\n' "$*"; }
n=$(cat $STATE/n 2>/dev/null || echo 0)

# check DESCRIPTION COMMAND...: one TAP test; the output of COMMAND is
# shown on the console, and on the TAP port as well if it failed.
check() {
	local desc=$1 out rc t0=$SECONDS
	shift
	out=$("$@" 2>&1)
	rc=$?
	n=$((n + 1))
	echo $n >$STATE/n
	if [ $rc = 0 ]; then
		say "ok $n - $desc"
		[ -n "$out" ] && printf '%s\n' "$out" | tail -40 | sed 's/^/#   /'
	else
		say "not ok $n - $desc"
		printf '%s\n' "$out" | tail -40 | sed 's/^/#   /' | tee -a $TAP
		say "#   (exit status $rc)"
	fi
	[ $((SECONDS - t0)) -ge 5 ] && say "#   took $((SECONDS - t0)) s"
	return $rc
}

# Every path of the root filesystem but state that changes by itself
# (kernel and runtime filesystems, logs, caches, dpkg's and DKMS's
# databases, systemd's timestamps and this test's own directory); the
# DKMS tree of lfq is checked on its own.
snapshot() {
	find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run \
		-o -path /tmp -o -path /var/tmp -o -path /var/log \
		-o -path /var/cache -o -path /var/lib/dpkg -o -path /var/lib/dkms \
		-o -path /var/lib/systemd -o -path $STATE -o -path /lost+found \) \
		-prune -o -print | LC_ALL=C sort
}

# A sub-test that fails prints why.
t_group_mode() {
	local s
	s=$(stat -c '%F %t:%T %G %a' /dev/lfq) || return 1
	echo "/dev/lfq: $s"
	[ "$s" = "character special file a:f6 lfq 660" ]
}
t_loaded() { lsmod | grep -q '^lfq '; }
t_not_loaded() { ! lsmod | grep '^lfq '; }

t_autoload() {
	t_not_loaded || { echo "lfq is loaded before the open"; return 1; }
	lfqctl list || return 1
	lsmod | grep '^lfq ' || { echo "lfq not loaded after lfqctl list"; return 1; }
}

t_reload() {
	rmmod lfq || return 1
	[ -c /dev/lfq ] || { echo "/dev/lfq went with the module"; return 1; }
	t_not_loaded || return 1
	lfqctl list || return 1
	lsmod | grep '^lfq ' || { echo "lfq not loaded after lfqctl list"; return 1; }
	t_group_mode
}

t_lfqctl() {
	lfqctl create lfqcheck --type mpsc --slots 64 --slot-size 128 --mode 0660 || return 1
	lfqctl list | tee /dev/stderr | grep -q lfqcheck || { echo "not listed"; return 1; }
	lfqctl stat lfqcheck || return 1
	lfqctl attach-test lfqcheck || return 1
	lfqctl unlink lfqcheck || return 1
	! lfqctl list | grep lfqcheck || { echo "still listed"; return 1; }
}

# A user in the group lfq (and no other) may open /dev/lfq; one outside
# it may not.
t_group_access() {
	local gid
	gid=$(getent group lfq | cut -d: -f3) || return 1
	setpriv --reuid=65534 --regid=65534 --groups=$gid lfqctl list || return 1
	if setpriv --reuid=65534 --regid=65534 --clear-groups lfqctl list; then
		echo "nobody outside the group lfq opened /dev/lfq"
		return 1
	fi
	return 0
}

t_stream() {
	local out
	out=$(lfq-stream -q -t 2 synth --threads 1 --period-ns 100000 2>&1)
	local rc=$?
	printf '%s\n' "$out"
	[ $rc = 0 ] || return 1
	[ -n "$out" ]
}

t_cprog() {
	local d
	d=$(mktemp -d) || return 1
	cat >"$d/t.c" <<-'C'
	#include <errno.h>
	#include <stdio.h>
	#include <string.h>
	#include <liblfq.h>

	static int roundtrip(uint32_t backend, const char *what)
	{
		LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_SPSC,
			 .slot_size = 64, .slot_count = 64, .backend = backend);
		struct lfq *q;
		char in[64] = "hello from the installed liblfq", out[64];
		int err, i;

		err = lfq_create(&o, &q);
		if (err) {
			fprintf(stderr, "%s: lfq_create: %s\n", what, strerror(-err));
			return 1;
		}
		for (i = 0; i < 64; i++)
			if ((err = lfq_push(q, in, sizeof(in)))) {
				fprintf(stderr, "%s: push %d: %s\n", what, i, strerror(-err));
				return 1;
			}
		if (lfq_push(q, in, sizeof(in)) != -EAGAIN) {
			fprintf(stderr, "%s: a full ring took a push\n", what);
			return 1;
		}
		for (i = 0; i < 64; i++) {
			memset(out, 0, sizeof(out));
			if ((err = lfq_pop(q, out, sizeof(out))) || strcmp(in, out)) {
				fprintf(stderr, "%s: pop %d: %s\n", what, i, strerror(-err));
				return 1;
			}
		}
		if (lfq_pop(q, out, sizeof(out)) != -EAGAIN) {
			fprintf(stderr, "%s: an empty ring gave a message\n", what);
			return 1;
		}
		printf("%s: 64 pushed and popped, kernel %d\n", what, lfq_is_kernel(q));
		lfq_close(q);
		return 0;
	}

	int main(void)
	{
		return roundtrip(LFQ_BACKEND_KERNEL, "/dev/lfq") |
		       roundtrip(LFQ_BACKEND_MEMFD, "memfd");
	}
	C
	echo "cc flags: $(pkg-config --cflags --libs liblfq)"
	cc -Wall -Werror -o "$d/t" "$d/t.c" $(pkg-config --cflags --libs liblfq) &&
		ldd "$d/t" | grep -E "liblfq\.so\.2 => (/usr)?/lib/x86_64-linux-gnu/liblfq\.so\.2 " && "$d/t" &&
		echo "static: $(pkg-config --static --libs liblfq)" &&
		cc -Wall -Werror -static -o "$d/ts" "$d/t.c" \
			$(pkg-config --cflags --static --libs liblfq) -lpthread &&
		"$d/ts"
	local rc=$?
	rm -rf "$d"
	return $rc
}

t_leftovers() {
	snapshot >$STATE/after.list
	local d
	d=$(diff $STATE/before.list $STATE/after.list)
	[ -z "$d" ] && { echo "same $(wc -l <$STATE/after.list) paths as before the installation"; return 0; }
	printf '%s\n' "$d"
	return 1
}

t_purged() {
	local p rc=0 s
	for p in $PKGS; do
		s=$(dpkg-query -W -f='${db:Status-Abbrev}' $p 2>/dev/null)
		[ -z "$s" ] || { echo "$p still known to dpkg: '$s'"; rc=1; }
	done
	return $rc
}

phase1() {
	say "# check-install boot 1: kernel $KREL; installing $(ls $STATE/debs | tr '\n' ' ')"
	snapshot >$STATE/before.list
	echo "# $(wc -l <$STATE/before.list) paths before the installation"
	check "dpkg -i of the four packages (DKMS builds lfq.ko in lfq-dkms's postinst)" \
		dpkg -i $STATE/debs/*.deb ||
		{ [ -f /var/lib/dkms/lfq/*/build/make.log ] && tail -30 /var/lib/dkms/lfq/*/build/make.log | sed 's/^/#   /' | tee -a $TAP; }
	check "dpkg: the four packages are installed" \
		sh -c "dpkg-query -W -f='\${Package} \${Version} \${db:Status-Abbrev}\n' $PKGS | tee /dev/stderr | grep -c ' ii \$' | grep -qx 4"
	check "dkms status: lfq installed for $KREL" \
		sh -c "dkms status lfq | tee /dev/stderr | grep -q '$KREL.*: installed'"
	check "lfq.ko is in /lib/modules/$KREL/updates/dkms" \
		sh -c "modinfo -n lfq | tee /dev/stderr | grep -q '^/lib/modules/$KREL/updates/dkms/lfq\.ko'"
	check "modinfo lfq: alias devname:lfq" sh -c "modinfo -F alias lfq | tee /dev/stderr | grep -qx devname:lfq"
	check "modinfo lfq: alias char-major-10-246" sh -c "modinfo -F alias lfq | grep -qx char-major-10-246"
	check "modules.devname has lfq char 10:246" \
		grep -x 'lfq lfq c10:246' /lib/modules/$KREL/modules.devname
	check "the system group lfq exists" sh -c 'getent group lfq && [ $(getent group lfq | cut -d: -f3) -lt 1000 ]'
	check "udev rule /usr/lib/udev/rules.d/60-lfq.rules" \
		grep 'KERNEL=="lfq", GROUP="lfq", MODE="0660", OPTIONS+="static_node=lfq"' /usr/lib/udev/rules.d/60-lfq.rules
	check "the installation did not load lfq" t_not_loaded
	touch $STATE/phase1-done
	say "# check-install boot 1 done"
}

phase2() {
	say "# check-install boot 2: kernel $KREL"
	check "/dev/lfq exists at boot before the module is loaded (static node)" \
		sh -c '[ -c /dev/lfq ] && ! lsmod | grep "^lfq "'
	check "/dev/lfq is char 10:246, group lfq, mode 0660" t_group_mode
	check "opening /dev/lfq (lfqctl list) loads lfq" t_autoload
	check "after rmmod lfq, /dev/lfq stays and its next open loads lfq again" t_reload
	check "lfqctl create, list, stat, attach-test, unlink" t_lfqctl
	check "the group lfq may open /dev/lfq, others may not" t_group_access
	check "lfq-stream -t 2 synth" t_stream
	check "lfqctl and lfq-stream link the installed liblfq.so.2" \
		sh -c 'ldd /usr/bin/lfqctl /usr/bin/lfq-stream | tee /dev/stderr | grep -cE "liblfq\\.so\\.2 => (/usr)?/lib/x86_64-linux-gnu/liblfq\\.so\\.2 " | grep -qx 2'
	check "a C program with <liblfq.h> and pkg-config liblfq (shared and static) pushes and pops" t_cprog
	check "man -w lfqctl liblfq lfq_create" man -w lfqctl liblfq lfq_create
	check "man -w lfq-stream; man -w 4 lfq" sh -c "man -w lfq-stream && man -w 4 lfq"
	check "rmmod lfq" rmmod lfq
	check "dpkg --purge of the four packages" dpkg --purge $PKGS
	check "dpkg knows none of the four packages" t_purged
	check "DKMS has no lfq (/var/lib/dkms/lfq gone, dkms status empty)" \
		sh -c '[ ! -e /var/lib/dkms/lfq ] && [ -z "$(dkms status lfq)" ]'
	check "no lfq.ko under /lib/modules" sh -c '! find /lib/modules -name "lfq.ko*" | grep .'
	check "modinfo lfq fails, modules.devname has no lfq" \
		sh -c '! modinfo lfq && ! grep lfq /lib/modules/*/modules.devname'
	check "the group lfq is gone" sh -c '! getent group lfq && ! grep "^lfq:" /etc/group /etc/gshadow'
	check "no path added or removed since before the installation" t_leftovers
	say "# check-install boot 2 done"
}

mkdir -p $STATE
if [ ! -e $STATE/phase1-done ]; then
	phase1
else
	phase2
	touch $STATE/phase2-done
fi
sync
systemctl --no-block poweroff
