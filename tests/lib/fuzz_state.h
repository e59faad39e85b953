/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz_state.h - tests/vm/fuzz.c's state and bookkeeping: the limits,
 * the name pool, the counters every process of a run shares (struct
 * shared), each process's files and trap pages, each thread's mappings
 * (with an elastic queue's layout when INFO gave it) and random state
 * (struct th); the seeded random choices; the accounting of every call
 * (check() against the errnos it may plausibly give, the capped
 * diagnostics) and those errno sets. Static, for fuzz.c alone.
 */
#ifndef LFQ_FUZZ_STATE_H
#define LFQ_FUZZ_STATE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "lfq.h"
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
	uint64_t created_el;	/* of which elastic (LFQ_CREATE_ELASTIC) */
	uint64_t created_rec;	/* of which record queues (LFQ_CREATE_RECORDS) */
	uint64_t created_rec_mpmc; /* of which MPMC ones */
	uint64_t grows;		/* LFQ_IOC_GROW calls */
	uint64_t grows_ok;	/* of which returned a frame */
	uint64_t touches_el;	/* touches aimed at elastic words and frames */
	uint64_t faults_el;	/* faults caught on elastic queues' mappings */
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
	uint64_t off;	/* the file offset mapped at @addr */
	struct lfq_info el;	/* an elastic queue's layout (INFO VER3), or
				 * seg_max 0 when unknown or fixed
				 */
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
/*
 * dup2() onto a descriptor another thread's open() or dup() has taken
 * but not installed yet: EBUSY (Linux; dup2(2)).
 */
static const int dup2_errs[] = { EBADF, EMFILE, ENFILE, EINVAL, EBUSY, 0 };
static const int poll_errs[] = { EINVAL, EFAULT, EINTR, ENOMEM, 0 };
static const int open_errs[] = { EMFILE, ENFILE, 0 };
static const int fork_errs[] = { EAGAIN, ENOMEM, 0 };

/* ----------------------------------------------------------------- bytes */

static void put32(unsigned char *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

static void put64(unsigned char *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

#endif /* LFQ_FUZZ_STATE_H */
