// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl_errno_names.c - the /dev/lfq name commands (kmod/dev/lfq_names.c)
 * fed bad input, checked against the exact errno the kernel returns. The
 * rules every command shares (the dispatcher's order, the size-tagged
 * struct convention) are ioctl_errno.c's; here, what names add:
 *
 *   CREATE with a name: no NUL in the array -> ENAMETOOLONG; empty,
 *	leading '.', a character outside [A-Za-z0-9._-], non-zero bytes
 *	after the NUL, mode bits outside 0777, a mode on an anonymous queue,
 *	unknown role bits -> EINVAL; name taken -> EEXIST; a bound file ->
 *	EBUSY and no name made
 *   OPEN: bound -> EBUSY first; sizes and pointers as CREATE; role 0 or
 *	unknown, flags, __reserved -> EINVAL; name as above; unknown name ->
 *	ENOENT; a taken role -> EBUSY
 *   UNLINK: any file; sizes and pointers as CREATE; flags -> EINVAL; name
 *	as above; unknown -> ENOENT
 *   LIST: any file; size, flags, __reserved -> EINVAL; entry_size below
 *	VER0 or not a multiple of 8 -> EINVAL, above PAGE_SIZE -> E2BIG;
 *	entries or the struct unwritable -> EFAULT; bigger elements get
 *	their tails zeroed; count < total writes count
 *
 * Raw ioctls only (tests/lib/errno_ioctl.h). Runs in the test VM with
 * lfq.ko loaded, as root, with no other named queue (LIST counts them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "errno_ioctl.h"
#include "lfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

static void test_create_named(void)
{
	static const char *const bad[] = {
		"a/b", "a b", ".hidden", ".", "..", "caf\xc3\xa9", "tab\t",
		"nl\n", "x:y", "*", "a\\b", "\x7f",
	};
	char name31[32];
	struct lfq_create c;
	unsigned int i;
	int fd;

	memset(name31, 'n', 31);
	name31[31] = '\0';

	c = geo_named("", 0600);
	expect(try_create(&c), EINVAL, "CREATE anonymous with mode 0600");
	c = geo_named("t-errno", 01000);
	expect(try_create(&c), EINVAL, "CREATE named, mode 01000 (sticky)");
	c = geo_named("t-errno", 04644);
	expect(try_create(&c), EINVAL, "CREATE named, mode 04644 (setuid)");
	c = geo_named("t-errno", 0x80000000u);
	expect(try_create(&c), EINVAL, "CREATE named, mode 0x80000000");
	c = geo_named("t-errno", 0600);
	c.role = 4;
	expect(try_create(&c), EINVAL, "CREATE named, role 0x4");
	c.role = LFQ_ROLE_ALL | 0x80000000u;
	expect(try_create(&c), EINVAL, "CREATE named, role ALL|0x80000000");
	c = geo_named("", 0);
	memset(c.name, 'a', sizeof(c.name));
	expect(try_create(&c), ENAMETOOLONG,
	       "CREATE name of 32 characters (no NUL in the array)");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = geo_named(bad[i], 0600);
		expect(try_create(&c), EINVAL, "CREATE name #%u with a bad character", i);
	}
	c = geo_named("", 0);
	c.name[5] = 'x';
	expect(try_create(&c), EINVAL, "CREATE empty name, non-zero byte after the NUL");
	c = geo_named("ab", 0600);
	c.name[3] = 'c';
	expect(try_create(&c), EINVAL, "CREATE name \"ab\\0c\" (junk after the NUL)");
	c = geo_named("t-errno", 0600);
	c.type = LFQ_TYPE_MPMC + 1;
	expect(try_create(&c), EINVAL, "CREATE named, bad type");
	expect(try_unlink("t-errno"), ENOENT, "failed CREATEs left no name");

	/* Accepted: 31 characters, every allowed character, mode 0. */
	c = geo_named(name31, 0600);
	expect(try_create(&c), 0, "CREATE name of 31 characters");
	expect(try_unlink(name31), 0, "UNLINK it");
	c = geo_named("Az09._-", 0);
	expect(try_create(&c), 0, "CREATE name \"Az09._-\", mode 0");
	expect(try_unlink("Az09._-"), 0, "UNLINK it");
	c = geo_named("-lead", 0777);
	expect(try_create(&c), 0, "CREATE name \"-lead\", mode 0777");
	expect(try_unlink("-lead"), 0, "UNLINK it");

	/* Collisions: the first holder keeps the name; a bound fd is EBUSY. */
	fd = open_lfq();
	c = geo_named("t-errno", 0600);
	expect(io(fd, LFQ_IOC_CREATE, &c), 0, "CREATE t-errno");
	expect(try_create(&c), EEXIST, "CREATE t-errno again");
	c = geo_named("t-errno", 0644);
	c.type = LFQ_TYPE_MPSC;
	expect(try_create(&c), EEXIST, "CREATE t-errno again, other geometry");
	c = geo_named("t-errno2", 0600);
	expect(io(fd, LFQ_IOC_CREATE, &c), EBUSY,
	       "CREATE another name on a bound fd");
	expect(try_unlink("t-errno2"), ENOENT, "the EBUSY CREATE named nothing");
	close(fd);
	expect(try_unlink("t-errno"), 0, "UNLINK t-errno after its fd closed");
	expect(try_unlink("t-errno"), ENOENT, "UNLINK t-errno twice");
}

static void test_open_unlink(void)
{
	unsigned char big[2 * PG] __attribute__((aligned(8)));
	struct lfq_info info = { .size = sizeof(info) };
	struct lfq_create c = geo_named("t-open", 0600);

	c.role = LFQ_ROLE_PRODUCER;	/* the consumer role stays free */
	struct lfq_open o;
	struct lfq_unlink u;
	unsigned char *g;
	int owner, fd;
	uint32_t id;

	owner = open_lfq();
	expect(io(owner, LFQ_IOC_CREATE, &c), 0, "CREATE t-open");
	expect(io(owner, LFQ_IOC_INFO, &info), 0, "INFO t-open");
	id = info.id;

	fd = open_lfq();
	expect(io(fd, LFQ_IOC_OPEN, NULL), EFAULT, "OPEN(NULL)");
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	o.size = LFQ_OPEN_SIZE_VER0 - 1;
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN size VER0-1");
	o.size = 0;
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN size 0");
	memset(big, 0, sizeof(big));
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	o.size = PG + 1;
	memcpy(big, &o, sizeof(o));
	expect(io(fd, LFQ_IOC_OPEN, big), E2BIG, "OPEN size PAGE_SIZE+1");
	o.size = 56;
	memcpy(big, &o, sizeof(o));
	big[55] = 1;
	expect(io(fd, LFQ_IOC_OPEN, big), E2BIG,
	       "OPEN size 56 with a non-zero unknown byte");
	o = open_arg("t-open", 0);
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN role 0");
	o.role = 8;
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN role 0x8");
	o.role = LFQ_ROLE_READER | LFQ_ROLE_CONSUMER;
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN role READER|CONSUMER");
	o.role = LFQ_ROLE_CONSUMER | 0x80000000u;
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN role CONSUMER|0x80000000");
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	o.flags = 1;
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN flags 1");
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	o.__reserved = 1;
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN __reserved 1");
	o = open_arg("", LFQ_ROLE_CONSUMER);
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN empty name");
	memset(o.name, 'a', sizeof(o.name));
	expect(io(fd, LFQ_IOC_OPEN, &o), ENAMETOOLONG, "OPEN name without a NUL");
	o = open_arg("t/open", LFQ_ROLE_CONSUMER);
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN name with '/'");
	o = open_arg(".t-open", LFQ_ROLE_CONSUMER);
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN name with a leading '.'");
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	o.name[10] = 'z';
	expect(io(fd, LFQ_IOC_OPEN, &o), EINVAL, "OPEN name with junk after the NUL");
	o = open_arg("t-nosuch", LFQ_ROLE_CONSUMER);
	expect(io(fd, LFQ_IOC_OPEN, &o), ENOENT, "OPEN unknown name");
	g = guard_pages();
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	memcpy(g + PG - 8, &o, 8);
	expect(io(fd, LFQ_IOC_OPEN, g + PG - 8), EFAULT,
	       "OPEN whose name crosses into a PROT_NONE page");
	expect(io(fd, LFQ_IOC_INFO, &info), EBADFD,
	       "failed OPENs left the file unbound");
	o = open_arg("t-open", LFQ_ROLE_PRODUCER | LFQ_ROLE_CONSUMER);
	expect(io(fd, LFQ_IOC_OPEN, &o), EBUSY,
	       "OPEN t-open as producer too (SPSC: the creator produces)");
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	expect(io(fd, LFQ_IOC_OPEN, &o), 0, "OPEN t-open as consumer");
	info.id = ~0u;
	expect(io(fd, LFQ_IOC_INFO, &info), 0, "INFO on the opened file");
	tap_ok(info.id == id && info.role == LFQ_ROLE_CONSUMER &&
	       info.size == LFQ_INFO_SIZE_VER3,
	       "OPEN bound the creator's queue (id %u) as its consumer", id);
	expect(io(fd, LFQ_IOC_OPEN, &o), EBUSY, "OPEN on a bound file");
	expect(io(fd, LFQ_IOC_OPEN, NULL), EBUSY,
	       "OPEN(NULL) on a bound file (bound is checked first)");
	c = geo(64, 1024);
	expect(io(fd, LFQ_IOC_CREATE, &c), EBUSY, "CREATE on an opened file");

	/* UNLINK works on any file, bound or not. */
	expect(io(fd, LFQ_IOC_UNLINK, NULL), EFAULT, "UNLINK(NULL)");
	u = unlink_arg("t-open");
	u.size = LFQ_UNLINK_SIZE_VER0 - 1;
	expect(io(fd, LFQ_IOC_UNLINK, &u), EINVAL, "UNLINK size VER0-1");
	u = unlink_arg("t-open");
	u.flags = 1;
	expect(io(fd, LFQ_IOC_UNLINK, &u), EINVAL, "UNLINK flags 1");
	u = unlink_arg("t-open");
	u.size = 48;
	memset(big, 0, sizeof(big));
	memcpy(big, &u, sizeof(u));
	big[44] = 1;
	expect(io(fd, LFQ_IOC_UNLINK, big), E2BIG,
	       "UNLINK size 48 with a non-zero unknown byte");
	u = unlink_arg("");
	expect(io(fd, LFQ_IOC_UNLINK, &u), EINVAL, "UNLINK empty name");
	memset(u.name, 'a', sizeof(u.name));
	expect(io(fd, LFQ_IOC_UNLINK, &u), ENAMETOOLONG,
	       "UNLINK name without a NUL");
	u = unlink_arg("t open");
	expect(io(fd, LFQ_IOC_UNLINK, &u), EINVAL, "UNLINK name with a space");
	u = unlink_arg("t-nosuch");
	expect(io(fd, LFQ_IOC_UNLINK, &u), ENOENT, "UNLINK unknown name");
	memcpy(g + PG - 8, &u, 8);
	expect(io(fd, LFQ_IOC_UNLINK, g + PG - 8), EFAULT,
	       "UNLINK whose name crosses into a PROT_NONE page");
	u = unlink_arg("t-open");
	expect(io(fd, LFQ_IOC_UNLINK, &u), 0, "UNLINK t-open on a bound fd");
	o = open_arg("t-open", LFQ_ROLE_CONSUMER);
	expect(try_open(&o), ENOENT, "OPEN t-open after UNLINK");
	expect(io(owner, LFQ_IOC_INFO, &info), 0,
	       "the creator's file still works after UNLINK");
	munmap(g, 2 * PG);
	close(fd);
	close(owner);
}

static void test_list(void)
{
	unsigned char buf[3 * 256] __attribute__((aligned(8)));
	unsigned char big[64] __attribute__((aligned(8)));
	struct lfq_list_entry e[4];
	struct lfq_create c;
	struct lfq_list l;
	int fds[3], i, ok;
	unsigned char *g;

#define L(n, p) (struct lfq_list){ .size = sizeof(l), \
				   .entry_size = sizeof(e[0]), .count = (n), \
				   .entries = (uintptr_t)(p) }
	for (i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "t-list%d", i);
		c = geo_named(name, 0640);
		fds[i] = open_lfq();
		expect(io(fds[i], LFQ_IOC_CREATE, &c), 0, "CREATE %s", name);
	}

	l = L(0, NULL);
	l.total = 12345;	/* output only: ignored on input */
	expect(try_list(&l), 0, "LIST count 0, entries NULL");
	if (!tap_ok(l.total == 3 && l.count == 0 && l.size == LFQ_LIST_SIZE_VER0 &&
		    l.entry_size == LFQ_LIST_ENTRY_SIZE_VER3,
		    "LIST count 0: total 3, count 0, sizes reported"))
		tap_diag("  total %u count %u size %u entry_size %u", l.total,
			 l.count, l.size, l.entry_size);

	memset(e, 0xa5, sizeof(e));
	l = L(4, e);
	expect(try_list(&l), 0, "LIST count 4");
	ok = l.count == 3 && l.total == 3;
	for (i = 0; ok && i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "t-list%d", i);
		ok = !strcmp(e[i].name, name) && e[i].mode == 0640 &&
		     e[i].uid == 0 && e[i].gid == 0 && e[i].attached == 1 &&
		     e[i].slot_size == 64 && e[i].slot_count == 1024 &&
		     e[i].type == LFQ_TYPE_SPSC &&
		     e[i].wake_mode == LFQ_WAKE_ASYMMETRIC &&
		     e[i].producers == 1 && e[i].consumers == 1 &&
		     (i == 0 || e[i].id > e[i - 1].id);
	}
	ok &= e[3].id == 0xa5a5a5a5u;
	if (!tap_ok(ok, "LIST: 3 entries in id order, fields right, 4th untouched"))
		tap_diag("  count %u total %u first %.32s", l.count, l.total,
			 e[0].name);

	l = L(2, e);
	expect(try_list(&l), 0, "LIST count 2 of 3");
	tap_ok(l.count == 2 && l.total == 3, "LIST count 2: 2 written, total 3");

	/* A bigger element: the tail of each is zeroed. */
	memset(buf, 0xa5, sizeof(buf));
	l = L(3, buf);
	l.entry_size = 256;
	expect(try_list(&l), 0, "LIST entry_size 256");
	ok = l.count == 3 && l.entry_size == LFQ_LIST_ENTRY_SIZE_VER3;
	for (i = 0; i < 3; i++) {
		struct lfq_list_entry x;
		int j;

		memcpy(&x, buf + i * 256, sizeof(x));
		ok &= !strncmp(x.name, "t-list", 6) && x.orphaned == 0;
		for (j = LFQ_LIST_ENTRY_SIZE_VER3; j < 256; j++)
			ok &= buf[i * 256 + j] == 0;
	}
	tap_ok(ok, "LIST entry_size 256: stride 256, tails zeroed, entry_size 216 back");

	/* A caller that knows only VER0: 144-byte elements, nothing past. */
	memset(buf, 0xa5, sizeof(buf));
	l = L(3, buf);
	l.entry_size = LFQ_LIST_ENTRY_SIZE_VER0;
	expect(try_list(&l), 0, "LIST entry_size 144 (VER0)");
	ok = l.count == 3 && l.entry_size == LFQ_LIST_ENTRY_SIZE_VER3;
	for (i = 0; i < 3; i++)
		ok &= !strncmp((char *)buf + i * LFQ_LIST_ENTRY_SIZE_VER0,
			       "t-list", 6);
	ok &= buf[3 * LFQ_LIST_ENTRY_SIZE_VER0] == 0xa5;
	tap_ok(ok, "LIST entry_size 144: stride 144, nothing written past 3 elements");

	l = L(4, e);
	l.size = LFQ_LIST_SIZE_VER0 - 1;
	expect(try_list(&l), EINVAL, "LIST size VER0-1");
	l = L(4, e);
	l.flags = 1;
	expect(try_list(&l), EINVAL, "LIST flags 1");
	l = L(4, e);
	l.__reserved = 1;
	expect(try_list(&l), EINVAL, "LIST __reserved 1");
	l = L(4, e);
	l.entry_size = LFQ_LIST_ENTRY_SIZE_VER0 - 8;
	expect(try_list(&l), EINVAL, "LIST entry_size VER0-8");
	l.entry_size = 0;
	expect(try_list(&l), EINVAL, "LIST entry_size 0");
	l.entry_size = LFQ_LIST_ENTRY_SIZE_VER0 + 4;
	expect(try_list(&l), EINVAL, "LIST entry_size VER0+4 (not a multiple of 8)");
	l.entry_size = PG + 8;
	expect(try_list(&l), E2BIG, "LIST entry_size PAGE_SIZE+8");
	l = L(4, e);
	l.entry_size = PG;
	l.count = 0;
	expect(try_list(&l), 0, "LIST entry_size PAGE_SIZE, count 0");
	memset(big, 0, sizeof(big));
	l = L(4, e);
	l.size = sizeof(big);
	memcpy(big, &l, sizeof(l));
	big[40] = 1;
	expect(try_list((void *)big), E2BIG, "LIST size 64 with a non-zero unknown byte");
	big[40] = 0;
	expect(try_list((void *)big), 0, "LIST size 64 with a zero tail");
	expect(try_list(NULL), EFAULT, "LIST(NULL)");
	l = L(1, NULL);
	expect(try_list(&l), EFAULT, "LIST count 1, entries NULL");
	l = L(4, 8);
	expect(try_list(&l), EFAULT, "LIST entries (void *)8");
	g = guard_pages();
	l = L(3, g + PG - sizeof(e[0]));
	expect(try_list(&l), EFAULT, "LIST whose 2nd entry is in a PROT_NONE page");
	l = L(1, g);
	mprotect(g, PG, PROT_READ);
	expect(try_list(&l), EFAULT, "LIST into a read-only page");
	mprotect(g, PG, PROT_READ | PROT_WRITE);
	l = L(1, e);
	memcpy(g, &l, sizeof(l));
	mprotect(g, PG, PROT_READ);
	expect(try_list((struct lfq_list *)g), EFAULT,
	       "LIST whose struct is read-only (count/total go back)");
	munmap(g, 2 * PG);
#undef L

	for (i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "t-list%d", i);
		expect(try_unlink(name), 0, "UNLINK %s", name);
		close(fds[i]);
	}
	l = (struct lfq_list){ .size = sizeof(l), .entry_size = sizeof(e[0]) };
	expect(try_list(&l), 0, "LIST after the unlinks");
	tap_ok(l.total == 0, "LIST total 0 again");
}

int main(void)
{
	tap_plan(110);
	test_create_named();
	test_open_unlink();
	test_list();
	return tap_done();
}
