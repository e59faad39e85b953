// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_rec_mpmc_kunit.c - KUnit suite lfq_rec_mpmc: MPMC record queues
 * (LFQ_TYPE_MPMC with LFQ_CREATE_RECORDS, proto/lfq_rec_mpmc.h) on real
 * queues. Kernel producers fill them; a kernel consumer takes a record
 * at a time, holds it until its release, and gives back what it holds
 * when it stops (lost and counted); it shares a queue with a process
 * consumer (a view with a claim record registered in the consumer page),
 * each record going to one of them; the recovery of a dead process
 * consumer releases the record it held (zeroed, marked, tail carried
 * on, counted lost), but not one a live claim covers, and not one it had
 * not taken; forged claim indices and forged dead claims never steer a
 * kernel read or write outside the ring; a record overwritten under a
 * kernel consumer (a forged tail) is found torn; and kernel producer and
 * consumer threads deliver every record exactly once.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/module.h>

#include "core/lfq_cclaims.h"
#include "lfq_kunit_util.h"
#include "proto/lfq_rec_mpmc.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define RM_RING		4096u
#define RM_SHARES	2000ULL

static struct lfq_queue *rm_queue(struct kunit *test)
{
	struct lfq_geometry g = {
		.type = LFQ_TYPE_MPMC, .flags = LFQ_CREATE_RECORDS,
		.slot_size = 1, .slot_count = RM_RING,
	};

	return lfq_kunit_queue_geo(test, &g);
}

/* A kernel producer's record of @len bytes holding @id in every word. */
static bool rm_put(struct lfq_queue *q, u64 id, u32 len)
{
	struct lfq_rec_kresv r;
	u64 *w = lfq_queue_rec_reserve(q, len, &r);
	u32 i;

	if (!w)
		return false;
	for (i = 0; i < len / 8; i++)
		w[i] = id;
	lfq_queue_rec_commit(q, &r);
	return true;
}

static bool rm_ok(const void *p, u32 len, u64 id)
{
	const u64 *w = p;
	u32 i;

	if (!len || len % 8)
		return false;
	for (i = 0; i < len / 8; i++)
		if (w[i] != id)
			return false;
	return true;
}

static u64 rm_hdr(struct lfq_queue *q, u64 pos)
{
	return READ_ONCE(*(u64 *)(q->ring.data + (pos & (RM_RING - 1))));
}

/* A process consumer: a view with a claim record in the consumer page. */
static void rm_pcons(struct kunit *test, struct lfq_queue *q,
		     unsigned long *held, struct lfq_rec_mcons *v, int *idx)
{
	struct lfq_rec_ring rr;

	*idx = lfq_cclaim_register(q, held);
	KUNIT_ASSERT_GE(test, *idx, 0);
	lfq_rec_ring_init(&rr, &q->ring);
	lfq_rec_mcons_init(v, &rr, q->ring.claim);
	lfq_rec_mcons_set_claim(v, &q->ring.cons->claims[*idx]);
}

/* Take, hold, release; what is held at the end is given back, lost. */
static void lfq_rec_mpmc_hold_test(struct kunit *test)
{
	struct lfq_queue *q = rm_queue(test);
	struct lfq_consumer c;
	const void *a, *b;
	u32 len;
	u64 i;

	KUNIT_ASSERT_NOT_NULL(test, q->ring.claim);
	KUNIT_EXPECT_NULL(test, q->ring.release);
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	KUNIT_EXPECT_EQ(test, lfq_consumer_wait(&c, 1, 0), -EAGAIN);
	KUNIT_EXPECT_NULL(test, lfq_consumer_rec_peek(&c, &len));
	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_TRUE(test, rm_put(q, i, 8 + 8 * i));
	KUNIT_EXPECT_EQ(test, lfq_consumer_wait(&c, 1, 0), 0);
	a = lfq_consumer_rec_peek(&c, &len);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_TRUE(test, rm_ok(a, len, 0));
	/* Held: a second peek returns the same record. */
	b = lfq_consumer_rec_peek(&c, &len);
	KUNIT_EXPECT_PTR_EQ(test, b, a);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*q->ring.claim), 16ULL);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(q), 0ULL);
	lfq_consumer_rec_release(&c);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(q), 16ULL);
	KUNIT_EXPECT_TRUE(test, rm_hdr(q, 0) & LFQ_REC_RELEASED);
	/* Two more: one released, one held at the end. */
	a = lfq_consumer_rec_peek(&c, &len);
	KUNIT_EXPECT_TRUE(test, rm_ok(a, len, 1));
	lfq_consumer_rec_release(&c);
	a = lfq_consumer_rec_peek(&c, &len);
	KUNIT_EXPECT_TRUE(test, rm_ok(a, len, 2));
	lfq_consumer_fini(&c);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lost), 1LL);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(q), 16ULL + 24 + 32);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(q), READ_ONCE(*q->ring.claim));
}

static int rm_count(void *ctx, const void *rec, u32 len)
{
	u64 *next = ctx;

	if (!rm_ok(rec, len, *next))
		return 1;
	(*next)++;
	return 0;
}

/*
 * A kernel consumer and a process consumer take turns over several laps
 * of the ring, the kernel one a record or a run at a time: each record
 * goes to one of them, in order.
 */
static void lfq_rec_mpmc_shares_test(struct kunit *test)
{
	struct lfq_queue *q = rm_queue(test);
	DECLARE_BITMAP(held, LFQ_MPMC_CLAIMS) = {};
	struct lfq_rec_mcons p;
	struct lfq_consumer c;
	u64 next = 0, made = 0;
	const void *s;
	int idx, n;
	u32 len;

	rm_pcons(test, q, held, &p, &idx);
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	while (next < RM_SHARES) {
		while (made < min(next + 40, RM_SHARES) &&
		       rm_put(q, made, 8 + 8 * (made % 7)))
			made++;
		switch (next % 3) {
		case 0:
			s = lfq_rec_mpmc_take(&p, &len);
			KUNIT_ASSERT_NOT_NULL(test, s);
			KUNIT_EXPECT_TRUE(test, rm_ok(s, len, next));
			lfq_rec_mpmc_release(&p);
			next++;
			break;
		case 1:
			s = lfq_consumer_rec_peek(&c, &len);
			KUNIT_ASSERT_NOT_NULL(test, s);
			KUNIT_EXPECT_TRUE(test, rm_ok(s, len, next));
			lfq_consumer_rec_release(&c);
			next++;
			break;
		default:
			n = lfq_consumer_rec_consume(&c, 5, rm_count, &next);
			KUNIT_ASSERT_GT(test, n, 0);
		}
	}
	KUNIT_EXPECT_NULL(test, lfq_consumer_rec_peek(&c, &len));
	KUNIT_EXPECT_EQ(test, next, made);
	lfq_consumer_fini(&c);
	lfq_cclaims_drop(q, held);
	lfq_cclaims_flush(q);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lost), 0LL);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(q), lfq_shared_head(q));
}

/*
 * A process consumer dies holding a record, behind another's: the
 * recovery zeroes and marks it, counts it lost, and tail moves up to the
 * record the other still holds; once that one is released, everything.
 */
static void lfq_rec_mpmc_dead_test(struct kunit *test)
{
	struct lfq_queue *q = rm_queue(test);
	DECLARE_BITMAP(held, LFQ_MPMC_CLAIMS) = {};
	DECLARE_BITMAP(held2, LFQ_MPMC_CLAIMS) = {};
	struct lfq_rec_mcons d, l;
	const u64 *s;
	u32 len;
	int idx, idx2;

	rm_pcons(test, q, held, &d, &idx);
	rm_pcons(test, q, held2, &l, &idx2);
	KUNIT_ASSERT_TRUE(test, rm_put(q, 7, 32));
	KUNIT_ASSERT_TRUE(test, rm_put(q, 8, 8));
	s = lfq_rec_mpmc_take(&d, &len);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_NOT_NULL(test, lfq_rec_mpmc_take(&l, &len));
	KUNIT_EXPECT_EQ(test, READ_ONCE(q->ring.cons->claims[idx].start), 0ULL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(q->ring.cons->claims[idx].end), 40ULL);
	lfq_cclaims_drop(q, held);
	lfq_cclaims_flush(q);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lost), 1LL);
	KUNIT_EXPECT_TRUE(test, rm_hdr(q, 0) & LFQ_REC_RELEASED);
	KUNIT_EXPECT_EQ(test, s[0], 0ULL);
	KUNIT_EXPECT_EQ(test, s[3], 0ULL);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(q), 40ULL);
	/* The index is free again: its recovery is done. */
	KUNIT_EXPECT_EQ(test, lfq_cclaim_register(q, held), idx);
	lfq_rec_mpmc_release(&l);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(q), 56ULL);
	lfq_cclaims_drop(q, held);
	lfq_cclaims_drop(q, held2);
	lfq_cclaims_flush(q);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lost), 1LL);
}

/*
 * A process consumer D wrote its claim for record 0 and died before its
 * compare-and-swap; a kernel consumer took the record. The recovery must
 * count the kernel consumer's claim among the live ones: nothing is
 * released while it holds the record. A dead claim on a record nobody
 * took (claim not past it) releases nothing either.
 */
static void lfq_rec_mpmc_covered_test(struct kunit *test)
{
	struct lfq_queue *q = rm_queue(test);
	DECLARE_BITMAP(held, LFQ_MPMC_CLAIMS) = {};
	struct lfq_mpsc_claim *d;
	struct lfq_consumer c;
	const void *s;
	u32 len;
	int idx;

	idx = lfq_cclaim_register(q, held);
	KUNIT_ASSERT_GE(test, idx, 0);
	d = &q->ring.cons->claims[idx];
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	KUNIT_ASSERT_TRUE(test, rm_put(q, 1, 16));
	KUNIT_ASSERT_TRUE(test, rm_put(q, 2, 16));
	WRITE_ONCE(d->start, 0);
	WRITE_ONCE(d->end, 24);
	KUNIT_ASSERT_NOT_NULL(test, lfq_consumer_rec_peek(&c, &len));
	lfq_cclaims_drop(q, held);
	lfq_cclaims_flush(q);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lost), 0LL);
	KUNIT_EXPECT_FALSE(test, rm_hdr(q, 0) & LFQ_REC_RELEASED);
	/* The index stays taken while its recovery waits. */
	KUNIT_EXPECT_NE(test, lfq_cclaim_register(q, held), idx);
	lfq_consumer_rec_release(&c);
	lfq_cclaims_flush(q);
	KUNIT_EXPECT_EQ(test, lfq_cclaim_register(q, held), idx);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lost), 0LL);
	/* Dead before taking record 1 (claim is at it): nothing released. */
	WRITE_ONCE(d->start, 24);
	WRITE_ONCE(d->end, 48);
	lfq_cclaims_drop(q, held);
	lfq_cclaims_flush(q);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lost), 0LL);
	KUNIT_EXPECT_FALSE(test, rm_hdr(q, 24) & LFQ_REC_RELEASED);
	s = lfq_consumer_rec_peek(&c, &len);
	KUNIT_EXPECT_TRUE(test, rm_ok(s, len, 2));
	lfq_consumer_rec_release(&c);
	lfq_consumer_fini(&c);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(q), 48ULL);
}

/*
 * Forged words: a claim index unaligned, or far ahead, or a ring behind
 * tail; dead claims unaligned, reversed, of a ring's length, past claim,
 * and, with the record they name taken and held by a consumer that has
 * no claim (so that no live claim covers it and claim is past it), two
 * of the wrong length, refused by the length check alone. (Every real
 * consumer has a claim covering what it holds: a dead claim naming a
 * span inside such a record is covered.) No kernel read or write leaves
 * the ring (KASAN would say), a kernel consumer's peek returns (bounded),
 * no record is released for them, and once the index is put back the
 * records arrive.
 */
static void lfq_rec_mpmc_forged_test(struct kunit *test)
{
	static const struct lfq_mpsc_claim bad[] = {
		{ 4, 36 }, { 32, 0 }, { 0, RM_RING }, { 0, 1ULL << 62 },
		{ 1ULL << 40, (1ULL << 40) + 16 }, { 0, 32 }, { 0, 16 },
	};
	struct lfq_rec_mcons bare;
	struct lfq_rec_ring rr;
	struct lfq_queue *q = rm_queue(test);
	DECLARE_BITMAP(held, LFQ_MPMC_CLAIMS) = {};
	static const u64 forged[] = { 3, 1ULL << 40, -4096ULL };
	struct lfq_consumer c;
	const void *s;
	unsigned int i;
	u32 len;
	int idx;

	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	KUNIT_ASSERT_TRUE(test, rm_put(q, 5, 16));
	for (i = 0; i < ARRAY_SIZE(forged); i++) {
		WRITE_ONCE(*q->ring.claim, forged[i]);
		KUNIT_EXPECT_NULL(test, lfq_consumer_rec_peek(&c, &len));
		KUNIT_EXPECT_EQ(test, lfq_shared_tail(q), 0ULL);
	}
	WRITE_ONCE(*q->ring.claim, 0);
	lfq_rec_ring_init(&rr, &q->ring);
	lfq_rec_mcons_init(&bare, &rr, q->ring.claim);
	/* Record [0, 24) taken, claim 24, tail 0: only each check is left. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_rec_mpmc_take(&bare, &len));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		idx = lfq_cclaim_register(q, held);
		KUNIT_ASSERT_GE(test, idx, 0);
		WRITE_ONCE(q->ring.cons->claims[idx].start, bad[i].start);
		WRITE_ONCE(q->ring.cons->claims[idx].end, bad[i].end);
		lfq_cclaims_drop(q, held);
		lfq_cclaims_flush(q);
	}
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lost), 0LL);
	KUNIT_EXPECT_FALSE(test, rm_hdr(q, 0) & LFQ_REC_RELEASED);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(q), 0ULL);
	/* The bare consumer's record is whole: it was never zeroed. */
	KUNIT_EXPECT_TRUE(test, rm_ok(q->ring.data + 8, 16, 5));
	KUNIT_EXPECT_EQ(test, lfq_rec_mpmc_release(&bare), 0);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(q), 24ULL);
	KUNIT_ASSERT_TRUE(test, rm_put(q, 6, 16));
	s = lfq_consumer_rec_peek(&c, &len);
	KUNIT_EXPECT_TRUE(test, rm_ok(s, len, 6));
	lfq_consumer_rec_release(&c);
	lfq_consumer_fini(&c);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(q), 48ULL);
}

/*
 * A kernel consumer holds a record while a process (the test, writing
 * the consumer page) moves tail past it, and kernel producers reuse its
 * bytes: lfq_consumer_intact() says so, and the release writes nothing
 * and counts it in lfq_stats.torn. Before that, with the ring filled
 * behind the record honestly, it reads intact.
 */
static void lfq_rec_mpmc_torn_test(struct kunit *test)
{
	struct lfq_queue *q = rm_queue(test);
	struct lfq_consumer c, d;
	const void *s;
	u64 h0, id = 1;
	u32 len;

	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&d, q), 0);
	KUNIT_ASSERT_TRUE(test, rm_put(q, 0, 56));
	KUNIT_ASSERT_NOT_NULL(test, lfq_consumer_rec_peek(&c, &len));
	while (rm_put(q, id, 56)) {
		s = lfq_consumer_rec_peek(&d, &len);
		KUNIT_EXPECT_TRUE(test, rm_ok(s, len, id));
		lfq_consumer_rec_release(&d);
		id++;
	}
	KUNIT_EXPECT_GT(test, id, 60ULL);
	KUNIT_EXPECT_TRUE(test, lfq_consumer_intact(&c, 0));
	h0 = rm_hdr(q, 0);
	WRITE_ONCE(*q->ring.tail, lfq_shared_head(q));
	KUNIT_ASSERT_TRUE(test, rm_put(q, id, 56));
	KUNIT_EXPECT_FALSE(test, lfq_consumer_intact(&c, 0));
	lfq_consumer_rec_release(&c);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->torn), 1LL);
	/* The new record's header there, not marked by the torn release. */
	KUNIT_EXPECT_NE(test, rm_hdr(q, 0), h0);
	KUNIT_EXPECT_FALSE(test, rm_hdr(q, 0) & LFQ_REC_RELEASED);
	s = lfq_consumer_rec_peek(&d, &len);
	KUNIT_EXPECT_TRUE(test, rm_ok(s, len, id));
	lfq_consumer_rec_release(&d);
	lfq_consumer_fini(&c);
	lfq_consumer_fini(&d);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lost), 0LL);
}

#define RM_POOL_PRODUCERS	2
#define RM_POOL_CONSUMERS	2
#define RM_POOL_EACH		20000ULL
#define RM_POOL_TOTAL		(RM_POOL_PRODUCERS * RM_POOL_EACH)
#define RM_POOL_DEADLINE	(60 * HZ)
#define RM_POOL_THREADS		(RM_POOL_PRODUCERS + RM_POOL_CONSUMERS)

struct rm_pool;

struct rm_arg {
	struct rm_pool *pool;
	int k;
};

struct rm_pool {
	struct lfq_queue *q;
	unsigned long *seen;
	atomic64_t got, twice, bad;
	int err[RM_POOL_CONSUMERS];
	struct completion done[RM_POOL_THREADS];
	struct rm_arg arg[RM_POOL_THREADS];
};

/* Record ids: producer k's i-th is k * RM_POOL_EACH + i, in every word. */
static int rm_pool_producer(void *data)
{
	struct rm_arg *a = data;
	struct rm_pool *p = a->pool;
	unsigned long end = jiffies + RM_POOL_DEADLINE;
	u64 i = 0, id;

	while (i < RM_POOL_EACH && time_before(jiffies, end) &&
	       !kthread_should_stop()) {
		id = a->k * RM_POOL_EACH + i;
		if (rm_put(p->q, id, 8 + 8 * (id % 9)))
			i++;
		else
			cond_resched();
	}
	return lfq_kunit_pool_exit(&p->done[a->k]);
}

static int rm_pool_consumer(void *data)
{
	struct rm_arg *a = data;
	struct rm_pool *p = a->pool;
	unsigned long end = jiffies + RM_POOL_DEADLINE;
	int ci = a->k - RM_POOL_PRODUCERS;
	struct lfq_consumer c;
	const u64 *r;
	u32 len;

	p->err[ci] = lfq_consumer_init(&c, p->q);
	while (!p->err[ci] && atomic64_read(&p->got) < RM_POOL_TOTAL &&
	       time_before(jiffies, end) && !kthread_should_stop()) {
		r = lfq_consumer_rec_peek(&c, &len);
		if (!r) {
			lfq_consumer_wait(&c, 1, 10 * NSEC_PER_MSEC);
			continue;
		}
		if (!len || r[0] >= RM_POOL_TOTAL || !rm_ok(r, len, r[0]) ||
		    len != 8 + 8 * (r[0] % 9))
			atomic64_inc(&p->bad);
		else if (test_and_set_bit(r[0], p->seen))
			atomic64_inc(&p->twice);
		atomic64_inc(&p->got);
		lfq_consumer_rec_release(&c);
	}
	if (!p->err[ci])
		lfq_consumer_fini(&c);
	return lfq_kunit_pool_exit(&p->done[a->k]);
}

/*
 * Two kernel producer threads and two kernel consumer threads on one
 * queue (on 2 CPUs: preemption, not scaling): every record once, whole.
 */
static void lfq_rec_mpmc_pool_test(struct kunit *test)
{
	struct rm_pool *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	int k, started, finished;

	KUNIT_ASSERT_NOT_NULL(test, p);
	p->q = rm_queue(test);
	p->seen = kunit_kcalloc(test, BITS_TO_LONGS(RM_POOL_TOTAL),
				sizeof(long), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p->seen);
	for (k = 0; k < RM_POOL_THREADS; k++) {
		p->arg[k].pool = p;
		p->arg[k].k = k;
	}
	started = lfq_kunit_pool(RM_POOL_THREADS, RM_POOL_PRODUCERS,
				 rm_pool_producer, rm_pool_consumer, p->arg,
				 sizeof(p->arg[0]), p->done,
				 2 * RM_POOL_DEADLINE, &finished);
	KUNIT_ASSERT_EQ(test, started, RM_POOL_THREADS);
	KUNIT_EXPECT_EQ(test, finished, RM_POOL_THREADS);
	for (k = 0; k < RM_POOL_CONSUMERS; k++)
		KUNIT_EXPECT_EQ(test, p->err[k], 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&p->got), (s64)RM_POOL_TOTAL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&p->twice), 0LL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&p->bad), 0LL);
	KUNIT_EXPECT_EQ(test, bitmap_weight(p->seen, RM_POOL_TOTAL),
			(unsigned int)RM_POOL_TOTAL);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(p->q), lfq_shared_head(p->q));
}

static struct kunit_case lfq_rec_mpmc_cases[] = {
	KUNIT_CASE(lfq_rec_mpmc_hold_test),
	KUNIT_CASE(lfq_rec_mpmc_shares_test),
	KUNIT_CASE(lfq_rec_mpmc_dead_test),
	KUNIT_CASE(lfq_rec_mpmc_covered_test),
	KUNIT_CASE(lfq_rec_mpmc_forged_test),
	KUNIT_CASE(lfq_rec_mpmc_torn_test),
	KUNIT_CASE(lfq_rec_mpmc_pool_test),
	{}
};

static struct kunit_suite lfq_rec_mpmc_suite = {
	.name = "lfq_rec_mpmc",
	.test_cases = lfq_rec_mpmc_cases,
};

kunit_test_suite(lfq_rec_mpmc_suite);

MODULE_DESCRIPTION("KUnit: lfq MPMC record queues");
MODULE_LICENSE("GPL");
