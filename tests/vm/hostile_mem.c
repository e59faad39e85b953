// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_mem.c - a process writes random values into every page it has
 * mapped writable from /dev/lfq while the kernel produces into and
 * consumes from those queues:
 *
 *   A (MPSC)  <- SYNTH (2 threads, a hardirq and a softirq hrtimer)
 *             <- SYSCALL (getppid, which this test and its helper call)
 *   B1 (SPSC) -> ECHO -> C (MPSC)      B1, B2: this process produces;
 *   B2 (MPSC) -> ECHO -> C             the kernel consumes and copies
 *
 * With role ALL everything but the header page is writable: producer and
 * consumer pages (head, tail, need-wakeup flags, statistics), the commit
 * words and both copies of the slots. The writes aim at those words with
 * values that matter (0, ~0, head +/- 1, tail + capacity + 1, a commit
 * word's valid and discarded values, ...) and at random bytes anywhere,
 * at least 10^6 of them, interleaved with the system calls that make the
 * kernel read them (poll, WAIT, STATS, WAKE, getppid) and with honest
 * pushes; a forked helper races more of those calls on the same files.
 *
 * Afterwards: every source detaches; the counters the kernel keeps itself
 * (dropped, wakeups, wake_calls, waits; see lfq_stats_read()) were
 * monotonic, stop moving once detached, match the calls made (wake_calls
 * exactly) and stay within what the sources
 * could have produced (dropped); a fresh queue still works end to end,
 * and every module reference goes when the files and mappings do. The VM
 * runner fails the run on any splat.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lfq.h"
#include "lfq_event.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define PG		4096ul
#define SLOTS		256u
#define SLOT		64u
#define NQ		4
#define WRITES_MIN	1000000ull
#define SECS_MIN	5
#define SYNTH_COUNT	100000ull	/* records per SYNTH producer */
#define SYNTH_PRODS	4ull
#define DISCARDED	0x8000000000000000ull

struct q {
	const char *name;
	int fd;
	struct lfq_info info;
	unsigned char *base;
	struct lfq_prod_ctl *prod;
	struct lfq_cons_ctl *cons;
	__u64 *commit;
	unsigned char *data;
	struct lfq_stats last;	/* last sample */
	uint64_t wakes;		/* our LFQ_IOC_WAKE calls */
};

/* Counted by the helper too. */
struct shared {
	uint64_t getppid;
	uint64_t waits[NQ];	/* LFQ_IOC_WAIT calls with a timeout */
	int stop;
};

static struct q qs[NQ];
static struct shared *sh;
static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static void make_q(struct q *q, const char *name, uint32_t type)
{
	struct lfq_create c = { .size = sizeof(c), .type = type,
				.slot_size = SLOT, .slot_count = SLOTS };

	q->name = name;
	q->info.size = sizeof(q->info);
	q->fd = open_lfq();
	if (ioctl(q->fd, LFQ_IOC_CREATE, &c) ||
	    ioctl(q->fd, LFQ_IOC_INFO, &q->info))
		goto fail;
	/* The header read-only (it must be), everything else writable. */
	q->base = mmap(NULL, q->info.map_size, PROT_READ, MAP_SHARED, q->fd, 0);
	if (q->base == MAP_FAILED ||
	    munmap(q->base + PG, q->info.map_size - PG) ||
	    mmap(q->base + PG, q->info.map_size - PG, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, q->fd, PG) == MAP_FAILED)
		goto fail;
	q->prod = (void *)(q->base + q->info.prod_offset);
	q->cons = (void *)(q->base + q->info.cons_offset);
	q->commit = (void *)(q->base + q->info.commit_offset);
	q->data = q->base + q->info.data_offset;
	return;
fail:
	tap_diag("queue %s setup: %s", name, strerror(errno));
	exit(1);
}

static struct lfq_stats stats(struct q *q)
{
	struct lfq_stats st = { .size = sizeof(st) };

	if (ioctl(q->fd, LFQ_IOC_STATS, &st))
		tap_diag("STATS %s: %s", q->name, strerror(errno));
	return st;
}

/* A value worth writing into a word that holds @cur. */
static uint64_t value(uint64_t cur, uint64_t head, uint64_t tail)
{
	switch (below(16)) {
	case 0:
		return 0;
	case 1:
		return ~0ull;
	case 2:
		return head + 1;
	case 3:
		return head - 1;
	case 4:
		return tail + SLOTS + 1;
	case 5:
		return tail + SLOTS;
	case 6:
		return head - SLOTS;
	case 7:
		return tail - 1;
	case 8:
		return cur + 1;
	case 9:
		return 1ull << 63;
	case 10:
		return ~0ull - below(SLOTS);
	case 11:
		return below(4);
	case 12:
		return tail;	/* a drained ring: producers resume */
	case 13:
		return head;
	default:
		return rnd();
	}
}

/* One hostile write somewhere in @q's writable pages. */
static void hostile_write(struct q *q)
{
	uint64_t head = __atomic_load_n(&q->prod->head, __ATOMIC_RELAXED);
	uint64_t tail = __atomic_load_n(&q->cons->tail, __ATOMIC_RELAXED);
	volatile __u64 *w;
	uint64_t i, span;

	switch (below(10)) {
	case 0: case 1:
		w = &q->prod->head;
		break;
	case 2: case 3:
		w = &q->cons->tail;
		break;
	case 4:
		switch (below(4)) {
		case 0:
			w = (volatile __u64 *)&q->prod->need_space;
			break;
		case 1:
			w = (volatile __u64 *)&q->cons->need_data;
			break;
		case 2:
			w = &q->prod->full_events;
			break;
		default:
			w = &q->cons->empty_events;
			break;
		}
		break;
	case 5: case 6:
		if (q->info.commit_size) {
			/* A commit word near the tail: valid, discarded, or
			 * garbage for this lap.
			 */
			i = below(4) ? tail + below(SLOTS) : rnd();
			w = &q->commit[i & (SLOTS - 1)];
			switch (below(4)) {
			case 0:
				*w = i + 1;
				return;
			case 1:
				*w = (i + 1) | DISCARDED;
				return;
			default:
				break;
			}
			break;
		}
		/* fall through */
	case 7:
		w = (volatile __u64 *)(q->data +
					  8 * below(2 * q->info.data_size / 8));
		break;
	default:
		/* Any byte of any writable page, any width. */
		span = q->info.map_size - PG;
		i = PG + below(span);
		switch (below(4)) {
		case 0:
			*(volatile uint8_t *)(q->base + i) = (uint8_t)rnd();
			return;
		case 1:
			*(volatile uint32_t *)(q->base + (i & ~3ull)) =
				(uint32_t)value(0, head, tail);
			return;
		default:
			w = (volatile __u64 *)(q->base + (i & ~7ull));
			break;
		}
		break;
	}
	*w = value(*w, head, tail);
}

/* An honest push into an MPSC queue we produce (B2), or SPSC (B1). */
static void push(struct q *q, uint64_t seq)
{
	uint64_t head = __atomic_load_n(&q->prod->head, __ATOMIC_RELAXED);
	uint64_t tail = __atomic_load_n(&q->cons->tail, __ATOMIC_ACQUIRE);

	if (head - tail >= SLOTS)
		return;		/* full, or garbage that reads as full */
	if (q->info.commit_size &&
	    !__atomic_compare_exchange_n(&q->prod->head, &head, head + 1, 0,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	memcpy(q->data + (head & (SLOTS - 1)) * SLOT, &seq, sizeof(seq));
	if (q->info.commit_size)
		__atomic_store_n(&q->commit[head & (SLOTS - 1)], head + 1,
				 __ATOMIC_RELEASE);
	else
		__atomic_store_n(&q->prod->head, head + 1, __ATOMIC_RELEASE);
}

/* The kernel-kept counters of @now must not be below those of @then. */
static int monotonic(const struct lfq_stats *then, const struct lfq_stats *now)
{
	return now->dropped >= then->dropped &&
	       now->wakeups >= then->wakeups &&
	       now->wake_calls >= then->wake_calls &&
	       now->waits >= then->waits;
}

static int same_kernel_counters(const struct lfq_stats *a,
				const struct lfq_stats *b)
{
	return a->dropped == b->dropped && a->wakeups == b->wakeups &&
	       a->wake_calls == b->wake_calls && a->waits == b->waits;
}

/* Syscalls that make the kernel read the hostile pages. */
static void poke(int i, int helper)
{
	struct q *q = &qs[i];
	struct pollfd p = { .fd = q->fd, .events = POLLIN | POLLOUT };
	struct lfq_wait w = { .size = sizeof(w),
			      .flags = below(2) ? LFQ_WAIT_DATA : LFQ_WAIT_SPACE,
			      .min_count = 1 + below(SLOTS) };

	switch (below(helper ? 4 : 5)) {
	case 0:
		poll(&p, 1, 0);
		break;
	case 1:
		w.timeout_ns = below(2) ? 0 : 1000000;
		if (w.timeout_ns)
			__atomic_fetch_add(&sh->waits[i], 1, __ATOMIC_RELAXED);
		ioctl(q->fd, LFQ_IOC_WAIT, &w);
		break;
	case 2:
		stats(q);
		break;
	case 3:
		syscall(SYS_getppid);
		__atomic_fetch_add(&sh->getppid, 1, __ATOMIC_RELAXED);
		break;
	default:
		if (!ioctl(q->fd, LFQ_IOC_WAKE, 1ul + below(3)) || errno != EINVAL)
			q->wakes++;
		break;
	}
}

static void helper(void)
{
	rng ^= 0x5555;
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED))
		poke(below(NQ), 1);
	_exit(0);
}

static int attach(struct q *q, struct lfq_source s)
{
	int id;

	s.size = sizeof(s);
	id = ioc_source_attach(q->fd, &s);
	if (id < 0)
		tap_diag("attach type %u to %s: %s", s.type, q->name,
			 strerror(-id));
	return id;
}

/* A fresh queue after all that: SYNTH's records arrive whole, in order. */
static int fresh_queue_works(void)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = SLOT,
		 .slot_count = 128);
	struct lfq_source s = { .size = sizeof(s), .type = LFQ_SOURCE_SYNTH,
				.threads = 1, .count = 100 };
	struct lfq_event_synth ev;
	struct lfq_stats st;
	struct lfq *q;
	uint64_t n = 0, bad = 0;
	int64_t end = now_ns() + 30ll * 1000000000;
	int id;

	id = lfq_create(&o, &q);
	if (id) {
		tap_diag("fresh queue: lfq_create: %s", strerror(-id));
		return 0;
	}
	id = lfq_source_attach(q, &s);
	while (id >= 0 && n < 100 && now_ns() < end) {
		if (lfq_pop(q, &ev, sizeof(ev))) {
			lfq_wait_data(q, 1, 100000000);
			continue;
		}
		if (ev.hdr.type != LFQ_EVENT_SYNTH || ev.seq != n)
			bad++;
		n++;
	}
	lfq_get_stats(q, &st);
	if (id >= 0)
		lfq_source_detach(q, id);
	lfq_close(q);
	tap_diag("fresh queue: %llu records, %llu out of order, %llu dropped",
		 (unsigned long long)n, (unsigned long long)bad,
		 (unsigned long long)st.dropped);
	return id >= 0 && n == 100 && !bad && !st.dropped;
}

static int spsc_push_pop(void)
{
	struct lfq *q = spsc_queue_or_exit(SLOT, 64);
	char in[SLOT] = "hostile_mem", out[SLOT] = "";
	int ok = !lfq_push(q, in, sizeof(in)) &&
		 !lfq_pop(q, out, sizeof(out)) && !strcmp(in, out);

	lfq_close(q);
	return ok;
}

int main(int argc, char **argv)
{
	struct lfq_stats st0[NQ], st1[NQ], st2[NQ];
	uint64_t writes = 0, min_writes = WRITES_MIN, seq = 0, samples = 0;
	uint64_t nonmono = 0, bound;
	int ids[4], i, ok, status, rc;
	int64_t t0, min_ns = SECS_MIN * 1000000000ll;
	pid_t pid;

	if (argc > 1)
		min_writes = strtoull(argv[1], NULL, 0);
	if (argc > 2)
		rng = strtoull(argv[2], NULL, 0);
	tap_diag("seed %llu (replay: hostile_mem %llu %llu)",
		 (unsigned long long)rng, (unsigned long long)min_writes,
		 (unsigned long long)rng);
	tap_plan(10);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;

	make_q(&qs[0], "A", LFQ_TYPE_MPSC);
	make_q(&qs[1], "B1", LFQ_TYPE_SPSC);
	make_q(&qs[2], "B2", LFQ_TYPE_MPSC);
	make_q(&qs[3], "C", LFQ_TYPE_MPSC);
	ids[0] = attach(&qs[0], (struct lfq_source){
		.type = LFQ_SOURCE_SYNTH, .threads = 2, .hardirq_timers = 1,
		.softirq_timers = 1, .count = SYNTH_COUNT,
		.thread_period_ns = 20000, .timer_period_ns = 50000 });
	ids[1] = attach(&qs[0], (struct lfq_source){
		.type = LFQ_SOURCE_SYSCALL, .syscall_nr = SYS_getppid });
	ids[2] = attach(&qs[1], (struct lfq_source){
		.type = LFQ_SOURCE_ECHO, .target_fd = qs[3].fd });
	ids[3] = attach(&qs[2], (struct lfq_source){
		.type = LFQ_SOURCE_ECHO, .target_fd = qs[3].fd });
	tap_ok(ids[0] >= 0 && ids[1] >= 0 && ids[2] >= 0 && ids[3] >= 0,
	       "SYNTH and SYSCALL into A, ECHO B1 -> C and B2 -> C attached");
	for (i = 0; i < NQ; i++)
		st0[i] = qs[i].last = stats(&qs[i]);

	pid = fork();
	if (pid == 0)
		helper();

	t0 = now_ns();
	while (writes < min_writes || now_ns() - t0 < min_ns) {
		int k;

		for (k = 0; k < 256; k++, writes++)
			hostile_write(&qs[below(NQ)]);
		push(&qs[1 + below(2)], seq++);
		poke(below(NQ), 0);
		if (!(writes & 4095)) {
			for (i = 0; i < NQ; i++) {
				struct lfq_stats st = stats(&qs[i]);

				if (!monotonic(&qs[i].last, &st))
					nonmono++;
				qs[i].last = st;
			}
			samples++;
		}
		if (now_ns() - t0 > 120ll * 1000000000)
			break;
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	waitpid(pid, &status, 0);
	tap_ok(writes >= min_writes && WIFEXITED(status) && !WEXITSTATUS(status),
	       "%llu hostile writes in %.1f s into 4 queues' writable pages, %llu honest pushes, %llu getppid",
	       (unsigned long long)writes, (now_ns() - t0) / 1e9,
	       (unsigned long long)seq, (unsigned long long)sh->getppid);
	tap_ok(!nonmono, "dropped, wakeups, wake_calls, waits monotonic in %llu samples of 4 queues (%llu went back)",
	       (unsigned long long)samples, (unsigned long long)nonmono);

	rc = 0;
	for (i = 0; i < 4; i++) {
		int q = i < 2 ? 0 : i - 1;

		if (ids[i] >= 0 && ioc_source_detach(qs[q].fd, ids[i]))
			rc++;
	}
	tap_ok(!rc, "every source detached (%d failed)", rc);

	/* The ECHO threads are gone, nothing in the kernel writes now. */
	for (i = 0; i < NQ; i++)
		st1[i] = stats(&qs[i]);
	msleep(300);
	ok = 1;
	for (i = 0; i < NQ; i++) {
		st2[i] = stats(&qs[i]);
		if (!same_kernel_counters(&st1[i], &st2[i]) ||
		    !monotonic(&qs[i].last, &st1[i]))
			ok = 0;
		tap_diag("%s: dropped %llu, wakeups %llu, wake_calls %llu (%llu made), waits %llu (of %llu WAITs), produced %llu, consumed %llu (as found)",
			 qs[i].name, (unsigned long long)st2[i].dropped,
			 (unsigned long long)st2[i].wakeups,
			 (unsigned long long)st2[i].wake_calls,
			 (unsigned long long)qs[i].wakes,
			 (unsigned long long)st2[i].waits,
			 (unsigned long long)sh->waits[i],
			 (unsigned long long)st2[i].produced,
			 (unsigned long long)st2[i].consumed);
	}
	tap_ok(ok, "the kernel's own counters stand still once detached");
	ok = 1;
	for (i = 0; i < NQ; i++)
		if (st2[i].wake_calls - st0[i].wake_calls != qs[i].wakes)
			ok = 0;
	tap_ok(ok, "wake_calls counts exactly the LFQ_IOC_WAKE calls made");
	/* Everything A's sources could have tried: SYNTH's records, one per
	 * getppid (only this test calls it; a little slack for others).
	 */
	bound = SYNTH_PRODS * SYNTH_COUNT + sh->getppid + 1000;
	tap_ok(st2[0].dropped <= bound,
	       "A: dropped %llu <= %llu, what SYNTH and SYSCALL could produce",
	       (unsigned long long)st2[0].dropped, (unsigned long long)bound);

	for (i = 0; i < NQ; i++) {
		munmap(qs[i].base, qs[i].info.map_size);
		close(qs[i].fd);
	}
	tap_ok(fresh_queue_works(), "a fresh MPSC queue: SYNTH's 100 records arrive in order, none dropped");
	tap_ok(spsc_push_pop(), "a fresh SPSC queue pushes and pops");
	for (i = 0; i < 50 && lfq_module_refcnt() > 0; i++)
		msleep(100);
	tap_ok(lfq_module_refcnt() == 0, "every module reference gone with the files and mappings (refcnt %d)",
	       lfq_module_refcnt());
	return tap_failed ? 1 : 0;
}
