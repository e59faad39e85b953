// SPDX-License-Identifier: GPL-2.0
/*
 * elastic_hostile_kills.c - kill_storm.c on an elastic queue
 * (LFQ_CREATE_ELASTIC): MPSC producers that die holding reservations
 * (SIGKILL at random points) while the queue grows and shrinks. Every
 * reserved slot must end up consumed or counted in lfq_stats.orphaned,
 * whichever segment it is in: the orphan scan walks every live segment
 * (kmod/core/lfq_claims.c, lfq_seg_walk()).
 *   - Held reservations in three segments, their holders killed: the
 *     scan discards exactly their slots, a live holder's stays; the
 *     drained segments retire.
 *   - The storm on 64-slot segments, up to 256, whose consumer pauses now
 *     and then (the queue grows to seg_max, then drains): no record bad
 *     or out of order, reserved = consumed + orphaned, the consumer never
 *     stalls a second with slots reserved, the queue grew and shrank, and
 *     nothing is left once it is gone.
 *
 *   elastic_hostile_kills [-k KILLS] [-p PRODUCERS]   (defaults: 1000, 4)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define NAME		"t-storm-el"
#define SLOT		64
#define SEG		64		/* slots per segment (4 KiB) */
#define SEGS_MAX	256		/* 1 MiB of slots at most */
#define GENS_MAX	8192
#define STALL_MAX_NS	1000000000ll

/* One record: which producer generation, its sequence, a check word. */
struct rec {
	uint32_t gen;
	uint32_t pad;
	uint64_t seq;
	uint64_t check;
};

static uint64_t check_of(uint32_t gen, uint64_t seq)
{
	return (seq * 0x9e3779b97f4a7c15ull) ^ gen ^ 0x5bd1e995;
}

/* Create @name: an elastic MPSC queue of SEG-slot segments, consumer-only. */
static int create_elastic_queue(const char *name, uint32_t seg_max,
				struct lfq **out)
{
	LFQ_OPTS(lfq_create_opts, o, .type = LFQ_TYPE_MPSC, .slot_size = SLOT,
		 .slot_count = SEG, .flags = LFQ_CREATE_ELASTIC, .seg_min = 2,
		 .seg_max = seg_max, .name = name, .mode = 0600,
		 .role = LFQ_ROLE_CONSUMER);

	return lfq_create(&o, out);
}

/* A producer handle on the queue named @name. */
static int open_producer(const char *name, struct lfq **out)
{
	LFQ_OPTS(lfq_open_opts, o, .name = name, .role = LFQ_ROLE_PRODUCER);

	return lfq_open(&o, out);
}

/* A child producer: reserve @n, report over @w, then commit on a byte. */
static void holder(const char *name, uint32_t n, int w, int r, uint32_t gen)
{
	struct lfq *p;
	void *slot;
	uint32_t i;
	char c = 0;

	if (open_producer(name, &p))
		_exit(2);
	if (lfq_reserve(p, n, &slot) != (int)n)
		_exit(3);
	for (i = 0; i < n; i++) {
		struct rec *x = (void *)((char *)slot + i * SLOT);

		x->gen = gen;
		x->seq = i;
		x->check = check_of(gen, i);
	}
	if (write(w, &c, 1) != 1)
		_exit(4);
	/* Wait for the go (or die here, reservation held). */
	if (read(r, &c, 1) != 1)
		_exit(5);
	lfq_commit(p, n);
	lfq_close(p);
	_exit(0);
}

static pid_t spawn_holder(const char *name, uint32_t n, uint32_t gen,
			  int *go_fd)
{
	int up[2], down[2];
	pid_t pid;
	char c;

	if (pipe(up) || pipe(down))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		holder(name, n, up[1], down[0], gen);
	}
	close(up[1]);
	close(down[0]);
	if (pid < 0 || read(up[0], &c, 1) != 1) {
		close(up[0]);
		close(down[1]);
		return -1;
	}
	close(up[0]);
	*go_fd = down[1];
	return pid;
}

/* Let a holder commit and exit; true if it exited cleanly. */
static int finish_holder(pid_t pid, int go)
{
	int st = -1;

	if (write(go, "g", 1) != 1)
		tap_diag("write: %s", strerror(errno));
	close(go);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && !WEXITSTATUS(st);
}

/* Consume what is ready (discarded slots are skipped); count records. */
static uint64_t drain(struct lfq *c, uint32_t want_gen, uint64_t *bad)
{
	const void *r;
	uint64_t n = 0;
	int got, i;

	while ((got = lfq_peek(c, 64, &r)) > 0) {
		for (i = 0; i < got; i++) {
			const struct rec *x = (const void *)((const char *)r +
							     i * SLOT);
			if (x->check != check_of(x->gen, x->seq) ||
			    (want_gen && x->gen != want_gen))
				(*bad)++;
		}
		lfq_release(c, (uint32_t)got);
		n += (uint64_t)got;
	}
	if (got != -EAGAIN) {
		tap_diag("drain: lfq_peek: %d (%s)", got, ename(-got));
		(*bad)++;
	}
	return n;
}

static int stats(struct lfq *q, struct lfq_stats *st)
{
	memset(st, 0, sizeof(*st));
	return lfq_get_stats(q, st);
}

/* Poll until the consumer index reaches head, or @ns pass. */
static int64_t settle(struct lfq *c, int64_t ns, uint64_t *consumed,
		      uint64_t *bad)
{
	int64_t t0 = now_ns();
	struct lfq_stats st;

	do {
		*consumed += drain(c, 0, bad);
		stats(c, &st);
		if (st.consumed == st.produced)
			return now_ns() - t0;
		usleep(200);
	} while (now_ns() - t0 < ns);
	return -1;
}

/* Push @n records of generation @gen from @p, numbered from *@seq on. */
static int push_recs(struct lfq *p, uint32_t gen, uint64_t *seq, uint32_t n)
{
	struct rec x = { .gen = gen };
	int err;

	for (; n; n--, (*seq)++) {
		x.seq = *seq;
		x.check = check_of(gen, *seq);
		err = lfq_push(p, &x, sizeof(x));
		if (err) {
			tap_diag("push %llu: %s", (unsigned long long)*seq,
				 ename(-err));
			return err;
		}
	}
	return 0;
}

/*
 * Deterministic: producers killed holding slots in segments 0, 1
 * and 2 (of SEG slots each), a live one holding a slot after them. The
 * scan must discard the dead ones' slots in every segment and keep the
 * live one's.
 */
static void test_elastic_orphans(void)
{
	static const uint32_t before[3] = { 60, 30, 10 }, held[3] = { 3, 2, 4 };
	static const uint32_t after[3] = { 1, 32, 5 };
	uint64_t consumed = 0, bad = 0, seq = 0;
	struct lfq *c = NULL, *p = NULL;
	int go[3] = { -1, -1, -1 }, go_a = -1, i, err, ok_a;
	pid_t h[3] = { -1, -1, -1 }, a = -1;
	struct lfq_stats st;
	int64_t t0, t = -1;

	lfq_unlink("t-orph-el");
	err = create_elastic_queue("t-orph-el", 8, &c);
	if (!err)
		err = open_producer("t-orph-el", &p);
	if (!tap_ok(!err, "named elastic MPSC queue t-orph-el: %u-slot segments, "
		    "seg_max 8, a producer handle", SEG))
		return;
	/* [60 pushed, 3 held, 1] [30, 2 held, 32] [10, 4 held, 5, 1 live] */
	for (i = 0, err = 0; i < 3 && !err; i++) {
		err = push_recs(p, 100, &seq, before[i]);
		h[i] = err ? -1 : spawn_holder("t-orph-el", held[i], 1 + i, &go[i]);
		if (h[i] < 0)
			break;
		err = push_recs(p, 100, &seq, after[i]);
	}
	a = h[2] > 0 && !err ? spawn_holder("t-orph-el", 1, 4, &go_a) : -1;
	stats(c, &st);
	tap_ok(a > 0 && st.produced == 148 && st.segments == 3,
	       "holders of 3, 2 and 4 slots in segments 0, 1 and 2, a live "
	       "one after them (head %llu of 148, %llu segments)",
	       (unsigned long long)st.produced,
	       (unsigned long long)st.segments);
	for (i = 0; i < 3; i++) {
		if (h[i] <= 0)
			continue;
		kill(h[i], SIGKILL);
		waitpid(h[i], NULL, 0);
		close(go[i]);
	}
	/* Not consuming yet: the scan alone must find all 9. */
	t0 = now_ns();
	do {
		stats(c, &st);
		if (st.orphaned >= 9) {
			t = now_ns() - t0;
			break;
		}
		usleep(1000);
	} while (now_ns() - t0 < 2000000000ll);
	consumed = drain(c, 0, &bad);
	stats(c, &st);
	tap_ok(t >= 0 && t < STALL_MAX_NS && st.orphaned == 9 &&
	       consumed == 138 && !bad && st.consumed == 147,
	       "the scan discarded the 9 dead slots of 3 segments in %.1f ms "
	       "(orphaned %llu); %llu records read intact (bad %llu), the "
	       "consumer waits at the live one's slot (%llu)", t / 1e6,
	       (unsigned long long)st.orphaned, (unsigned long long)consumed,
	       (unsigned long long)bad, (unsigned long long)st.consumed);
	ok_a = a > 0 && finish_holder(a, go_a);
	t = settle(c, 2000000000ll, &consumed, &bad);
	stats(c, &st);
	tap_ok(ok_a && t >= 0 && consumed == 139 && !bad && st.orphaned == 9 &&
	       st.consumed == 148,
	       "the live holder commits: its record arrives (consumed %llu, "
	       "orphaned %llu, consumer at %llu)", (unsigned long long)consumed,
	       (unsigned long long)st.orphaned,
	       (unsigned long long)st.consumed);
	/* Drained segments retire (the idle work: every seg_idle_ms / 2). */
	for (i = 0; i < 40 && (st.shrinks < 2 || st.segments != 1); i++) {
		msleep(100);
		stats(c, &st);
	}
	tap_ok(st.shrinks == 2 && st.segments == 1 && st.segments_peak == 3,
	       "the two drained segments retire (%llu shrinks, %llu segments, "
	       "peak %llu)", (unsigned long long)st.shrinks,
	       (unsigned long long)st.segments,
	       (unsigned long long)st.segments_peak);
	lfq_close(p);
	lfq_close(c);
	lfq_unlink("t-orph-el");
}

/* The storm. */
static volatile int stop_consumer;
static int64_t s_empty_max;	/* longest wait for data, all consumed */
static uint64_t s_consumed, s_bad, s_order;
static int64_t s_stall_max;
static int64_t last_seq[GENS_MAX];

/*
 * A consumer that read a sealed segment to its end stays on it until its
 * next peek, which reads the segment's frame; the kernel must not retire
 * it meanwhile (ORDERING seg-cons). Were it retired, the peek would be a
 * SIGBUS (frame zapped) or, once the frame holds a new segment, find
 * nothing for ever: the storm's consumer catches both, takes a fresh
 * handle on the same file (it starts where the kernel says the consumer
 * is) so the run goes on, and counts them as a failure.
 */
static __thread sigjmp_buf peek_jb;
static __thread volatile sig_atomic_t peeking;
static uint64_t s_bus, s_stuck;		/* fresh handles taken, and why */

static void on_bus(int sig)
{
	if (peeking) {
		peeking = 0;
		siglongjmp(peek_jb, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* lfq_peek(), or -EFAULT on a SIGBUS (the bug above). */
static int guarded_peek(struct lfq *h, uint32_t want, const void **span)
{
	int got;

	if (sigsetjmp(peek_jb, 1))
		return -EFAULT;
	peeking = 1;
	got = lfq_peek(h, want, span);
	peeking = 0;
	return got;
}

/* A fresh consumer handle on @c's file; @h, if not @c, is closed. */
static struct lfq *fresh_handle(struct lfq *c, struct lfq *h)
{
	struct lfq *n = open_fd(lfq_fd(c));

	if (!n)
		return h;
	if (h != c)
		lfq_close(h);
	return n;
}

/* Does a fresh handle find a record where @h, waiting, finds none? */
static struct lfq *probe_stuck(struct lfq *c, struct lfq *h)
{
	struct lfq *n = open_fd(lfq_fd(c));
	const void *span;

	if (!n)
		return h;
	if (lfq_peek(n, 1, &span) <= 0) {
		lfq_close(n);
		return h;
	}
	/*
	 * Stuck only if @h still finds nothing now that @n found a record:
	 * one committed (or a dead slot discarded) between @h's last peek
	 * and @n's is no bug.
	 */
	if (guarded_peek(h, 1, &span) > 0) {
		lfq_close(n);
		return h;
	}
	s_stuck++;
	if (h != c)
		lfq_close(h);
	return n;
}

static void *consume(void *arg)
{
	struct lfq *c = arg, *h = c;
	int64_t last = now_ns(), idle_since = 0, empty_since = 0, probed = 0;
	int64_t next_pause = last + 20000000;
	uint64_t rnd = (uint64_t)last | 1;
	struct lfq_stats st;
	const void *span;
	int got, i;

	for (;;) {
		got = guarded_peek(h, 64, &span);
		if (got == -EFAULT) {
			s_bus++;
			h = fresh_handle(c, h);
			continue;
		}
		if (got > 0 && empty_since && !stop_consumer) {
			if (now_ns() - empty_since > s_empty_max)
				s_empty_max = now_ns() - empty_since;
			empty_since = 0;
		}
		/*
		 * Every 20 to 50 ms, pause 1 to 16 ms with the span peeked,
		 * not released (the queue grows meanwhile); not after a
		 * release, where the bug above would strike more.
		 */
		if (got > 0 && now_ns() > next_pause) {
			rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
			usleep(1000 + (rnd >> 33) % 15000);
			next_pause = now_ns() + 20000000 + (rnd >> 20) % 30000000;
		}
		if (got < 0 && got != -EAGAIN && s_bad++ < 1)
			tap_diag("consumer: lfq_peek: %d (%s)", got,
				 ename(-got));
		if (got > 0) {
			for (i = 0; i < got; i++) {
				const struct rec *x = (const void *)
					((const char *)span + i * SLOT);

				if (x->gen >= GENS_MAX ||
				    x->check != check_of(x->gen, x->seq)) {
					s_bad++;
					continue;
				}
				/* Per producer: each sequence once, in order. */
				if ((int64_t)x->seq != last_seq[x->gen] + 1)
					s_order++;
				last_seq[x->gen] = (int64_t)x->seq;
			}
			lfq_release(h, (uint32_t)got);
			s_consumed += (uint64_t)got;
			last = now_ns();
			idle_since = 0;
			continue;
		}
		if (stop_consumer)
			break;
		/* Nothing ready: a stall only if slots are reserved. */
		stats(c, &st);
		if (st.produced != st.consumed) {
			if (!idle_since)
				idle_since = last;
			if (now_ns() - idle_since > s_stall_max)
				s_stall_max = now_ns() - idle_since;
			/* The bug above, or a real stall? */
			if (now_ns() - idle_since > 100000000 &&
			    now_ns() - probed > 100000000) {
				probed = now_ns();
				h = probe_stuck(c, h);
			}
		} else {
			idle_since = 0;
			last = now_ns();
			if (!empty_since)
				empty_since = last;
		}
		sched_yield();
	}
	if (h != c)
		lfq_close(h);
	return NULL;
}

static void producer(const char *name, uint32_t gen)
{
	uint64_t seq = 0, rnd = gen * 2654435761u + 1;
	struct lfq *p;
	uint32_t want;
	void *span;
	int got, i;

	if (open_producer(name, &p))
		_exit(2);
	for (;;) {
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		want = 1 + (uint32_t)(rnd >> 60) % 4;
		got = lfq_reserve(p, want, &span);
		if (got == -EAGAIN) {
			sched_yield();
			continue;
		}
		if (got < 0)
			_exit(3);
		for (i = 0; i < got; i++) {
			struct rec *x = (void *)((char *)span + i * SLOT);

			x->gen = gen;
			x->seq = seq + i;
			x->check = check_of(gen, seq + i);
		}
		lfq_commit(p, (uint32_t)got);
		seq += (uint64_t)got;
	}
}

static uint64_t meminfo_kb(const char *field)
{
	char line[256], fmt[64];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	snprintf(fmt, sizeof(fmt), "%s: %%llu kB", field);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * vmalloc'd memory but the kernel stacks (the storm's growth and
 * retirement work may leave extra kworkers, whose stacks are vmalloc'd).
 * Segments are vmap()ed pages, which VmallocUsed does not count: the
 * module's own list (debugfs) says the queue is gone.
 */
static uint64_t vmalloc_nonstack_kb(void)
{
	return meminfo_kb("VmallocUsed") - meminfo_kb("KernelStack");
}

/* Is queue @id in the module's debugfs list? -1 without debugfs. */
static int debugfs_has(int id)
{
	FILE *f = fopen("/sys/kernel/debug/lfq/queues", "r");
	char line[512];
	int n, found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%d", &n) == 1 && n == id)
			found = 1;
	fclose(f);
	return found;
}

/* The storm: 11 results. */
static void test_storm(unsigned int kills, unsigned int nprod)
{
	uint64_t rnd = (uint64_t)now_ns() | 1, vm0, vm1 = 0;
	unsigned int k, gen, i;
	pid_t pids[64];
	struct lfq_stats st;
	struct lfq *c = NULL;
	pthread_t th;
	int64_t t0, t;
	int err, id, listed = 0;

	for (i = 0; i < GENS_MAX; i++)
		last_seq[i] = -1;
	lfq_unlink(NAME);
	vm0 = vmalloc_nonstack_kb();
	err = create_elastic_queue(NAME, SEGS_MAX, &c);
	if (!tap_ok(!err, "named elastic MPSC queue %s, %u-slot segments, "
		    "seg_min 2, seg_max %u; the consumer pauses", NAME, SEG,
		    SEGS_MAX))
		return;
	if (pthread_create(&th, NULL, consume, c)) {
		tap_ok(0, "consumer thread");
		return;
	}
	for (i = 0; i < nprod; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			producer(NAME, i + 1);
	}
	gen = nprod;
	t0 = now_ns();
	for (k = 0; k < kills; k++) {
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		usleep((rnd >> 40) % 2000);
		i = (uint32_t)(rnd >> 20) % nprod;
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
		if (gen + 1 >= GENS_MAX)
			break;
		pids[i] = fork();
		if (pids[i] == 0)
			producer(NAME, gen + 1);
		gen++;
	}
	for (i = 0; i < nprod; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	t = now_ns() - t0;
	/* Every producer is gone: the consumer must reach head. */
	{
		int64_t d0 = now_ns();

		do {
			stats(c, &st);
			if (st.consumed == st.produced)
				break;
			usleep(1000);
		} while (now_ns() - d0 < 5000000000ll);
	}
	stop_consumer = 1;
	pthread_join(th, NULL);
	stats(c, &st);
	tap_ok(k == kills, "%u producers killed with SIGKILL in %.1f s, %u "
	       "producer generations", k, t / 1e9, gen);
	tap_ok(st.consumed == st.produced,
	       "the consumer reached head after the storm (%llu of %llu)",
	       (unsigned long long)st.consumed,
	       (unsigned long long)st.produced);
	tap_ok(s_consumed + st.orphaned == st.produced,
	       "consumed %llu + orphaned %llu = reserved %llu",
	       (unsigned long long)s_consumed,
	       (unsigned long long)st.orphaned,
	       (unsigned long long)st.produced);
	tap_ok(!s_bad && !s_order,
	       "every record intact (bad %llu), each producer's in order with "
	       "no gap or repeat (%llu out of order)",
	       (unsigned long long)s_bad, (unsigned long long)s_order);
	tap_ok(s_stall_max < STALL_MAX_NS,
	       "longest consumer stall with slots reserved: %.1f ms (< 1 s)",
	       s_stall_max / 1e6);
	tap_ok(st.orphaned > 0, "kills did land inside reservations "
	       "(%llu slots orphaned)", (unsigned long long)st.orphaned);
	tap_ok(st.grows > 0 && st.shrinks > 0 && st.segments_peak > 2 &&
	       st.segments_peak <= SEGS_MAX && st.segments >= 1,
	       "the queue grew and shrank under the storm: %llu grows, %llu "
	       "shrinks, peak %llu segments, %llu now",
	       (unsigned long long)st.grows, (unsigned long long)st.shrinks,
	       (unsigned long long)st.segments_peak,
	       (unsigned long long)st.segments);
	tap_diag("longest wait for a record with everything consumed and "
		 "producers running: %.1f ms", s_empty_max / 1e6);
	tap_ok(!s_bus && !s_stuck,
	       "the consumer was never left on a retired segment (%llu SIGBUS in lfq_peek, %llu times stuck)",
	       (unsigned long long)s_bus, (unsigned long long)s_stuck);

	/* Nothing left once the queue is gone (freed after RCU). */
	id = lfq_id(c);
	lfq_close(c);
	tap_ok(!lfq_unlink(NAME), "unlink %s", NAME);
	for (i = 0; i < 40; i++) {
		vm1 = vmalloc_nonstack_kb();
		listed = debugfs_has(id);
		if (vm1 <= vm0 + 512 && listed <= 0)
			break;
		msleep(50);
	}
	tap_ok(vm1 <= vm0 + 512 && listed <= 0,
	       "the queue is gone from the module's list (%s) and VmallocUsed "
	       "but kernel stacks is back to %llu kB (was %llu kB before it)",
	       listed < 0 ? "no debugfs" : listed ? "listed" : "not listed",
	       (unsigned long long)vm1, (unsigned long long)vm0);
}

int main(int argc, char **argv)
{
	unsigned int kills = 1000, nprod = 4;
	int opt;

	while ((opt = getopt(argc, argv, "k:p:")) != -1) {
		if (opt == 'k')
			kills = (unsigned int)strtoul(optarg, NULL, 0);
		else if (opt == 'p')
			nprod = (unsigned int)strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (nprod < 1 || nprod > 64)
		return 2;
	tap_plan(5 + 11);
	signal(SIGBUS, on_bus);
	test_elastic_orphans();
	test_storm(kills, nprod);
	return tap_done();
}
