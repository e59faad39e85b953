// SPDX-License-Identifier: GPL-2.0
/*
 * mpmc_echo.c - kernel consumers sharing an MPMC queue with consumer
 * processes. ECHO sources are kernel threads that consume through the
 * in-kernel API (lfq_consumer_peek()/_release(), a claim record each in
 * kernel memory) and copy every record they take into an MPSC queue B,
 * which this program reads.
 *
 *   - steady: two producer processes push N records each into a named
 *     MPMC queue A (blocking when it is full); two ECHO sources and two
 *     consumer processes share A. Every record arrives exactly once,
 *     intact, through B or through a process, and both kinds of consumer
 *     took a share;
 *   - the same with the consumer processes killed now and then: nothing
 *     arrives twice, and what never arrives is among what the recovery of
 *     the dead ones counted lost (a dead consumer may have read a record
 *     it did not release); the kernel consumers keep going;
 *   - LFQ_SOURCES_MAX ECHO sources attach to one MPMC queue (a pool of
 *     kernel workers); a second ECHO on an MPSC queue is still EBUSY;
 *   - a hostile consumer process rewrites A's claim index, release words
 *     and claim records as fast as it can while producers and two ECHO
 *     sources run: the kernel stays inside the ring (the debug kernel's
 *     KASAN would say otherwise), and its threads are never held in a
 *     loop (detaching them returns at once).
 *
 * Runs in the test VM as root with lfq.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liblfq.h"
#include "lfq_ring.h"
#include "tap.h"
#include "test_util.h"

#define MS		1000000ll
#define SEC		1000000000ll
#define NAME		"t-mpmcecho"
#define SLOT		64u
#define PRODUCERS	2
#define N		500000ull	/* records per producer */
#define TOTAL		(PRODUCERS * N)
#define ECHOES		2
#define CONSUMERS	2

/* One 64-byte record: who, which, and a check over both. */
struct mrec {
	uint64_t id;		/* producer << 32 | seq */
	uint64_t fill[6];
	uint64_t check;
};

_Static_assert(sizeof(struct mrec) == SLOT, "one record per slot");

static void rec_fill(struct mrec *r, uint64_t id)
{
	r->id = id;
	for (int i = 0; i < 6; i++)
		r->fill[i] = mix64(id * 8 + (uint64_t)i);
	r->check = ~mix64(id);
}

/* The record's bit (producer * N + seq), or UINT64_MAX if it is bad. */
static uint64_t rec_bit(const struct mrec *r)
{
	uint64_t p = r->id >> 32, s = r->id & 0xffffffffu;
	struct mrec want;

	if (p >= PRODUCERS || s >= N)
		return UINT64_MAX;
	rec_fill(&want, r->id);
	return memcmp(r, &want, sizeof(want)) ? UINT64_MAX : p * N + s;
}

/* What every consumer saw, shared: a bit per record, and the errors. */
struct tally {
	uint64_t twice, bad, by_procs, stop;
	uint64_t bits[(TOTAL + 63) / 64];
};

static void mark(struct tally *t, const struct mrec *r, int by_proc)
{
	uint64_t bit = rec_bit(r);

	if (bit == UINT64_MAX)
		__atomic_fetch_add(&t->bad, 1, __ATOMIC_RELAXED);
	else if (bit_seen_twice(t->bits, bit))
		__atomic_fetch_add(&t->twice, 1, __ATOMIC_RELAXED);
	if (by_proc)
		__atomic_fetch_add(&t->by_procs, 1, __ATOMIC_RELAXED);
}

static uint64_t seen(const struct tally *t)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < (TOTAL + 63) / 64; i++)
		n += (uint64_t)__builtin_popcountll(t->bits[i]);
	return n;
}

/* A producer process: records producer << 32 | 0..N-1 into A. */
static void produce(uint32_t p)
{
	LFQ_OPTS(lfq_open_opts, o, .name = NAME, .role = LFQ_ROLE_PRODUCER);
	struct lfq *q;
	uint64_t s = 0;

	if (lfq_open(&o, &q))
		_exit(2);
	while (s < N) {
		void *span;
		int got = lfq_reserve(q, (uint32_t)(N - s < 8 ? N - s : 8),
				      &span);

		if (got == -EAGAIN) {
			if (lfq_wait_space(q, 1, 30 * SEC))
				_exit(3);
			continue;
		}
		if (got < 0)
			_exit(4);
		for (int i = 0; i < got; i++)
			rec_fill((struct mrec *)span + i,
				 (uint64_t)p << 32 | (s + (uint64_t)i));
		lfq_commit(q, (uint32_t)got);
		s += (uint64_t)got;
	}
	lfq_close(q);
	_exit(0);
}

static void mark_span(const void *span, int got, void *arg)
{
	for (int i = 0; i < got; i++)
		mark(arg, (const struct mrec *)span + i, 1);
}

/* A consumer process: its own file and claim, until told to stop. */
static void consume(struct tally *t)
{
	LFQ_OPTS(lfq_open_opts, o, .name = NAME, .role = LFQ_ROLE_CONSUMER);
	struct lfq *q;

	if (lfq_open(&o, &q))
		_exit(2);
	consume_until_stop(q, &t->stop, mark_span, t);
}

/* A hostile consumer: scribbles over A's consumer-writable words. */
static void forge(void)
{
	struct lfq_info i = { .size = sizeof(i) };
	uint64_t *rel, v = 0x686f7374696c65ull;
	struct lfq_cons_ctl *cc;
	struct lfq *q = NULL;
	uint32_t words;
	int fd;

	if (open_named(NAME, LFQ_ROLE_CONSUMER, &q))
		_exit(2);
	fd = lfq_fd(q);
	if (ioctl(fd, LFQ_IOC_INFO, &i))
		_exit(2);
	cc = mmap(NULL, sizeof(*cc), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		  (off_t)i.cons_offset);
	rel = mmap(NULL, i.commit_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   (off_t)(i.commit_offset + i.commit_size));
	if (cc == MAP_FAILED || rel == MAP_FAILED)
		_exit(3);
	words = (uint32_t)(i.commit_size / 8);
	for (;;) {
		v ^= v << 13;
		v ^= v >> 7;
		v ^= v << 17;
		/* Near the truth (failed compare-and-swaps), or anywhere. */
		__atomic_store_n(&cc->tail, v & 1 ? v : cc->tail + (v & 7) - 3,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&rel[v % words], v >> 7, __ATOMIC_RELAXED);
		__atomic_store_n(&cc->claims[v % LFQ_MPMC_CLAIMS].end, v >> 3,
				 __ATOMIC_RELAXED);
	}
}

static pid_t spawn(void (*fn)(struct tally *), struct tally *t)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (!pid)
		fn(t);
	return pid;
}

static void produce_0(struct tally *t)
{
	(void)t;
	produce(0);
}

static void produce_1(struct tally *t)
{
	(void)t;
	produce(1);
}

static void forge_t(struct tally *t)
{
	(void)t;
	forge();
}

static struct lfq_source echo_into(struct lfq *b)
{
	return (struct lfq_source){ .size = sizeof(struct lfq_source),
				    .type = LFQ_SOURCE_ECHO,
				    .target_fd = lfq_fd(b) };
}

/* Read what is in B into the tally; how many records. */
static uint64_t drain_b(struct lfq *b, struct tally *t)
{
	uint64_t n = 0;
	const void *span;
	int got;

	while ((got = lfq_peek(b, 64, &span)) > 0) {
		for (int i = 0; i < got; i++)
			mark(t, (const struct mrec *)span + i, 0);
		lfq_release(b, (uint32_t)got);
		n += (uint64_t)got;
	}
	return n;
}

/* Throw away what is in B. */
static void discard_b(struct lfq *b)
{
	const void *span;
	int got;

	while ((got = lfq_peek(b, 64, &span)) > 0)
		lfq_release(b, (uint32_t)got);
}

/*
 * A, B, the ECHO sources and the consumers; @kills consumer processes
 * killed (and replaced) on the way.
 */
static void run(int kills)
{
	LFQ_OPTS(lfq_create_opts, c, .type = LFQ_TYPE_MPMC, .slot_size = SLOT,
		 .slot_count = 256, .backend = LFQ_BACKEND_KERNEL, .name = NAME,
		 .mode = 0600, .role = LFQ_ROLE_PRODUCER | LFQ_ROLE_CONSUMER);
	struct tally *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct lfq *a = NULL, *b = mpsc_queue_or_exit(SLOT, 262144);
	struct lfq_source e = echo_into(b);
	struct lfq_stats sa = { .size = sizeof(sa) };
	struct lfq_stats sb = { .size = sizeof(sb) };
	pid_t prod[PRODUCERS], cons[CONSUMERS];
	int id[ECHOES], i, k = 0, rc = 0, storm = kills > 0;
	uint64_t via_b = 0, got;
	int64_t t0 = now_ns();

	lfq_unlink(NAME);
	if (t == MAP_FAILED || lfq_create(&c, &a)) {
		tap_ok(0, "create the MPMC queue");
		return;
	}
	for (i = 0; i < ECHOES; i++)
		id[i] = lfq_source_attach(a, &e);
	for (i = 0; i < CONSUMERS; i++)
		cons[i] = spawn(consume, t);
	prod[0] = spawn(produce_0, t);
	prod[1] = spawn(produce_1, t);
	while (now_ns() - t0 < 240 * SEC) {
		via_b += drain_b(b, t);
		got = seen(t);
		lfq_get_stats(a, &sa);
		/* All produced and claimed; what a kill left is recovered. */
		if (sa.produced == TOTAL && sa.consumed == TOTAL &&
		    got + sa.lost >= TOTAL && k == kills)
			break;
		usleep(5000);
		/* Kill k once 1/(kills + 2) more of the records arrived. */
		if (k < kills &&
		    got >= (uint64_t)(k + 1) * TOTAL / (uint64_t)(kills + 2)) {
			/* Kill one, start another in its place. */
			i = k++ % CONSUMERS;
			kill(cons[i], SIGKILL);
			child_status(cons[i]);
			cons[i] = spawn(consume, t);
		}
	}
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < PRODUCERS; i++)
		rc |= child_ok(prod[i]) ? 1 : 0;
	for (i = 0; i < CONSUMERS; i++)
		rc |= child_ok(cons[i]) ? 2 : 0;
	for (i = 0; i < ECHOES; i++)
		if (id[i] < 0 || lfq_source_detach(a, id[i]))
			rc |= 4;
	via_b += drain_b(b, t);
	lfq_get_stats(a, &sa);
	lfq_get_stats(b, &sb);
	got = seen(t);
	if (!tap_ok(!rc && !t->twice && !t->bad && !sb.dropped &&
		    sa.produced == TOTAL && via_b > 0 && t->by_procs > 0 &&
		    (storm ? got + sa.lost >= TOTAL && k == kills :
			     got == TOTAL && !sa.lost),
		    "%s: %d producer processes x %llu records into an MPMC queue shared by %d ECHO kernel consumers and %d consumer processes: %llu arrived once (%llu through the kernel, %llu through processes), %llu lost, none twice (%.1f s)",
		    storm ? "consumer processes killed" : "steady", PRODUCERS,
		    (unsigned long long)N, ECHOES, CONSUMERS,
		    (unsigned long long)got, (unsigned long long)via_b,
		    (unsigned long long)t->by_procs,
		    (unsigned long long)sa.lost,
		    (double)(now_ns() - t0) / 1e9))
		tap_diag("  rc %d kills %d twice %llu bad %llu produced %llu B dropped %llu",
			 rc, k, (unsigned long long)t->twice,
			 (unsigned long long)t->bad,
			 (unsigned long long)sa.produced,
			 (unsigned long long)sb.dropped);
	lfq_close(a);
	lfq_close(b);
	lfq_unlink(NAME);
	munmap(t, sizeof(*t));
}

/* LFQ_SOURCES_MAX ECHO sources on an MPMC queue; one on an MPSC queue. */
static void test_pool(void)
{
	LFQ_OPTS(lfq_create_opts, c, .type = LFQ_TYPE_MPMC, .slot_size = SLOT,
		 .slot_count = 64, .backend = LFQ_BACKEND_KERNEL);
	struct lfq *b = mpsc_queue_or_exit(SLOT, 1024);
	struct lfq *m = mpsc_queue_or_exit(SLOT, 64);
	struct lfq_source e = echo_into(b);
	int id[LFQ_SOURCES_MAX], n = 0, i;
	struct lfq *a = queue_or_exit(&c);
	void *span;
	int got;

	for (i = 0; i < LFQ_SOURCES_MAX; i++)
		n += (id[i] = lfq_source_attach(a, &e)) >= 0;
	tap_ok(n == LFQ_SOURCES_MAX, "%d ECHO sources attach to one MPMC queue",
	       n);
	expect(-lfq_source_attach(a, &e), ENOSPC, "one more ECHO source");
	/* The pool delivers: 64 records in, 64 out through B. */
	got = lfq_reserve(a, 64, &span);
	for (i = 0; i < got; i++)
		rec_fill((struct mrec *)span + i, (uint64_t)i);
	if (got > 0)
		lfq_commit(a, (uint32_t)got);
	for (i = 0; i < 500 && lfq_wait_data(b, (uint32_t)got, 10 * MS); i++)
		;
	tap_ok(got == 64 && lfq_wait_data(b, 64, 0) == 0,
	       "the pool of %d kernel consumers delivers 64 records (%d)",
	       LFQ_SOURCES_MAX, got);
	for (i = 0; i < LFQ_SOURCES_MAX; i++)
		if (id[i] >= 0)
			lfq_source_detach(a, id[i]);
	e.target_fd = lfq_fd(b);
	i = lfq_source_attach(m, &e);
	expect(-lfq_source_attach(m, &e), EBUSY,
	       "a second ECHO source on an MPSC queue");
	if (i >= 0)
		lfq_source_detach(m, i);
	lfq_close(a);
	lfq_close(b);
	lfq_close(m);
}

/* The hostile consumer against two ECHO sources and a producer. */
static void test_hostile(void)
{
	LFQ_OPTS(lfq_create_opts, c, .type = LFQ_TYPE_MPMC, .slot_size = SLOT,
		 .slot_count = 256, .backend = LFQ_BACKEND_KERNEL, .name = NAME,
		 .mode = 0600, .role = LFQ_ROLE_PRODUCER | LFQ_ROLE_CONSUMER);
	struct lfq *a = NULL, *b = mpsc_queue_or_exit(SLOT, 4096);
	struct lfq_source e = echo_into(b);
	int64_t t0, slowest = 0, dt;
	int id[ECHOES], i, ok = 1;
	uint64_t commits = 0;
	pid_t bad;

	lfq_unlink(NAME);
	if (lfq_create(&c, &a)) {
		tap_ok(0, "create the MPMC queue");
		return;
	}
	for (i = 0; i < ECHOES; i++)
		ok &= (id[i] = lfq_source_attach(a, &e)) >= 0;
	bad = spawn(forge_t, NULL);
	/* 3 s of producing (dropping when full) against the forger. */
	t0 = now_ns();
	while (now_ns() - t0 < 3 * SEC) {
		void *span;
		int got = lfq_reserve(a, 8, &span);

		if (got > 0) {
			memset(span, 0xa5, (size_t)got * SLOT);
			lfq_commit(a, (uint32_t)got);
			commits += (uint64_t)got;
		} else {
			usleep(100);
		}
		discard_b(b);
	}
	for (i = 0; i < ECHOES; i++) {
		t0 = now_ns();
		if (id[i] < 0 || lfq_source_detach(a, id[i]))
			ok = 0;
		dt = now_ns() - t0;
		slowest = dt > slowest ? dt : slowest;
	}
	kill(bad, SIGKILL);
	/* It forged until killed: it did not fail to start. */
	i = child_status(bad);
	ok &= WIFSIGNALED(i) && WTERMSIG(i) == SIGKILL;
	tap_ok(ok && slowest < 2 * SEC,
	       "a consumer forging A's claim index, release words and claim records for 3 s (%llu records committed meanwhile): both ECHO threads detach at once (slowest %.1f ms)",
	       (unsigned long long)commits, (double)slowest / 1e6);
	lfq_close(a);
	lfq_close(b);
	lfq_unlink(NAME);
}

int main(void)
{
	tap_plan(7);
	run(0);
	run(6);
	test_pool();
	test_hostile();
	return tap_done();
}
