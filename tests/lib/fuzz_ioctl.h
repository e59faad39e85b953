/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz_ioctl.h - tests/vm/fuzz.c's ioctl calls: the command (real, with
 * random _IOC bits, or random), its argument bytes (a plausible struct
 * per command with names from the pool, elastic queues' fields and struct
 * versions included, the same with its size field lying or a few bytes
 * mutated, or random bytes; LFQ_IOC_GROW's frame by value), tame() which
 * keeps the few fields that could hang or flood the VM in bounds, and
 * where the bytes are put (NULL, unmapped, kernel, misaligned, read-only, against
 * a guard page, inside a queue mapping); then the call, its check, and a
 * detach of the sources it attached. Static, for fuzz.c alone.
 */
#ifndef LFQ_FUZZ_IOCTL_H
#define LFQ_FUZZ_IOCTL_H

#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "fuzz_fds.h"
#include "fuzz_state.h"
#include "lfq_ring.h"

static void put_name(unsigned char *b, size_t off)
{
	char name[LFQ_NAME_MAX];
	size_t i;

	memset(name, 0, sizeof(name));
	switch (below(12)) {
	case 0:		/* no NUL */
		memset(name, 'a', sizeof(name));
		break;
	case 1:		/* bad characters */
		memcpy(name, "fz/0", 4);
		break;
	case 2:
		memcpy(name, ".fz0", 4);
		break;
	case 3:		/* garbage after the NUL */
		memcpy(name, "fz0", 3);
		name[20] = 'x';
		break;
	case 4:		/* random bytes */
		for (i = 0; i < sizeof(name); i++)
			name[i] = (char)rnd();
		break;
	default:
		strcpy(name, name_pool[below(NAMES)]);
		break;
	}
	memcpy(b + off, name, sizeof(name));
}

/* A plausible argument struct for command @nr; returns its size. */
static size_t plausible(unsigned int nr, unsigned char *b)
{
	uint32_t sizes[] = { 8, 16, 64, 256, 4096 };

	memset(b, 0, 256);
	switch (nr) {
	case 0x01: {	/* CREATE */
		uint32_t ss = chance(80) ? 8u << below(6) : (uint32_t)interesting();
		uint32_t sc = chance(80) ? 2u << below(8) : (uint32_t)interesting();
		int el = chance(30);

		/* Valid geometries stay small: no OOM storm in the VM. */
		if (ss >= 8 && ss <= LFQ_SLOT_SIZE_MAX && !(ss & 7) &&
		    sc && !(sc & (sc - 1)) && (uint64_t)ss * sc > (1u << 20))
			sc = 2;
		if (el) {
			/* Elastic: seg_min, seg_max (VER2); small segments. */
			if (chance(80))
				sc = (4096 / (ss >= 8 && ss <= 4096 ? ss : 64))
				     << below(3);
			put32(b, 0, LFQ_CREATE_SIZE_VER2);
			put32(b, 4, chance(80) ? LFQ_CREATE_ELASTIC | below(2) :
						 (uint32_t)interesting());
			/* Elastic records: segments of 4 to 16 KiB. */
			if (chance(30)) {
				ss = 1;
				sc = 4096u << below(3);
				put32(b, 4, LFQ_CREATE_ELASTIC |
					    LFQ_CREATE_RECORDS | below(2));
			}
			put32(b, 64, chance(80) ? below(4) : (uint32_t)interesting());
			put32(b, 68, chance(80) ? 1 + below(16) :
						  (uint32_t)interesting());
		} else if (chance(25)) {
			/* A record queue: a ring of bytes (slot_size 1). */
			if (chance(80)) {
				ss = 1;
				sc = 4096u << below(5);
			}
			put32(b, 0, LFQ_CREATE_SIZE_VER1);
			put32(b, 4, chance(80) ? LFQ_CREATE_RECORDS | below(2) |
						 (chance(40) ?
						  LFQ_CREATE_OVERWRITE : 0) :
						 (uint32_t)interesting());
		} else {
			put32(b, 0, LFQ_CREATE_SIZE_VER1);
			put32(b, 4, chance(80) ? below(2) : (uint32_t)interesting());
		}
		put32(b, 8, chance(90) ? 1 + below(3) : (uint32_t)interesting());
		put32(b, 12, ss);
		put32(b, 16, sc);
		put32(b, 28, chance(90) ? below(4) : (uint32_t)interesting());
		if (chance(50)) {
			put_name(b, 32);
			put32(b, 24, chance(80) ? below(01000) : (uint32_t)interesting());
		} else if (chance(10)) {
			put32(b, 24, (uint32_t)interesting());
		}
		if (el)
			return chance(10) ? LFQ_CREATE_SIZE_VER1 : LFQ_CREATE_SIZE_VER2;
		return chance(20) ? LFQ_CREATE_SIZE_VER0 : LFQ_CREATE_SIZE_VER1;
	}
	case 0x02: {	/* INFO */
		static const uint32_t sz[] = { LFQ_INFO_SIZE_VER0, LFQ_INFO_SIZE_VER1,
					       LFQ_INFO_SIZE_VER2, LFQ_INFO_SIZE_VER3 };

		put32(b, 0, chance(70) ? sz[below(4)] : (uint32_t)interesting());
		return LFQ_INFO_SIZE_VER3;
	}
	case 0x03:	/* WAIT */
		put32(b, 0, LFQ_WAIT_SIZE_VER0);
		put32(b, 4, chance(80) ? 1 + below(2) : (uint32_t)interesting());
		put32(b, 8, chance(80) ? below(70) : (uint32_t)interesting());
		return LFQ_WAIT_SIZE_VER0;
	case 0x05: {	/* STATS */
		static const uint32_t sz[] = { LFQ_STATS_SIZE_VER0, LFQ_STATS_SIZE_VER1,
					       LFQ_STATS_SIZE_VER2, LFQ_STATS_SIZE_VER3,
					       LFQ_STATS_SIZE_VER4,
					       LFQ_STATS_SIZE_VER5,
					       LFQ_STATS_SIZE_VER6 };

		put32(b, 0, sz[below(7)]);
		return LFQ_STATS_SIZE_VER6;
	}
	case 0x06: {	/* SOURCE_ATTACH */
		uint32_t type = chance(90) ? 1 + below(4) : (uint32_t)interesting();

		put32(b, 0, LFQ_SOURCE_SIZE_VER0);
		put32(b, 4, chance(95) ? 0 : (uint32_t)interesting());
		put32(b, 8, type);
		if (type == LFQ_SOURCE_SYNTH) {
			uint32_t th = below(3), hard = below(2), soft = below(2);

			put32(b, 12, th);
			put32(b, 16, hard);
			put32(b, 20, soft);
			put64(b, 24, 1 + below(100));
			if (th)
				put64(b, 32, chance(50) ? 0 : 1000 * below(100));
			if (hard + soft)
				put64(b, 40, 50000 + 1000 * below(1000));
		} else if (type == LFQ_SOURCE_SYSCALL && chance(40)) {
			/* Buffers: write(2)'s, which the tests make all along. */
			static const uint32_t rs[] = {
				0, LFQ_EVENT_SYSCALL_DATA_MIN,
				LFQ_EVENT_SYSCALL_DATA_MIN + 8,
				LFQ_EVENT_SYSCALL_DATA_DEFAULT, 4096 };

			put32(b, 0, LFQ_SOURCE_SIZE_VER1);
			put32(b, 4, LFQ_SOURCE_SYSCALL_DATA);
			put32(b, 48, chance(80) ? SYS_write : below(500));
			put32(b, 56, chance(90) ? rs[below(5)] :
						  (uint32_t)interesting());
			return LFQ_SOURCE_SIZE_VER1;
		} else if (type == LFQ_SOURCE_SYSCALL) {
			put32(b, 48, chance(70) ? SYS_getppid : below(500));
		} else if (type == LFQ_SOURCE_ECHO) {
			put32(b, 52, (uint32_t)pick_fd());
		}
		return LFQ_SOURCE_SIZE_VER0;
	}
	case 0x08:	/* OPEN */
		put32(b, 0, LFQ_OPEN_SIZE_VER0);
		put32(b, 4, chance(90) ? 0 : (uint32_t)interesting());
		/* Roles 0-3, or the reader (4), or noise. */
		put32(b, 8, chance(90) ? below(5) : (uint32_t)interesting());
		put_name(b, 16);
		return LFQ_OPEN_SIZE_VER0;
	case 0x09:	/* UNLINK */
		put32(b, 0, LFQ_UNLINK_SIZE_VER0);
		put32(b, 4, chance(90) ? 0 : (uint32_t)interesting());
		put_name(b, 8);
		return LFQ_UNLINK_SIZE_VER0;
	case 0x0b:	/* CLAIM: register, or free a guess */
		put32(b, 0, LFQ_CLAIM_SIZE_VER0);
		/* LFQ_CLAIM_FREE and LFQ_CLAIM_CONSUMER, or noise. */
		put32(b, 4, chance(80) ? below(4) : (uint32_t)interesting());
		put32(b, 8, chance(90) ? below(LFQ_MPSC_CLAIMS + 2) :
					 (uint32_t)interesting());
		put32(b, 12, chance(95) ? 0 : (uint32_t)interesting());
		return LFQ_CLAIM_SIZE_VER0;
	case 0x0a: {	/* LIST */
		static const uint32_t ev[] = { LFQ_LIST_ENTRY_SIZE_VER0,
					       LFQ_LIST_ENTRY_SIZE_VER1,
					       LFQ_LIST_ENTRY_SIZE_VER2,
					       LFQ_LIST_ENTRY_SIZE_VER3 };
		uint32_t es = chance(70) ? ev[below(4)] + 8 * below(10) :
					   (uint32_t)interesting();
		uint32_t cnt = below(17);
		uint64_t ptr;

		if (es && es <= PG && (uint64_t)es * cnt > sizeof(cur->list_buf))
			cnt = sizeof(cur->list_buf) / es;
		switch (below(8)) {
		case 0:
			ptr = 0;
			break;
		case 1:
			ptr = (uintptr_t)ro_page;
			break;
		case 2:
			ptr = 0xffff888000000000ull;
			break;
		case 3:
			ptr = (uintptr_t)hole;
			break;
		case 4:
			ptr = (uintptr_t)cur->list_buf + below(8);
			break;
		default:
			ptr = (uintptr_t)cur->list_buf;
			break;
		}
		put32(b, 0, LFQ_LIST_SIZE_VER0);
		put32(b, 4, chance(90) ? 0 : (uint32_t)interesting());
		put32(b, 8, es);
		put32(b, 12, chance(90) ? cnt : (uint32_t)interesting());
		put64(b, 24, ptr);
		return LFQ_LIST_SIZE_VER0;
	}
	case 0x0d: {	/* SNAPSHOT: into the list buffer, or a bad one */
		static const uint64_t bad[] = { 0, 0xffff888000000000ull, 8 };
		uint64_t ptr = chance(70) ? (uintptr_t)cur->list_buf :
			       chance(50) ? (uintptr_t)cur->list_buf + 4 :
			       chance(50) ? (uintptr_t)ro_page :
			       chance(50) ? (uintptr_t)hole : bad[below(3)];

		put32(b, 0, LFQ_SNAPSHOT_SIZE_VER0);
		put32(b, 4, chance(90) ? 0 : (uint32_t)interesting());
		put64(b, 8, ptr);
		/* Into our buffer: never more than it holds. */
		put64(b, 16, ptr - (uintptr_t)cur->list_buf < 8 || chance(80) ?
			     below(sizeof(cur->list_buf) - 7) :
			     (uint64_t)interesting());
		return LFQ_SNAPSHOT_SIZE_VER0;
	}
	default:
		put32(b, 0, sizes[below(5)]);
		return 8 * below(32);
	}
}

/*
 * Fields that must stay tame whatever else is random: an elastic queue
 * pins at most 4 MiB, a WAIT never blocks long, a SYNTH source produces
 * a bounded number of records from a few producers, LIST writes its
 * entries only where this process can take them (or into memory that
 * faults: NULL, the hole, kernel addresses, read-only). Applied to the
 * scratch copy only: ro_page and queue mappings are never passed to
 * WAIT, SOURCE_ATTACH and LIST (a CREATE from them is zeroes or noise).
 */
static void tame(unsigned int nr, unsigned char *b, size_t len)
{
	if (nr == 0x01 && len >= LFQ_CREATE_SIZE_VER2) {
		uint32_t flags, ss, sc, smax;

		/* An elastic queue: segments of 1 MiB and 4 MiB at most. */
		memcpy(&flags, b + 4, 4);
		memcpy(&ss, b + 12, 4);
		memcpy(&sc, b + 16, 4);
		memcpy(&smax, b + 68, 4);
		if (flags & LFQ_CREATE_ELASTIC && ss && sc) {
			if ((uint64_t)ss * sc > (1u << 20))
				put32(b, 16, sc = 2);
			if ((uint64_t)ss * sc * smax > (4u << 20))
				put32(b, 68, (uint32_t)((4u << 20) /
							((uint64_t)ss * sc)));
		}
	}
	if (nr == 0x0a && len >= 32) {
		uint64_t ptr, lb = (uintptr_t)cur->list_buf;
		uint32_t es, cnt;

		memcpy(&ptr, b + 24, 8);
		memcpy(&es, b + 8, 4);
		memcpy(&cnt, b + 12, 4);
		if (ptr && ptr != (uintptr_t)ro_page &&
		    ptr != 0xffff888000000000ull && ptr != (uintptr_t)hole &&
		    (ptr < lb || ptr >= lb + 8))
			put64(b, 24, lb);
		if (es >= 8 && (uint64_t)es * cnt > sizeof(cur->list_buf) - 8)
			put32(b, 12, (sizeof(cur->list_buf) - 8) / es);
	}
	if (nr == 0x03 && len >= 24)
		put64(b, 16, chance(50) ? 0 : below(2000000));
	if (nr == 0x06 && len >= 56) {
		uint32_t t;

		memcpy(&t, b + 12, 4);
		if (t > 3 && t <= LFQ_SYNTH_PRODUCERS_MAX)
			put32(b, 12, below(3));
		memcpy(&t, b + 16, 4);
		if (t > 2 && t <= LFQ_SYNTH_PRODUCERS_MAX)
			put32(b, 16, below(2));
		memcpy(&t, b + 20, 4);
		if (t > 2 && t <= LFQ_SYNTH_PRODUCERS_MAX)
			put32(b, 20, below(2));
		put64(b, 24, 1 + below(100));
		memcpy(&t, b + 40, 4);
		if (t && t < 50000)
			put64(b, 40, 50000 + below(1000000));
	}
}

/* The ioctl command: real, real with random _IOC bits, or random. */
static unsigned int pick_cmd(unsigned int *nr)
{
	unsigned int c;

	*nr = chance(90) ? below(0x0e) : below(256);
	switch (below(12)) {
	case 0:
		/* random _IOC direction and size */
		return _IOC(below(4), LFQ_IOC_MAGIC, *nr, below(1u << 14));
	case 2:
		do {
			c = (unsigned int)rnd();
			if (chance(50))
				c = (c & ~0xffffu) | (LFQ_IOC_MAGIC << 8) | *nr;
			/* The VFS's own ioctls on the device node: FIFREEZE
			 * and friends ('X'), FICLONE (0x94), FS_IOC_* ('f').
			 * Leave the filesystem alone.
			 */
		} while (_IOC_TYPE(c) == 'X' || _IOC_TYPE(c) == 0x94 ||
			 _IOC_TYPE(c) == 'f' || _IOC_TYPE(c) == 0x54);
		*nr = (c >> 8 & 0xff) == LFQ_IOC_MAGIC ? (c & 0xff) : 0x100;
		return c;
	default:
		return _IO(LFQ_IOC_MAGIC, *nr);
	}
}

static void op_source_detach_maybe(int fd, long id)
{
	if (id >= 0 && chance(70))
		check("SOURCE_DETACH", id,
		      ioctl(fd, LFQ_IOC_SOURCE_DETACH, (unsigned long)id),
		      ioctl_errs);
}

static void op_ioctl(void)
{
	unsigned char *b = cur->scratch;
	unsigned int nr, cmd = pick_cmd(&nr);
	int fd = pick_fd();
	size_t len;
	unsigned long arg;
	long r;
	int risky = cmd == LFQ_IOC_WAIT || cmd == LFQ_IOC_SOURCE_ATTACH ||
		    cmd == LFQ_IOC_LIST;

	if (cmd == LFQ_IOC_WAKE || cmd == LFQ_IOC_SOURCE_DETACH ||
	    cmd == LFQ_IOC_GROW) {
		/* GROW: a frame, in range or past it (seg_max is at most 16). */
		arg = chance(70) ? below(cmd == LFQ_IOC_GROW ? 20 : 12) :
				   interesting();
		r = ioctl(fd, cmd, arg);
		check("ioctl by value", cmd, r, ioctl_errs);
		if (cmd == LFQ_IOC_GROW) {
			__atomic_fetch_add(&sh->grows, 1, __ATOMIC_RELAXED);
			if (r >= 0)
				__atomic_fetch_add(&sh->grows_ok, 1,
						   __ATOMIC_RELAXED);
		}
		return;
	}

	/* The bytes: plausible, lying about size, mutated, or random. */
	switch (below(6)) {
	case 0:		/* random bytes, random size field */
		len = below(2 * PG);
		for (size_t i = 0; i + 8 <= 2 * PG; i += 8)
			put64(b, i, rnd());
		put32(b, 0, chance(50) ? below(4200) : (uint32_t)interesting());
		break;
	case 1: {	/* plausible, size field lies */
		len = plausible(nr, b);
		memset(b + 256, 0, 2 * PG - 256);
		if (chance(50))
			b[len + below(64)] = (unsigned char)rnd();
		put32(b, 0, chance(50) ? below(4200) : (uint32_t)interesting());
		break;
	}
	case 2: {	/* plausible, a few bytes mutated */
		int k = 1 + below(3);

		len = plausible(nr, b);
		memset(b + 256, 0, 2 * PG - 256);
		while (k--)
			b[below(len ? len : 8)] = (unsigned char)rnd();
		break;
	}
	default:
		len = plausible(nr, b);
		memset(b + 256, 0, 2 * PG - 256);
		break;
	}
	tame(nr, b, 2 * PG);

	/* Where the bytes are. */
	switch (risky ? below(14) : below(18)) {
	case 0:
		arg = 0;
		break;
	case 1:
		arg = chance(50) ? (unsigned long)hole + below(PG) :
				   PG * (1 + below(15));	/* never mapped */
		break;
	case 2:
		arg = chance(50) ? 0xffff888000000000ul : 0xffffffff81000000ul;
		break;
	case 3:		/* ends at the guard page */
		len = len ? len : 8;
		if (len > 2 * PG)
			len = 2 * PG;
		memcpy(guarded + 2 * PG - len, b, len);
		arg = (unsigned long)guarded + 2 * PG - len + (chance(50) ? below(8) : 0);
		break;
	case 4:		/* misaligned copy */
		arg = (unsigned long)b + 1 + below(7);
		memmove((void *)arg, b, PG);
		if (risky)
			tame(nr, (unsigned char *)arg, PG);
		break;
	case 14:
		arg = (unsigned long)ro_page + (chance(50) ? 0 : 8 * below(PG / 8));
		break;
	case 15: {	/* inside one of our queue mappings */
		struct map *m = &cur->maps[below(NMAP)];

		arg = m->addr ? (unsigned long)m->addr + 8 * below(m->len / 8) : 1;
		break;
	}
	case 16:
		arg = interesting();
		break;
	default:
		arg = (unsigned long)b;
		break;
	}

	r = ioctl(fd, cmd, arg);
	check("ioctl", cmd, r, ioctl_errs);
	if (r < 0)
		return;
	if (cmd == LFQ_IOC_CREATE) {
		uint32_t flags = 0, type = 0;

		__atomic_fetch_add(&sh->created, 1, __ATOMIC_RELAXED);
		if (arg == (unsigned long)b) {
			memcpy(&flags, b + 4, 4);
			memcpy(&type, b + 8, 4);
		}
		if (flags & LFQ_CREATE_ELASTIC)
			__atomic_fetch_add(&sh->created_el, 1, __ATOMIC_RELAXED);
		if (flags & LFQ_CREATE_RECORDS)
			__atomic_fetch_add(&sh->created_rec, 1,
					   __ATOMIC_RELAXED);
		if ((flags & LFQ_CREATE_RECORDS) && type == LFQ_TYPE_MPMC)
			__atomic_fetch_add(&sh->created_rec_mpmc, 1,
					   __ATOMIC_RELAXED);
	}
	if (cmd == LFQ_IOC_OPEN)
		__atomic_fetch_add(&sh->opened, 1, __ATOMIC_RELAXED);
	if (cmd == LFQ_IOC_SOURCE_ATTACH) {
		__atomic_fetch_add(&sh->attached, 1, __ATOMIC_RELAXED);
		op_source_detach_maybe(fd, r);
	}
}

#endif /* LFQ_FUZZ_IOCTL_H */
