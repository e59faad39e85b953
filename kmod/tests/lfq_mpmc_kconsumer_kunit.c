// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_mpmc_kconsumer_kunit.c - KUnit suite lfq_mpmc_kconsumer: in-kernel
 * consumers of MPMC queues (kmod/core/lfq_kconsumer.c, with their claim
 * records from kmod/core/lfq_cclaims.c). A kernel consumer holds what it
 * peeked until it has released all of it, releases in parts, and gives
 * back what it holds when it stops; it shares a queue with a process
 * consumer, each record going to one of them; the recovery of a dead
 * process consumer never releases slots a kernel consumer holds; a queue
 * admits LFQ_MPMC_KCLAIMS kernel consumers; forged claim indices never
 * steer a peek outside the ring nor hold it in a loop, nor do forged
 * discards make one peek pass more than a ring; and a pool of kernel
 * consumer threads and kernel producer threads delivers every record
 * exactly once. A record overwritten under a kernel consumer (a forged
 * release word) is found torn, not taken for a record; the slots a dead
 * process producer marked are discarded by the orphan scan, on any lap.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched/task.h>

#include "core/lfq_cclaims.h"
#include "core/lfq_claims.h"
#include "lfq_kunit_util.h"
#include "proto/lfq_mpmc.h"

#define KC_SLOT		64u
#define KC_N		64u

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

static struct lfq_queue *kc_queue(struct kunit *test, u32 slot_count)
{
	return lfq_kunit_queue(test, LFQ_TYPE_MPMC, KC_SLOT, slot_count);
}

/* @n records through the in-kernel producer API; each holds its index. */
static void kc_push(struct kunit *test, struct lfq_queue *q, u32 n)
{
	while (n) {
		u32 got = lfq_el_push(q, n);

		KUNIT_ASSERT_NE(test, got, 0U);
		n -= got;
	}
}

static u64 kc_release_word(struct lfq_queue *q, u64 i)
{
	return READ_ONCE(q->ring.release[i & (q->hdr.slot_count - 1)]);
}

/* Peek, hold, release in parts; what is held at the end is given back. */
static void lfq_mpmc_kconsumer_hold_test(struct kunit *test)
{
	struct lfq_queue *q = kc_queue(test, KC_N);
	struct lfq_consumer c;
	const u8 *a, *b;
	u32 got;
	u64 i;

	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	KUNIT_EXPECT_EQ(test, lfq_consumer_wait(&c, 1, 0), -EAGAIN);
	KUNIT_EXPECT_NULL(test, lfq_consumer_peek(&c, 4, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	kc_push(test, q, 10);
	KUNIT_EXPECT_EQ(test, lfq_consumer_wait(&c, 1, 0), 0);

	a = lfq_consumer_peek(&c, 4, &got);
	KUNIT_ASSERT_EQ(test, got, 4U);
	KUNIT_EXPECT_TRUE(test, lfq_span_ok(q, a, got));
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_TRUE(test, lfq_rec_ok(a + i * KC_SLOT, KC_SLOT, i));
	/* Held: a second peek returns the same claim, not a new one. */
	b = lfq_consumer_peek(&c, 8, &got);
	KUNIT_EXPECT_PTR_EQ(test, b, a);
	KUNIT_EXPECT_EQ(test, got, 4U);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(q), 4ULL);
	/* A part released: the rest is still held. */
	lfq_consumer_release(&c, 1);
	KUNIT_EXPECT_EQ(test, kc_release_word(q, 0), 1ULL);
	KUNIT_EXPECT_EQ(test, kc_release_word(q, 1), 0ULL);
	b = lfq_consumer_peek(&c, 8, &got);
	KUNIT_EXPECT_PTR_EQ(test, b, a + KC_SLOT);
	KUNIT_EXPECT_EQ(test, got, 3U);
	lfq_consumer_release(&c, 100);		/* clamped to what is held */
	KUNIT_EXPECT_EQ(test, kc_release_word(q, 3), 4ULL);
	KUNIT_EXPECT_EQ(test, kc_release_word(q, 4), 0ULL);

	a = lfq_consumer_peek(&c, 100, &got);
	KUNIT_ASSERT_EQ(test, got, 6U);
	KUNIT_EXPECT_TRUE(test, lfq_rec_ok(a, KC_SLOT, 4));
	/* Stopping gives back the 6 it holds, lost: producers reuse them. */
	lfq_consumer_fini(&c);
	for (i = 4; i < 10; i++)
		KUNIT_EXPECT_EQ(test, kc_release_word(q, i), i + 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lost), 6LL);
	KUNIT_EXPECT_NULL(test, c.mpmc.view.claim);
	kc_push(test, q, KC_N);
}

/*
 * A kernel consumer and a process consumer (a view with a registered
 * claim record in the consumer page) take turns over three laps: each
 * record goes to one of them.
 */
static void lfq_mpmc_kconsumer_shares_test(struct kunit *test)
{
	struct lfq_queue *q = kc_queue(test, KC_N);
	DECLARE_BITMAP(held, LFQ_MPMC_CLAIMS) = {};
	u64 next = 0, lap;
	struct lfq_mpmc_cons p;
	struct lfq_mpmc_take t;
	struct lfq_consumer c;
	const u8 *s;
	u32 got, i;
	int idx;

	idx = lfq_cclaim_register(q, held);
	KUNIT_ASSERT_GE(test, idx, 0);
	lfq_mpmc_cons_init(&p, &q->ring);
	lfq_mpmc_cons_set_claim(&p, &q->ring.cons->claims[idx]);
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	for (lap = 0; lap < 3; lap++) {
		kc_push(test, q, KC_N);
		while (next < (lap + 1) * KC_N) {
			if (next & 1) {
				s = lfq_mpmc_claim(&p, 3, &t);
				got = t.count;
			} else {
				s = lfq_consumer_peek(&c, 5, &got);
			}
			KUNIT_ASSERT_GT(test, got, 0U);
			KUNIT_EXPECT_TRUE(test, lfq_span_ok(q, s, got));
			for (i = 0; i < got; i++)
				KUNIT_EXPECT_TRUE(test,
						  lfq_rec_ok(s + i * KC_SLOT,
							     KC_SLOT, next + i));
			if (next & 1)
				lfq_mpmc_release(&p, &t);
			else
				lfq_consumer_release(&c, got);
			next += got;
		}
	}
	KUNIT_EXPECT_NULL(test, lfq_consumer_peek(&c, 1, &got));
	lfq_consumer_fini(&c);
	lfq_cclaims_drop(q, held);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lost), 0LL);
}

/*
 * A process consumer D wrote its record for slots 0..3 and died before
 * its compare-and-swap; a kernel consumer claimed them. Its recovery
 * must count the kernel consumer's record among the live ones: nothing
 * is released while the kernel consumer holds them, nothing is lost.
 */
static void lfq_mpmc_kconsumer_covered_test(struct kunit *test)
{
	struct lfq_queue *q = kc_queue(test, KC_N);
	DECLARE_BITMAP(held, LFQ_MPMC_CLAIMS) = {};
	struct lfq_mpsc_claim *d;
	struct lfq_consumer c;
	int idx;
	u32 got;

	idx = lfq_cclaim_register(q, held);
	KUNIT_ASSERT_GE(test, idx, 0);
	d = &q->ring.cons->claims[idx];
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	kc_push(test, q, 8);
	WRITE_ONCE(d->start, 0);
	WRITE_ONCE(d->end, 4);
	KUNIT_ASSERT_NOT_NULL(test, lfq_consumer_peek(&c, 4, &got));
	KUNIT_ASSERT_EQ(test, got, 4U);
	lfq_cclaims_drop(q, held);
	/* A run of the recovery has happened, and found them covered. */
	lfq_cclaims_flush(q);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lost), 0LL);
	KUNIT_EXPECT_EQ(test, kc_release_word(q, 0), 0ULL);
	KUNIT_EXPECT_EQ(test, kc_release_word(q, 3), 0ULL);
	/* The index stays taken while its recovery waits. */
	KUNIT_EXPECT_NE(test, lfq_cclaim_register(q, held), idx);
	lfq_consumer_release(&c, got);
	/* The next run finds them released: done, the index is free. */
	lfq_cclaims_flush(q);
	KUNIT_EXPECT_EQ(test, lfq_cclaim_register(q, held), idx);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lost), 0LL);
	KUNIT_EXPECT_EQ(test, kc_release_word(q, 3), 4ULL);
	lfq_consumer_fini(&c);
	lfq_cclaims_drop(q, held);
}

/* 32 kernel consumers per queue; their records come back; MPMC only. */
static void lfq_mpmc_kconsumer_limit_test(struct kunit *test)
{
	struct lfq_queue *spsc = lfq_kunit_queue(test, LFQ_TYPE_SPSC, 64, 64);
	struct lfq_queue *q = kc_queue(test, KC_N);
	struct lfq_mpsc_claim *rec;
	struct lfq_consumer *c;
	int i;

	c = kunit_kcalloc(test, LFQ_MPMC_KCLAIMS + 1, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_EQ(test, PTR_ERR(lfq_cclaim_kernel_get(spsc)), -EINVAL);
	for (i = 0; i < LFQ_MPMC_KCLAIMS; i++)
		KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c[i], q), 0);
	KUNIT_EXPECT_EQ(test, lfq_consumer_init(&c[i], q), -ENOSPC);
	rec = c[5].mpmc.view.claim;
	lfq_consumer_fini(&c[5]);
	KUNIT_EXPECT_EQ(test, lfq_consumer_init(&c[i], q), 0);
	KUNIT_EXPECT_PTR_EQ(test, c[i].mpmc.view.claim, rec);
	for (i = 0; i <= LFQ_MPMC_KCLAIMS; i++)
		if (i != 5)
			lfq_consumer_fini(&c[i]);
}

/*
 * A hostile process rewriting the claim index, from a thread. The thread
 * says when it runs (@started) and returns only at kthread_stop(): a
 * thread stopped before it first ran never calls its function, so the
 * test must not wait for anything the function would do at its end.
 */
struct kc_forger {
	struct lfq_queue *q;
	struct completion started;
	u64 seed;
};

/* Start @fn on @f and wait (bounded) until it runs. */
static struct task_struct *kc_forger_run(struct kunit *test,
					 int (*fn)(void *),
					 struct kc_forger *f)
{
	struct task_struct *task;

	init_completion(&f->started);
	task = kthread_run(fn, f, "lfq-kc-forger");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	if (!wait_for_completion_timeout(&f->started, 30 * HZ)) {
		kthread_stop(task);
		KUNIT_ASSERT_FAILURE(test, "forger thread never ran");
	}
	return task;
}

static int kc_forger(void *data)
{
	struct kc_forger *f = data;
	u64 v;

	complete(&f->started);
	while (!kthread_should_stop()) {
		v = lfq_kunit_rand(&f->seed);
		/* Near the truth (CAS failures), or anywhere. */
		WRITE_ONCE(f->q->ring.cons->tail, v & 4 ? v : v & 255);
		WRITE_ONCE(f->q->ring.release[v & (KC_N - 1)], v >> 8);
		cond_resched();
	}
	return 0;
}

/*
 * Forged claim indices and release words, written by hand and then by a
 * thread racing the peeks: every span lies inside the ring, every peek
 * returns (a bounded number of compare-and-swaps), and the consumer
 * stops cleanly. KASAN checks that nothing else is touched.
 */
static void lfq_mpmc_kconsumer_forged_test(struct kunit *test)
{
	static const u64 forged[] = { 0, 3, 1ULL << 40, U64_MAX - 1, 8, 63 };
	struct lfq_queue *q = kc_queue(test, KC_N);
	struct kc_forger f = { .q = q, .seed = 0x6b636f6e73ULL };
	struct task_struct *task;
	struct lfq_consumer c;
	const void *s;
	u32 got, i;

	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	kc_push(test, q, 16);
	for (i = 0; i < ARRAY_SIZE(forged); i++) {
		WRITE_ONCE(q->ring.cons->tail, forged[i]);
		s = lfq_consumer_peek(&c, KC_N, &got);
		KUNIT_EXPECT_TRUE(test, lfq_span_ok(q, s, got));
		lfq_consumer_release(&c, got);
	}
	task = kc_forger_run(test, kc_forger, &f);
	for (i = 0; i < 20000; i++) {
		s = lfq_consumer_peek(&c, 1 + i % 7, &got);
		KUNIT_EXPECT_TRUE(test, lfq_span_ok(q, s, got));
		lfq_consumer_release(&c, got / 2);
		lfq_consumer_wait(&c, 1, 0);
		if (!(i % 256))
			cond_resched();
	}
	kthread_stop(task);
	lfq_consumer_fini(&c);
}

/* A hostile producer: commit words ahead of the tail say "discarded". */
static int kc_discarder(void *data)
{
	struct kc_forger *f = data;
	struct lfq_queue *q = f->q;
	u32 mask = q->hdr.slot_count - 1, k;
	u64 tail;

	complete(&f->started);
	while (!kthread_should_stop()) {
		tail = READ_ONCE(q->ring.cons->tail);
		for (k = 0; k <= mask; k++)
			WRITE_ONCE(q->ring.commit[(tail + k) & mask],
				   (tail + k + 1) | LFQ_MPSC_DISCARDED);
		cond_resched();
	}
	return 0;
}

/*
 * A producer that keeps the slots ahead of the claim index "discarded"
 * cannot hold a kernel consumer in one peek: each looks at a ring's worth
 * of discarded slots at most, however many the forger adds meanwhile.
 */
static void lfq_mpmc_kconsumer_discards_test(struct kunit *test)
{
	struct lfq_queue *q = kc_queue(test, 4096);
	struct kc_forger f = { .q = q };
	struct task_struct *task;
	struct lfq_consumer c;
	u64 before, most = 0;
	u32 got, i;

	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	task = kc_forger_run(test, kc_discarder, &f);
	/* The forger is at work before the first peek. */
	lfq_el_poll(READ_ONCE(q->ring.commit[0]) & LFQ_MPSC_DISCARDED, 2000);
	for (i = 0; i < 200; i++) {
		before = lfq_shared_tail(q);
		lfq_consumer_peek(&c, 1, &got);
		lfq_consumer_release(&c, got);
		most = max(most, lfq_shared_tail(q) - before);
		usleep_range(50, 100);	/* the forger fills ahead again */
	}
	kthread_stop(task);
	lfq_consumer_fini(&c);
	kunit_info(test, "most slots passed in one peek: %llu of 4096", most);
	KUNIT_EXPECT_LE(test, most, 4096ULL + 1);
	KUNIT_EXPECT_GT(test, c.mpmc.view.discarded, 0ULL);
}

#define KC_POOL_PRODUCERS	2
#define KC_POOL_CONSUMERS	3
#define KC_POOL_THREADS		(KC_POOL_PRODUCERS + KC_POOL_CONSUMERS)
#define KC_POOL_EACH		50000u
#define KC_POOL_TOTAL		(KC_POOL_PRODUCERS * KC_POOL_EACH)
#define KC_POOL_DEADLINE	(60 * HZ)

/* The pool: producer and consumer threads and what the consumers saw. */
struct kc_pool {
	struct lfq_queue *q;
	unsigned long *seen;
	atomic64_t got, twice, bad;
	struct completion done[KC_POOL_THREADS];
	int err[KC_POOL_CONSUMERS];
	struct kc_arg {
		struct kc_pool *pool;
		int k;
	} arg[KC_POOL_THREADS];
};

/* Done: say so, then wait for kthread_stop() (the test holds the task). */
static int kc_pool_exit(struct kc_arg *a)
{
	return lfq_kunit_pool_exit(&a->pool->done[a->k]);
}

static int kc_pool_producer(void *data)
{
	struct kc_arg *a = data;
	unsigned long end = jiffies + KC_POOL_DEADLINE;
	u32 left = KC_POOL_EACH;

	while (left && time_before(jiffies, end) && !kthread_should_stop()) {
		u32 n = lfq_el_push(a->pool->q, min(left, 8u));

		left -= n;
		if (!n)
			cond_resched();	/* full: the consumers catch up */
	}
	return kc_pool_exit(a);
}

static int kc_pool_consumer(void *data)
{
	struct kc_arg *a = data;
	struct kc_pool *p = a->pool;
	unsigned long end = jiffies + KC_POOL_DEADLINE;
	struct lfq_consumer c;
	const u8 *s;
	u64 idx;
	u32 got, i;

	p->err[a->k - KC_POOL_PRODUCERS] = lfq_consumer_init(&c, p->q);
	if (p->err[a->k - KC_POOL_PRODUCERS])
		return kc_pool_exit(a);
	while (atomic64_read(&p->got) < KC_POOL_TOTAL &&
	       time_before(jiffies, end) && !kthread_should_stop()) {
		s = lfq_consumer_peek(&c, 1 + a->k % 5, &got);
		if (!got) {
			lfq_consumer_wait(&c, 1, 10 * NSEC_PER_MSEC);
			continue;
		}
		for (i = 0; i < got; i++, s += KC_SLOT) {
			idx = *(const u64 *)s;
			if (idx >= KC_POOL_TOTAL ||
			    !lfq_rec_ok(s, KC_SLOT, idx))
				atomic64_inc(&p->bad);
			else if (test_and_set_bit(idx, p->seen))
				atomic64_inc(&p->twice);
		}
		atomic64_add(got, &p->got);
		lfq_consumer_release(&c, got);
	}
	lfq_consumer_fini(&c);
	return kc_pool_exit(a);
}

/*
 * Two kernel producer threads and three kernel consumer threads on one
 * 64-slot queue (many laps): every record arrives exactly once, intact.
 * Every thread started is stopped before the test checks anything, so
 * none outlives the memory the test frees.
 */
static void lfq_mpmc_kconsumer_pool_test(struct kunit *test)
{
	struct kc_pool *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	int k, started, finished;

	KUNIT_ASSERT_NOT_NULL(test, p);
	p->q = kc_queue(test, KC_N);
	p->seen = kunit_kcalloc(test, BITS_TO_LONGS(KC_POOL_TOTAL),
				sizeof(long), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p->seen);
	for (k = 0; k < KC_POOL_THREADS; k++) {
		p->arg[k].pool = p;
		p->arg[k].k = k;
	}
	started = lfq_kunit_pool(KC_POOL_THREADS, KC_POOL_PRODUCERS,
				 kc_pool_producer, kc_pool_consumer, p->arg,
				 sizeof(p->arg[0]), p->done,
				 2 * KC_POOL_DEADLINE, &finished);
	KUNIT_ASSERT_EQ(test, started, KC_POOL_THREADS);
	KUNIT_EXPECT_EQ(test, finished, KC_POOL_THREADS);
	for (k = 0; k < KC_POOL_CONSUMERS; k++)
		KUNIT_EXPECT_EQ(test, p->err[k], 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&p->got), (s64)KC_POOL_TOTAL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&p->twice), 0LL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&p->bad), 0LL);
	KUNIT_EXPECT_EQ(test, bitmap_weight(p->seen, KC_POOL_TOTAL),
			KC_POOL_TOTAL);
	/* An honest run finds nothing torn. */
	KUNIT_EXPECT_EQ(test, atomic64_read(&p->q->torn), 0LL);
}

/*
 * A process consumer forges the release word of the slot a kernel
 * consumer holds; a kernel producer a lap on writes it. The kernel
 * consumer's copy then mixes two laps: lfq_consumer_intact() says so
 * once the producer has marked the slot (before it commits, while it
 * writes), the release counts it in lfq_stats.torn, and another kernel
 * consumer takes the new record whole.
 */
static void lfq_mpmc_kconsumer_torn_test(struct kunit *test)
{
	struct lfq_queue *q = kc_queue(test, KC_N);
	struct lfq_consumer c, d;
	struct lfq_mpsc_resv r;
	u8 copy[KC_SLOT];
	struct lfq_stats st;
	const u8 *a, *b;
	u8 *w;
	u32 got;

	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&d, q), 0);
	kc_push(test, q, KC_N);
	a = lfq_consumer_peek(&c, 1, &got);		/* c holds index 0 */
	KUNIT_ASSERT_EQ(test, got, 1U);
	KUNIT_EXPECT_TRUE(test, lfq_consumer_intact(&c, 0));
	KUNIT_EXPECT_FALSE(test, lfq_consumer_intact(&c, 1));	/* not held */
	b = lfq_consumer_peek(&d, KC_N, &got);		/* d the rest */
	KUNIT_ASSERT_EQ(test, got, KC_N - 1);
	lfq_consumer_release(&d, got);

	/* The forger, as a process writing the consumer page would. */
	WRITE_ONCE(q->ring.release[0], 1ULL);
	w = lfq_queue_reserve(q, 1, &r);
	KUNIT_ASSERT_NOT_NULL(test, w);
	KUNIT_ASSERT_EQ(test, r.index, (u64)KC_N);	/* c's slot */
	KUNIT_EXPECT_PTR_EQ(test, (const u8 *)w, a);
	lfq_rec_fill(w, KC_SLOT / 2, KC_N);		/* half written */
	memcpy(copy, a, KC_SLOT);
	KUNIT_EXPECT_FALSE(test, lfq_rec_ok(copy, KC_SLOT, 0));
	KUNIT_EXPECT_FALSE(test, lfq_consumer_intact(&c, 0));
	lfq_rec_fill(w, KC_SLOT, KC_N);
	lfq_queue_commit(q, &r);
	KUNIT_EXPECT_FALSE(test, lfq_consumer_intact(&c, 0));
	lfq_consumer_release(&c, 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->torn), 1LL);
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->torn, 1ULL);

	b = lfq_consumer_peek(&d, 1, &got);
	KUNIT_ASSERT_EQ(test, got, 1U);
	KUNIT_EXPECT_TRUE(test, lfq_rec_ok(b, KC_SLOT, KC_N));
	KUNIT_EXPECT_TRUE(test, lfq_consumer_intact(&d, 0));
	lfq_consumer_release(&d, 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->torn), 1LL);
	lfq_consumer_fini(&c);
	lfq_consumer_fini(&d);
}

/*
 * A process producer dies holding marked slots (lfq_mpsc_mark()), on the
 * ring's first lap and on a later one: the orphan scan must read each
 * mark as outstanding and discard it, or every consumer would stop there
 * for good. The consumer then skips them and gets the records after.
 */
static void lfq_mpmc_kconsumer_dead_marked_test(struct kunit *test)
{
	struct lfq_queue *q = kc_queue(test, KC_N);
	DECLARE_BITMAP(dead, LFQ_MPSC_CLAIMS);
	struct lfq_mpsc_prod *pd = kunit_kzalloc(test, sizeof(*pd), GFP_KERNEL);
	struct lfq_stats *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	struct lfq_consumer *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct lfq_mpsc_resv d;
	u64 next = 0, lap, v;
	const u8 *s;
	u32 got, i, k;
	int cd;

	KUNIT_ASSERT_TRUE(test, pd && st && c);
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(c, q), 0);
	for (lap = 0; lap < 2; lap++) {
		bitmap_zero(dead, LFQ_MPSC_CLAIMS);
		cd = lfq_claim_register(q, dead);
		KUNIT_ASSERT_GE(test, cd, 0);
		lfq_mpsc_prod_init(pd, &q->ring);
		lfq_mpsc_prod_set_claim(pd, &q->ring.prod->claims[cd]);
		kc_push(test, q, 1);		/* index lap * KC_N */
		KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_reserve(pd, 3, &d));
		KUNIT_ASSERT_EQ(test, d.index, lap * KC_N + 1);
		for (i = 0; i < 3; i++) {	/* marked: i outstanding */
			v = READ_ONCE(q->ring.commit[(d.index + i) &
						     (KC_N - 1)]);
			KUNIT_EXPECT_TRUE(test,
					  lfq_mpsc_outstanding(v, d.index + i));
		}
		kc_push(test, q, KC_N - 4);	/* the rest of the lap */
		lfq_claims_drop(q, dead);	/* the producer dies */
		for (k = 0; k < 4; k++) {
			lfq_claims_flush(q);
			msleep(150);	/* past the scan's longest retry */
		}
		lfq_claims_flush(q);
		KUNIT_EXPECT_EQ(test, lfq_el_stats(q, st)->orphaned,
				3 * (lap + 1));
		while (next < (lap + 1) * KC_N) {
			s = lfq_consumer_peek(c, KC_N, &got);
			KUNIT_ASSERT_GT(test, got, 0U);
			for (i = 0; i < got; i++) {
				if (next == lap * KC_N + 1)
					next += 3;	/* the discarded */
				KUNIT_EXPECT_TRUE(test,
						  lfq_rec_ok(s + i * KC_SLOT,
							     KC_SLOT, next));
				next++;
			}
			lfq_consumer_release(c, got);
		}
		KUNIT_EXPECT_EQ(test, next, (lap + 1) * KC_N);
	}
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->torn), 0LL);
	lfq_consumer_fini(c);
}

static struct kunit_case lfq_mpmc_kconsumer_cases[] = {
	KUNIT_CASE(lfq_mpmc_kconsumer_hold_test),
	KUNIT_CASE(lfq_mpmc_kconsumer_shares_test),
	KUNIT_CASE(lfq_mpmc_kconsumer_covered_test),
	KUNIT_CASE(lfq_mpmc_kconsumer_limit_test),
	KUNIT_CASE(lfq_mpmc_kconsumer_forged_test),
	KUNIT_CASE(lfq_mpmc_kconsumer_discards_test),
	KUNIT_CASE(lfq_mpmc_kconsumer_pool_test),
	KUNIT_CASE(lfq_mpmc_kconsumer_torn_test),
	KUNIT_CASE(lfq_mpmc_kconsumer_dead_marked_test),
	{}
};

static struct kunit_suite lfq_mpmc_kconsumer_suite = {
	.name = "lfq_mpmc_kconsumer",
	.test_cases = lfq_mpmc_kconsumer_cases,
};

kunit_test_suite(lfq_mpmc_kconsumer_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's in-kernel consumers of MPMC queues");
MODULE_LICENSE("GPL");
