// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz.c - a seeded ioctl/mmap/poll fuzzer for /dev/lfq.
 *
 *   fuzz [-s SEED] [-n CALLS] [-T SECONDS] [-p PROCS] [-t THREADS]
 *
 * Runs until CALLS system calls were made (default 100000; 0: no limit)
 * or SECONDS passed (default 240; fewer calls than asked then fail),
 * with PROCS processes (3) of THREADS threads (2). The seed (default:
 * from the time) is printed first, as the command line that replays it.
 *
 * Several processes (forked after the files were opened and bound, so
 * they share them), each with several threads sharing one fd table, race:
 * random ioctl numbers (the real LFQ_IOC_* ones, the same with random _IOC
 * direction and size bits, random ones), random argument structs of random
 * sizes (plausible ones, ones whose size field lies, random bytes, fields
 * mutated), bad pointers (NULL, unmapped, kernel, misaligned, read-only,
 * straddling a guard page, inside a queue mapping), CREATE/OPEN/UNLINK/
 * LIST with names from a small pool so they collide, SOURCE_ATTACH of
 * every type (bounded: SYNTH sources have a small count and few
 * producers), mmap/munmap/mprotect/madvise at random offsets, lengths and
 * protections, reads and writes of what is mapped, poll with random
 * events and short timeouts, close, dup, dup2, open, and fork with
 * children that run a while and exit, or are killed, at random points.
 *
 * It checks no errno exactly (tests/vm/ioctl_errno.c does): every call
 * must return success or -1 with an errno in the call's plausible set;
 * no process may die of a signal the fuzzer did not send (SIGSEGV/SIGBUS
 * on a queue mapping is caught and counted: the mapping may be
 * PROT_NONE); at the end every name is unlinked and the module still
 * creates, pushes and pops. The same seed replays the same choices, not
 * the same interleaving.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define PG		4096ul
#define NFD		12	/* fd slots shared by a process's threads */
#define NMAP		12	/* mappings a thread tracks */
#define MAX_PROCS	8
#define MAX_THREADS	4
#define NAMES		6
#define MAX_KIDS	2	/* forked children alive per thread */

static const char *const name_pool[NAMES] = {
	"fz0", "fz1", "fz-2", "fz.3", "fuzz_queue_with_a_long_name_30c", "f",
};

/* Shared by every process of the run (MAP_SHARED anonymous). */
struct shared {
	uint64_t calls;		/* system calls made */
	uint64_t target;	/* stop at this many */
	uint64_t touches;	/* loads and stores into queue mappings */
	uint64_t faults;	/* SIGSEGV/SIGBUS caught on queue mappings */
	uint64_t ok;		/* calls that succeeded */
	uint64_t bad;		/* calls with an errno outside their set */
	uint64_t kids;		/* children forked */
	uint64_t killed;	/* children the fuzzer killed */
	uint64_t attached;	/* sources attached */
	uint64_t created;	/* queues created (CREATE succeeded) */
	uint64_t opened;	/* OPEN succeeded */
	uint64_t errs[160];	/* errno histogram */
	int stop;
	int reports;		/* diagnostics printed (capped) */
};

static struct shared *sh;
static int64_t deadline_ns;

/* Per-process state, shared by its threads. */
static int fds[NFD];
static unsigned char *ro_page;		/* PROT_READ, a plausible struct */
static unsigned char *guarded;		/* 2 RW pages, then a PROT_NONE one */
static unsigned char *hole;		/* a PROT_NONE page */

struct map {
	unsigned char *addr;
	size_t len;
	int prot;
	int partial;	/* partly unmapped or reprotected: never touched */
};

/* Per-thread state. */
struct th {
	uint64_t rng;
	struct map maps[NMAP];
	unsigned char scratch[2 * PG] __attribute__((aligned(4096)));
	unsigned char list_buf[16 * PG];
	pid_t kids[MAX_KIDS];
	int depth;	/* 0 in the workers, more in forked children */
};

static __thread struct th *cur;
static __thread sigjmp_buf touch_jb;
static __thread volatile int touching;

/* ---------------------------------------------------------------- random */

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (cur->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static int chance(uint32_t percent)
{
	return below(100) < percent;
}

/* A value a field check might trip on. */
static uint64_t interesting(void)
{
	static const uint64_t v[] = {
		0, 1, 2, 3, 7, 8, 16, 24, 32, 48, 56, 63, 64, 65, 96, 144,
		255, 256, 4095, 4096, 4097, 65535, 65536, 65537, 1u << 24,
		(1u << 24) + 1, 256u << 20, 0x7fffffff, 0x80000000,
		0xfffffffe, 0xffffffff, 0x100000000ull, 1ull << 63,
		~0ull, ~0ull - 1, 0x8000000000000001ull,
	};

	if (chance(25))
		return rnd();
	return v[below(sizeof(v) / sizeof(v[0]))];
}

/* ------------------------------------------------------------- accounting */

static void count_call(int ok, int err)
{
	__atomic_fetch_add(&sh->calls, 1, __ATOMIC_RELAXED);
	if (ok) {
		__atomic_fetch_add(&sh->ok, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_fetch_add(&sh->errs[err > 0 && err < 160 ? err : 0], 1,
			   __ATOMIC_RELAXED);
}

__attribute__((format(printf, 1, 2)))
static void report(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	if (__atomic_fetch_add(&sh->reports, 1, __ATOMIC_RELAXED) >= 30)
		return;
	n = snprintf(line, sizeof(line), "# pid %d: ", getpid());
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* write(): async-signal-safe, and atomic for a short line */
	if (write(1, line, n) < 0)
		return;
}

/* Check one call's result against the errnos it may plausibly give. */
static long check(const char *what, unsigned long detail, long r,
		  const int *allowed)
{
	int e = errno;
	int i;

	if (r >= 0) {
		count_call(1, 0);
		return r;
	}
	count_call(0, e);
	for (i = 0; allowed[i]; i++)
		if (allowed[i] == e)
			return r;
	__atomic_fetch_add(&sh->bad, 1, __ATOMIC_RELAXED);
	report("%s (0x%lx) -> %ld, errno %d (%s): not in its set", what,
	       detail, r, e, ename(e));
	errno = e;
	return r;
}

static const int ioctl_errs[] = {
	EINVAL, EFAULT, ENOTTY, EBADF, EBADFD, EBUSY, E2BIG, EPERM, EACCES,
	ENOENT, EEXIST, ENOSPC, EAGAIN, ETIMEDOUT, EINTR, ENAMETOOLONG,
	EMSGSIZE, ELOOP, EOPNOTSUPP, 0	/* not ENOMEM: queues stay small */
};
static const int mmap_errs[] = {
	EINVAL, EPERM, EACCES, ENOMEM, EBADF, EBADFD, ENODEV, EOVERFLOW,
	EAGAIN, 0
};
static const int mprotect_errs[] = { EINVAL, EACCES, ENOMEM, 0 };
static const int fd_errs[] = { EBADF, EMFILE, ENFILE, EINVAL, 0 };
static const int poll_errs[] = { EINVAL, EFAULT, EINTR, ENOMEM, 0 };
static const int open_errs[] = { EMFILE, ENFILE, 0 };
static const int fork_errs[] = { EAGAIN, ENOMEM, 0 };

/* -------------------------------------------------------------- the fds */

static int pick_fd(void)
{
	switch (below(20)) {
	case 0:
		return -1;
	case 1:
		return 1000 + below(100);	/* not open */
	default:
		return __atomic_load_n(&fds[below(NFD)], __ATOMIC_RELAXED);
	}
}

/* Put @fd in slot @i and close what was there. */
static void replace_fd(int i, int fd)
{
	int old = __atomic_exchange_n(&fds[i], fd, __ATOMIC_RELAXED);

	if (old >= 3)
		check("close", old, close(old), fd_errs);
}

static void op_open(void)
{
	int fd = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	check("open", 0, fd, open_errs);
	if (fd >= 3)
		replace_fd(below(NFD), fd);
}

static void op_close(void)
{
	int fd = open(LFQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	/* Keep the slot filled: close what is there, put a fresh file, and
	 * mostly bind it: a new queue, or a pool name (OPEN).
	 */
	check("open", 0, fd, open_errs);
	if (fd >= 3 && chance(70)) {
		struct lfq_create c = {
			.size = sizeof(c), .type = 1 + below(2),
			.slot_size = 8u << below(4), .slot_count = 2u << below(7),
			.role = below(4),
		};
		struct lfq_open o = {
			.size = sizeof(o), .role = 1 + below(3),
		};

		if (chance(50)) {
			if (chance(30))
				snprintf(c.name, sizeof(c.name), "%s",
					 name_pool[below(NAMES)]);
			check("create", 0, ioctl(fd, LFQ_IOC_CREATE, &c),
			      ioctl_errs);
		} else {
			snprintf(o.name, sizeof(o.name), "%s",
				 name_pool[below(NAMES)]);
			check("open", 0, ioctl(fd, LFQ_IOC_OPEN, &o),
			      ioctl_errs);
		}
	}
	replace_fd(below(NFD), fd >= 3 ? fd : -1);
}

static void op_dup(void)
{
	int i = below(NFD), j = below(NFD);
	int src = __atomic_load_n(&fds[i], __ATOMIC_RELAXED);
	int dst = __atomic_load_n(&fds[j], __ATOMIC_RELAXED);
	int fd;

	if (chance(50) || dst < 3 || src < 3) {
		fd = dup(src);
		check("dup", src, fd, fd_errs);
		if (fd >= 3)
			replace_fd(j, fd);
	} else {
		/* dup2 onto a slot's fd: only ever over our own files */
		check("dup2", src, dup2(src, dst), fd_errs);
	}
}

/* ------------------------------------------------------------ arguments */

static void put32(unsigned char *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

static void put64(unsigned char *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

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

		/* Valid geometries stay small: no OOM storm in the VM. */
		if (ss >= 8 && ss <= LFQ_SLOT_SIZE_MAX && !(ss & 7) &&
		    sc && !(sc & (sc - 1)) && (uint64_t)ss * sc > (1u << 20))
			sc = 2;
		put32(b, 0, LFQ_CREATE_SIZE_VER1);
		put32(b, 4, chance(80) ? below(2) : (uint32_t)interesting());
		put32(b, 8, chance(90) ? 1 + below(2) : (uint32_t)interesting());
		put32(b, 12, ss);
		put32(b, 16, sc);
		put32(b, 28, chance(90) ? below(4) : (uint32_t)interesting());
		if (chance(50)) {
			put_name(b, 32);
			put32(b, 24, chance(80) ? below(01000) : (uint32_t)interesting());
		} else if (chance(10)) {
			put32(b, 24, (uint32_t)interesting());
		}
		return chance(20) ? LFQ_CREATE_SIZE_VER0 : LFQ_CREATE_SIZE_VER1;
	}
	case 0x02:	/* INFO */
		put32(b, 0, chance(70) ? LFQ_INFO_SIZE_VER2 : (uint32_t)interesting());
		return LFQ_INFO_SIZE_VER2;
	case 0x03:	/* WAIT */
		put32(b, 0, LFQ_WAIT_SIZE_VER0);
		put32(b, 4, chance(80) ? 1 + below(2) : (uint32_t)interesting());
		put32(b, 8, chance(80) ? below(70) : (uint32_t)interesting());
		return LFQ_WAIT_SIZE_VER0;
	case 0x05:	/* STATS */
		put32(b, 0, chance(50) ? LFQ_STATS_SIZE_VER1 : LFQ_STATS_SIZE_VER0);
		return LFQ_STATS_SIZE_VER1;
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
		put32(b, 8, chance(90) ? below(4) : (uint32_t)interesting());
		put_name(b, 16);
		return LFQ_OPEN_SIZE_VER0;
	case 0x09:	/* UNLINK */
		put32(b, 0, LFQ_UNLINK_SIZE_VER0);
		put32(b, 4, chance(90) ? 0 : (uint32_t)interesting());
		put_name(b, 8);
		return LFQ_UNLINK_SIZE_VER0;
	case 0x0b:	/* CLAIM: register, or free a guess */
		put32(b, 0, LFQ_CLAIM_SIZE_VER0);
		put32(b, 4, chance(80) ? below(2) : (uint32_t)interesting());
		put32(b, 8, chance(90) ? below(LFQ_MPSC_CLAIMS + 2) :
					 (uint32_t)interesting());
		put32(b, 12, chance(95) ? 0 : (uint32_t)interesting());
		return LFQ_CLAIM_SIZE_VER0;
	case 0x0a: {	/* LIST */
		uint32_t es = chance(70) ? LFQ_LIST_ENTRY_SIZE_VER0 + 8 * below(10) :
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
	default:
		put32(b, 0, sizes[below(5)]);
		return 8 * below(32);
	}
}

/*
 * Fields that must stay tame whatever else is random: a WAIT never blocks
 * long, a SYNTH source produces a bounded number of records from a few
 * producers, LIST writes its entries only where this process can take
 * them (or into memory that faults: NULL, the hole, kernel addresses,
 * read-only). Applied to the scratch copy only (ro_page and queue
 * mappings are never passed to these three commands).
 */
static void tame(unsigned int nr, unsigned char *b, size_t len)
{
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

	*nr = chance(90) ? below(0x0d) : below(256);
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

	if (cmd == LFQ_IOC_WAKE || cmd == LFQ_IOC_SOURCE_DETACH) {
		arg = chance(70) ? below(12) : interesting();
		r = ioctl(fd, cmd, arg);
		check("ioctl by value", cmd, r, ioctl_errs);
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
	if (cmd == LFQ_IOC_CREATE)
		__atomic_fetch_add(&sh->created, 1, __ATOMIC_RELAXED);
	if (cmd == LFQ_IOC_OPEN)
		__atomic_fetch_add(&sh->opened, 1, __ATOMIC_RELAXED);
	if (cmd == LFQ_IOC_SOURCE_ATTACH) {
		__atomic_fetch_add(&sh->attached, 1, __ATOMIC_RELAXED);
		op_source_detach_maybe(fd, r);
	}
}

/* --------------------------------------------------------------- memory */

static struct map *free_map(void)
{
	struct map *m = &cur->maps[below(NMAP)];

	if (m->addr) {
		check("munmap", 0, munmap(m->addr, m->len), mprotect_errs);
		m->addr = NULL;
	}
	return m;
}

static void op_mmap(void)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE, PROT_WRITE,
		PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	int fd = pick_fd(), prot = prots[below(6)];
	int flags = chance(90) ? MAP_SHARED : (chance(50) ? MAP_PRIVATE : MAP_SHARED_VALIDATE | MAP_POPULATE);
	size_t len;
	off_t off;
	void *p;
	struct map *m;

	switch (below(6)) {
	case 0:
		len = below(3 * PG);		/* maybe 0, maybe unaligned */
		break;
	case 1:
		len = (size_t)interesting();
		break;
	default:
		len = PG * (1 + below(24));
		break;
	}
	switch (below(6)) {
	case 0:
		off = (off_t)(interesting() & ~(PG - 1));
		break;
	case 1:
		off = (off_t)below(PG);		/* unaligned: EINVAL */
		break;
	default:
		off = (off_t)(PG * below(24));
		break;
	}
	if (chance(60)) {
		/* Inside the queue's layout, as INFO reports it. */
		struct lfq_info in = { .size = sizeof(in) };

		if (!check("INFO", 0, ioctl(fd, LFQ_IOC_INFO, &in), ioctl_errs) &&
		    in.map_size >= PG) {
			size_t pages = in.map_size / PG, first = below(pages);

			off = (off_t)(first * PG);
			len = PG * (1 + below(pages - first));
		}
	}
	p = mmap(NULL, len, prot, flags, fd, off);
	check("mmap", (unsigned long)off, p == MAP_FAILED ? -1 : 0, mmap_errs);
	if (p == MAP_FAILED)
		return;
	m = free_map();
	m->addr = p;
	m->len = (len + PG - 1) & ~(PG - 1);
	m->prot = prot;
	m->partial = 0;
}

static void op_munmap(void)
{
	struct map *m = &cur->maps[below(NMAP)];
	size_t pages, first, n;

	if (!m->addr)
		return;
	pages = m->len / PG;
	if (chance(60) || pages < 2) {
		check("munmap", 0, munmap(m->addr, m->len), mprotect_errs);
		m->addr = NULL;
		return;
	}
	/* A part: the rest is never touched again, unmapped later whole. */
	first = below(pages);
	n = 1 + below(pages - first);
	check("munmap part", 0, munmap(m->addr + first * PG, n * PG),
	      mprotect_errs);
	m->partial = 1;
}

static void op_mprotect(void)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE, PROT_WRITE,
	};
	struct map *m = &cur->maps[below(NMAP)];
	int prot = prots[below(4)];
	size_t pages;

	if (!m->addr)
		return;
	pages = m->len / PG;
	if (chance(70)) {
		if (!check("mprotect", prot, mprotect(m->addr, m->len, prot),
			   mprotect_errs))
			m->prot = prot;
	} else {
		check("mprotect part", prot,
		      mprotect(m->addr + PG * below(pages), PG, prot),
		      mprotect_errs);
		m->partial = 1;
	}
}

static void op_madvise(void)
{
	struct map *m = &cur->maps[below(NMAP)];
	static const int advs[] = { MADV_DONTNEED, MADV_WILLNEED, MADV_RANDOM,
				    MADV_DONTFORK, MADV_DOFORK };

	if (!m->addr || m->partial)
		return;
	check("madvise", 0, madvise(m->addr, m->len, advs[below(5)]),
	      mprotect_errs);
}

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	(void)si;
	if (touching) {
		touching = 0;
		siglongjmp(touch_jb, 1);
	}
	/* Not ours: die of it, and the parent reports the signal. */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void op_touch(void)
{
	struct map *m = &cur->maps[below(NMAP)];
	volatile uint64_t *w;
	int k;

	if (!m->addr || m->partial)
		return;
	if (sigsetjmp(touch_jb, 1)) {
		__atomic_fetch_add(&sh->faults, 1, __ATOMIC_RELAXED);
		return;
	}
	touching = 1;
	for (k = 0; k < 8; k++) {
		w = (volatile uint64_t *)(m->addr + 8 * below(m->len / 8));
		if (chance(50) && (m->prot & PROT_WRITE))
			*w = chance(50) ? interesting() : *w + below(3) - 1;
		else if (m->prot & PROT_READ)
			(void)*w;
		__atomic_fetch_add(&sh->touches, 1, __ATOMIC_RELAXED);
	}
	touching = 0;
}

static void op_poll(void)
{
	struct pollfd p[4];
	int n = 1 + below(4), i;

	for (i = 0; i < n; i++) {
		p[i].fd = pick_fd();
		p[i].events = chance(70) ? (short)(POLLIN | POLLOUT) : (short)rnd();
		p[i].revents = 0;
	}
	check("poll", n, poll(p, n, chance(50) ? 0 : (int)below(3)),
	      poll_errs);
}

/* ------------------------------------------------------------ processes */

static void run_ops(uint64_t limit);

static void reap(int block)
{
	int i, st;
	pid_t r;

	for (i = 0; i < MAX_KIDS; i++) {
		if (!cur->kids[i])
			continue;
		r = waitpid(cur->kids[i], &st, block ? 0 : WNOHANG);
		if (r == 0)
			continue;
		if (r < 0) {
			cur->kids[i] = 0;
			continue;
		}
		cur->kids[i] = 0;
		if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL) {
			__atomic_fetch_add(&sh->bad, 1, __ATOMIC_RELAXED);
			report("child %d died of signal %d", r, WTERMSIG(st));
		} else if (WIFEXITED(st) && WEXITSTATUS(st)) {
			__atomic_fetch_add(&sh->bad, 1, __ATOMIC_RELAXED);
			report("child %d exited %d", r, WEXITSTATUS(st));
		}
	}
}

static void op_fork(void)
{
	int i;
	pid_t pid;

	reap(0);
	for (i = 0; i < MAX_KIDS && cur->kids[i]; i++)
		;
	if (i == MAX_KIDS) {
		/* Kill one at a random point of its life. */
		i = below(MAX_KIDS);
		kill(cur->kids[i], SIGKILL);
		__atomic_fetch_add(&sh->killed, 1, __ATOMIC_RELAXED);
		reap(1);
		return;
	}
	if (cur->depth >= 2)
		return;
	pid = fork();
	check("fork", 0, pid, fork_errs);
	if (pid < 0)
		return;
	if (pid == 0) {
		/* The child: this thread only, the fds and mappings shared. */
		cur->depth++;
		cur->rng ^= rnd() + (uint64_t)getpid();
		memset(cur->kids, 0, sizeof(cur->kids));
		run_ops(1 + below(300));
		reap(1);
		_exit(0);
	}
	__atomic_fetch_add(&sh->kids, 1, __ATOMIC_RELAXED);
	cur->kids[i] = pid;
}

static void run_ops(uint64_t limit)
{
	uint64_t n;

	for (n = 0; n < limit; n++) {
		if (__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) ||
		    __atomic_load_n(&sh->calls, __ATOMIC_RELAXED) >= sh->target)
			break;
		if (!(n & 255) && now_ns() > deadline_ns)
			break;
		switch (below(100)) {
		case 0 ... 54:
			op_ioctl();
			break;
		case 55 ... 61:
			op_mmap();
			break;
		case 62 ... 64:
			op_munmap();
			break;
		case 65 ... 67:
			op_mprotect();
			break;
		case 68:
			op_madvise();
			break;
		case 69 ... 78:
			op_touch();
			break;
		case 79 ... 84:
			op_poll();
			break;
		case 85 ... 86:
			op_close();
			break;
		case 87 ... 88:
			op_dup();
			break;
		case 89 ... 90:
			op_open();
			break;
		case 91:
			if (chance(30))
				op_fork();
			else
				op_ioctl();
			break;
		default:
			op_ioctl();
			break;
		}
	}
}

static void *thread_main(void *arg)
{
	struct th *t = arg;
	int i;

	cur = t;
	run_ops(UINT64_MAX);
	reap(0);
	for (i = 0; i < MAX_KIDS; i++)
		if (t->kids[i]) {
			kill(t->kids[i], SIGKILL);
			__atomic_fetch_add(&sh->killed, 1, __ATOMIC_RELAXED);
		}
	reap(1);
	for (i = 0; i < NMAP; i++)
		if (t->maps[i].addr)
			munmap(t->maps[i].addr, t->maps[i].len);
	return NULL;
}

static void setup_process_memory(void)
{
	ro_page = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	guarded = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	hole = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro_page == MAP_FAILED || guarded == MAP_FAILED || hole == MAP_FAILED) {
		tap_diag("setup mmap: %s", strerror(errno));
		exit(1);
	}
	/* A struct that claims 96 bytes, all else zero: read-only memory
	 * that parses, so INFO and STATS fail only on writing back.
	 */
	memset(ro_page, 0, PG);
	put32(ro_page, 0, 96);
	mprotect(ro_page, PG, PROT_READ);
	mprotect(guarded + 2 * PG, PG, PROT_NONE);
	/* The hole stays reserved PROT_NONE: unmapped, a later mmap (a
	 * thread's stack) could land there and take the kernel's writes.
	 */
}

/* Fill the fd slots: unbound files, anonymous queues, named ones. */
static void setup_fds(uint64_t seed)
{
	struct th t0 = { .rng = seed };
	int i;

	cur = &t0;
	for (i = 0; i < NFD; i++) {
		int fd = open_lfq();

		if (i % 3) {
			struct lfq_create c = {
				.size = sizeof(c),
				.type = i % 2 ? LFQ_TYPE_MPSC : LFQ_TYPE_SPSC,
				.slot_size = 64, .slot_count = 64,
				.role = i % 4 == 1 ? LFQ_ROLE_PRODUCER : 0,
			};

			if (i < NAMES * 2 && i % 2)
				snprintf(c.name, sizeof(c.name), "%s",
					 name_pool[i / 2]);
			if (ioctl(fd, LFQ_IOC_CREATE, &c))
				tap_diag("setup create %d: %s", i, strerror(errno));
		}
		fds[i] = fd;
	}
	cur = NULL;
}

static int worker(int w, uint64_t seed, int nthreads)
{
	pthread_t tid[MAX_THREADS];
	struct sigaction sa;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	setup_process_memory();
	for (i = 0; i < nthreads; i++) {
		struct th *t = aligned_alloc(4096, sizeof(*t));

		if (!t)
			return 1;
		memset(t, 0, sizeof(*t));
		t->rng = seed * 0x100000001b3ull + (uint64_t)w * 1000 + i + 1;
		if (pthread_create(&tid[i], NULL, thread_main, t))
			return 1;
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	return 0;
}

/* -------------------------------------------------------- after the run */

/* Unlink every named queue: the pool's, and any LIST shows. */
static int unlink_all(int *others)
{
	struct lfq_list_entry e[64];
	struct lfq_unlink u = { .size = sizeof(u) };
	struct lfq_list l = { .size = sizeof(l), .entry_size = sizeof(e[0]),
			      .count = 64, .entries = (uintptr_t)e };
	int fd = open_lfq(), i;

	*others = 0;
	for (i = 0; i < NAMES; i++) {
		memset(u.name, 0, sizeof(u.name));
		snprintf(u.name, sizeof(u.name), "%s", name_pool[i]);
		ioctl(fd, LFQ_IOC_UNLINK, &u);
	}
	if (ioctl(fd, LFQ_IOC_LIST, &l)) {
		close(fd);
		return -1;
	}
	for (i = 0; i < (int)l.count; i++) {
		tap_diag("unlinking a name outside the pool: \"%s\"", e[i].name);
		memset(u.name, 0, sizeof(u.name));
		memcpy(u.name, e[i].name, sizeof(u.name));
		ioctl(fd, LFQ_IOC_UNLINK, &u);
		(*others)++;
	}
	l.count = 0;
	l.total = ~0u;
	i = ioctl(fd, LFQ_IOC_LIST, &l) ? -1 : (int)l.total;
	close(fd);
	return i;
}

static int module_works(void)
{
	struct lfq *q = spsc_queue_or_exit(64, 64);
	char in[64] = "after the fuzz", out[64] = "";
	int ok = lfq_push(q, in, sizeof(in)) == 0 &&
		 lfq_pop(q, out, sizeof(out)) == 0 && !strcmp(in, out);

	lfq_close(q);
	return ok;
}

static void usage(void)
{
	fprintf(stderr, "usage: fuzz [-s SEED] [-n CALLS] [-T SECONDS] [-p PROCS] [-t THREADS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	uint64_t calls = 100000;
	unsigned int secs = 240, procs = 3, threads = 2, i;
	pid_t pids[MAX_PROCS];
	int opt, others, left, died = 0;
	double t0;

	while ((opt = getopt(argc, argv, "s:n:T:p:t:")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			calls = strtoull(optarg, NULL, 0);
			break;
		case 'T':
			secs = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			procs = strtoul(optarg, NULL, 0);
			break;
		case 't':
			threads = strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (!procs || procs > MAX_PROCS || !threads || threads > MAX_THREADS)
		usage();

	tap_diag("fuzz seed %llu", (unsigned long long)seed);
	tap_diag("replay: /lfq/fuzz -s %llu -n %llu -T %u -p %u -t %u (same choices, not the same interleaving)",
		 (unsigned long long)seed, (unsigned long long)calls, secs,
		 procs, threads);
	tap_plan(4);
	setvbuf(stdout, NULL, _IOLBF, 0);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	/* -n 0: no call limit, run until the deadline. */
	sh->target = calls ? calls : UINT64_MAX;
	deadline_ns = now_ns() + (int64_t)secs * 1000000000;
	setup_fds(seed);

	t0 = now_s();
	for (i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			tap_diag("fork: %s", strerror(errno));
			return 1;
		}
		if (pids[i] == 0)
			_exit(worker((int)i, seed, (int)threads));
	}
	/* The workers have the files: the parent keeps none. */
	for (i = 0; i < NFD; i++)
		close(fds[i]);

	/* Wait; past the deadline (plus slack) stop them, then kill them. */
	for (left = (int)procs; left > 0;) {
		int st;
		pid_t r = waitpid(-1, &st, WNOHANG);

		if (r > 0) {
			left--;
			if (WIFSIGNALED(st)) {
				died++;
				tap_diag("worker %d died of signal %d (%s)", r,
					 WTERMSIG(st), strsignal(WTERMSIG(st)));
			} else if (WEXITSTATUS(st)) {
				died++;
				tap_diag("worker %d exited %d", r, WEXITSTATUS(st));
			}
			continue;
		}
		if (now_ns() > deadline_ns + 30ll * 1000000000) {
			tap_diag("workers still running 30 s past the deadline: killing them");
			died++;
			for (i = 0; i < procs; i++)
				kill(pids[i], SIGKILL);
			deadline_ns = INT64_MAX - 100ll * 1000000000;
		}
		msleep(20);
	}
	tap_diag("%llu calls (%llu ok) in %.1f s, %llu touches (%llu faults caught), %llu children (%llu killed), %llu creates, %llu opens, %llu sources attached",
		 (unsigned long long)sh->calls, (unsigned long long)sh->ok,
		 now_s() - t0, (unsigned long long)sh->touches,
		 (unsigned long long)sh->faults, (unsigned long long)sh->kids,
		 (unsigned long long)sh->killed,
		 (unsigned long long)sh->created,
		 (unsigned long long)sh->opened,
		 (unsigned long long)sh->attached);
	for (i = 0; i < 160; i++)
		if (sh->errs[i])
			tap_diag("  errno %s: %llu", i ? ename((int)i) : "?",
				 (unsigned long long)sh->errs[i]);

	tap_ok(!died && !sh->bad && sh->calls >= calls && sh->calls,
	       "%llu calls, seed %llu", (unsigned long long)sh->calls,
	       (unsigned long long)seed);
	if (sh->calls < calls)
		tap_diag("only %llu of %llu calls before the %u s deadline",
			 (unsigned long long)sh->calls,
			 (unsigned long long)calls, secs);
	tap_ok(!died, "no worker died of a signal it did not send or hung (%d did)", died);
	left = unlink_all(&others);
	tap_ok(left == 0, "every named queue unlinked (%d left, %d outside the pool)",
	       left, others);
	tap_ok(module_works(), "the module still creates, pushes and pops");
	return tap_failed ? 1 : 0;
}
