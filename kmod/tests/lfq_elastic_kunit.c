// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_elastic_kunit.c - KUnit suite lfq_elastic: the segments of elastic
 * MPSC queues (kmod/core/lfq_seg.c) as the in-kernel producer API and the
 * in-kernel consumer (kmod/core/lfq_kapi.c, lfq_kconsumer.c) use them, in
 * process context. Creation's geometry checks and the queue at rest;
 * seg_max bounding growth, with every failed reservation counted as a
 * drop; MPSC reservations committed out of order across a segment
 * boundary; discards at a segment's end and a whole discarded segment,
 * skipped by the consumer into the next; a consumer tail word that lies
 * about an unpublished segment (it is not retired); the return to
 * seg_min after the idle period; and a waiter's count that runs through
 * a sealed segment's end into the next one. Producers in hardirq and NMI context,
 * RCU readers and concurrent producers are lfq_elastic_ctx_kunit.c's.
 */
#include <kunit/test.h>
#include <linux/bitops.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/rcupdate.h>

#include "core/lfq_kapi.h"
#include "core/lfq_seg.h"
#include "lfq_kunit_util.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define EL_SZ		16	/* slot size */
#define EL_N		256	/* slots per segment: one page of slots */

/* Bytes of the queue's own pages and of one segment. */
static u64 el_fixed_bytes(const struct lfq_queue *q)
{
	return (u64)q->nr_pages << PAGE_SHIFT;
}

static u64 el_seg_bytes(const struct lfq_queue *q)
{
	return q->layout.commit_size + q->layout.data_size;
}

/* A reservation that stays open: its records are written, not published. */
static u8 *el_reserve(struct lfq_queue *q, u32 want, struct lfq_mpsc_resv *r)
{
	u32 sz = q->hdr.slot_size, i;
	u8 *s = lfq_queue_reserve(q, want, r);

	for (i = 0; s && i < r->count; i++)
		lfq_rec_fill(s + (size_t)i * sz, sz, r->index + i);
	return s;
}

/* Creation: the geometry's rules, and a new queue at rest. */
static void lfq_elastic_geometry_test(struct kunit *test)
{
	const u32 E = LFQ_CREATE_ELASTIC, M = LFQ_TYPE_MPSC;
	struct lfq_elastic *el;
	struct lfq_queue *q;
	struct lfq_stats st;
	u32 f;

	KUNIT_EXPECT_EQ(test, lfq_el_create(M, EL_SZ, EL_N, E, 0, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, EL_SZ, EL_N, E, 5, 4), -EINVAL);
	/* One segment: sealed when full, it could never be followed. */
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, EL_SZ, EL_N, E, 1, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, EL_SZ, EL_N, E, 1,
					    LFQ_SEGS_MAX + 1), -EINVAL);
	/* seg_max segments of 4 MiB of slots: 1 GiB is the most. */
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, 4096, 1024, E, 1, 257), -EINVAL);
	/* Segment counts without the flag, a segment not in whole pages. */
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, EL_SZ, EL_N, 0, 1, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, EL_SZ, EL_N / 2, E, 1, 4),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, 4096, 1024, E, 1, 256), 0);
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, EL_SZ, EL_N, E, 1, LFQ_SEGS_MAX),
			0);
	KUNIT_EXPECT_EQ(test, lfq_el_create(LFQ_TYPE_SPSC, EL_SZ, EL_N, E, 2, 2),
			0);

	q = lfq_kunit_elastic(test, M, EL_SZ, EL_N, 3, 8);
	el = q->el;
	lfq_el_stats(q, &st);
	/* One live segment in frame 0 at index 0, seg_min - 1 spares. */
	KUNIT_EXPECT_EQ(test, st.segments, 1ULL);
	KUNIT_EXPECT_EQ(test, st.segments_peak, 1ULL);
	KUNIT_EXPECT_EQ(test, st.pool, 2ULL);
	KUNIT_EXPECT_EQ(test, st.grows, 0ULL);
	KUNIT_EXPECT_EQ(test, st.shrinks, 0ULL);
	KUNIT_EXPECT_EQ(test, st.bytes, el_fixed_bytes(q) + 3 * el_seg_bytes(q));
	KUNIT_EXPECT_EQ(test, lfq_el_pseg(el)->frame, 0U);
	KUNIT_EXPECT_EQ(test, READ_ONCE(el->segtab->pseg), 0U);
	KUNIT_EXPECT_EQ(test, READ_ONCE(el->segtab->cseg), 0U);
	KUNIT_EXPECT_EQ(test, lfq_el_state(el, 0), (u32)LFQ_SEG_LIVE);
	KUNIT_EXPECT_EQ(test, READ_ONCE(el->meta[0].base), 0ULL);
	/* Spares are sealed and free in the table: nobody can use them. */
	for (f = 1; f < 3; f++) {
		KUNIT_EXPECT_TRUE(test, test_bit(f, el->pool));
		KUNIT_EXPECT_EQ(test, lfq_el_state(el, f), (u32)LFQ_SEG_FREE);
		KUNIT_EXPECT_EQ(test, READ_ONCE(el->heads[f].v), LFQ_SEG_SEALED);
	}
	for (; f < 8; f++)
		KUNIT_EXPECT_NULL(test, rcu_access_pointer(el->frames[f]));
}

/*
 * seg_max bounds growth: kernel producers fill seg_max segments (taking
 * spares as the work refills the pool) and then every reservation fails;
 * stats.dropped counts each failed reservation exactly once. A drained
 * segment, once retired and pooled, is the one more the queue may link.
 */
static void lfq_elastic_seg_max_test(struct kunit *test)
{
	struct lfq_queue *q = lfq_kunit_elastic(test, LFQ_TYPE_MPSC, EL_SZ,
						EL_N, 2, 4);
	struct lfq_elastic *el = q->el;
	u64 pushed = 0, next = 0, drops = 0, nospare = 0;
	unsigned long deadline = jiffies + 30 * HZ;
	struct lfq_consumer c;
	struct lfq_stats st;
	u32 n, want, f0, i;

	f0 = lfq_el_pseg(el)->frame;
	while (pushed < 4 * EL_N && time_before(jiffies, deadline)) {
		want = 1 + pushed % 13;
		n = lfq_el_push(q, want);
		if (n) {
			/* A reservation is cut at its segment's end only. */
			KUNIT_EXPECT_TRUE(test, n == want ||
					  (pushed + n) % EL_N == 0);
			pushed += n;
			continue;
		}
		/* Below seg_max only a missing spare drops: let it refill. */
		drops++;
		nospare++;
		KUNIT_EXPECT_LT(test, lfq_el_stats(q, &st)->segments, 4ULL);
		usleep_range(1000, 2000);
	}
	KUNIT_ASSERT_EQ(test, pushed, 4ULL * EL_N);
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.segments, 4ULL);
	KUNIT_EXPECT_EQ(test, st.segments_peak, 4ULL);
	KUNIT_EXPECT_EQ(test, st.grows, 3ULL);
	KUNIT_EXPECT_EQ(test, st.dropped, drops);

	/* At seg_max: every reservation drops, whatever it asks for. */
	for (want = 1; want <= 40; want++) {
		KUNIT_EXPECT_EQ(test, lfq_el_push(q, want), 0U);
		drops++;
	}
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.dropped, drops);
	KUNIT_EXPECT_EQ(test, st.segments, 4ULL);
	KUNIT_EXPECT_EQ(test, st.grows, 3ULL);
	KUNIT_EXPECT_EQ(test, st.pool, 0ULL);
	KUNIT_EXPECT_EQ(test, st.produced, 4ULL * EL_N);
	/*
	 * A producers' hint that lost its swing to a later link (preempted
	 * between link and swing) stays on the oldest segment: the links
	 * after it still count, and the drain below retires that segment
	 * all the same, moving the hint on first.
	 */
	rcu_assign_pointer(el->pseg,
			   rcu_dereference_protected(el->frames[f0], true));
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->produced, 4ULL * EL_N);
	/* Never more memory than seg_max segments. */
	KUNIT_EXPECT_EQ(test, st.bytes, el_fixed_bytes(q) + 4 * el_seg_bytes(q));
	kunit_info(test, "%llu drops without a spare, %llu at seg_max",
		   nospare, drops - nospare);

	/* Drain the oldest segment: it retires and pools a grace period on. */
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	for (i = 0; i < EL_N; i += n) {
		n = lfq_el_pop(&c, EL_N - i, next);
		KUNIT_ASSERT_TRUE(test, n && n != U32_MAX);
		next += n;
	}
	KUNIT_EXPECT_EQ(test, lfq_el_pop(&c, 1, next), 1U);
	next++;
	KUNIT_EXPECT_TRUE(test,
			  lfq_el_poll(lfq_el_state(el, f0) == LFQ_SEG_FREE,
				      5000));
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.shrinks, 1ULL);
	KUNIT_EXPECT_EQ(test, st.segments, 3ULL);
	KUNIT_EXPECT_NE(test, lfq_el_pseg(el)->frame, f0);

	/*
	 * One segment more, in that frame (pooled, or freed by the idle
	 * work and allocated there again: the lowest free frame); then
	 * drops again, counted.
	 */
	deadline = jiffies + 30 * HZ;
	for (i = 0; i < EL_N && time_before(jiffies, deadline); i += n) {
		n = lfq_el_push(q, EL_N - i);
		if (!n) {
			drops++;
			usleep_range(1000, 2000);
		}
	}
	KUNIT_ASSERT_EQ(test, i, (u32)EL_N);
	KUNIT_EXPECT_EQ(test, lfq_el_pseg(el)->frame, f0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(el->meta[f0].base), 4ULL * EL_N);
	KUNIT_EXPECT_EQ(test, lfq_el_push(q, 1), 0U);
	drops++;
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.dropped, drops);
	KUNIT_EXPECT_EQ(test, st.grows, 4ULL);
	KUNIT_EXPECT_EQ(test, st.segments, 4ULL);
	KUNIT_EXPECT_EQ(test, st.segments_peak, 4ULL);

	/* Everything that was not dropped comes out once, in order. */
	KUNIT_EXPECT_TRUE(test, lfq_el_drain(&c, &next));
	KUNIT_EXPECT_EQ(test, next, 5ULL * EL_N);
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->consumed, 5ULL * EL_N);
	lfq_consumer_fini(&c);
}

/*
 * Reservations across a segment boundary, committed newest first: the
 * consumer waits at the oldest unpublished slot, does not skip ahead into
 * the next segment, and then reads both segments in order.
 */
static void lfq_elastic_out_of_order_test(struct kunit *test)
{
	struct lfq_queue *q = lfq_kunit_elastic(test, LFQ_TYPE_MPSC, EL_SZ,
						EL_N, 2, 4);
	struct lfq_mpsc_resv a, b, c, d;
	struct lfq_seg *s0, *kseg;
	const void *early[2];
	struct lfq_consumer k;
	struct lfq_stats st;
	u32 got[2], n;
	u64 next = 0;

	s0 = lfq_el_pseg(q->el);
	/*
	 * Process context only: before the reservations, which disable
	 * preemption until they are published.
	 */
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&k, q), 0);
	KUNIT_ASSERT_NOT_NULL(test, el_reserve(q, 200, &a));
	if (!el_reserve(q, 100, &b)) {
		lfq_queue_commit(q, &a);
		KUNIT_ASSERT_FAILURE(test, "no reservation at the end");
	}
	if (!el_reserve(q, 10, &c)) {
		lfq_queue_commit(q, &a);
		lfq_queue_commit(q, &b);
		KUNIT_ASSERT_FAILURE(test, "no reservation after the seal");
	}
	if (!el_reserve(q, 5, &d)) {
		lfq_queue_commit(q, &a);
		lfq_queue_commit(q, &b);
		lfq_queue_commit(q, &c);
		KUNIT_ASSERT_FAILURE(test, "no reservation after the link");
	}
	/* Newest first: nothing is readable until the oldest is. */
	lfq_queue_commit(q, &d);
	lfq_queue_commit(q, &c);
	early[0] = lfq_consumer_peek(&k, EL_N, &got[0]);
	lfq_queue_commit(q, &b);
	early[1] = lfq_consumer_peek(&k, EL_N, &got[1]);
	kseg = k.seg;
	lfq_queue_commit(q, &a);

	KUNIT_EXPECT_EQ(test, a.index, 0ULL);
	KUNIT_EXPECT_EQ(test, a.count, 200U);
	KUNIT_EXPECT_EQ(test, b.index, 200ULL);
	KUNIT_EXPECT_EQ(test, b.count, 56U);	/* cut at the segment's end */
	KUNIT_EXPECT_EQ(test, c.index, 256ULL);
	KUNIT_EXPECT_EQ(test, c.count, 10U);
	KUNIT_EXPECT_EQ(test, d.index, 266ULL);
	KUNIT_EXPECT_EQ(test, d.count, 5U);
	KUNIT_EXPECT_PTR_EQ(test, a.seg, (void *)s0);
	KUNIT_EXPECT_PTR_EQ(test, b.seg, (void *)s0);
	KUNIT_EXPECT_PTR_NE(test, c.seg, (void *)s0);
	KUNIT_EXPECT_PTR_EQ(test, d.seg, c.seg);
	KUNIT_EXPECT_NULL(test, early[0]);
	KUNIT_EXPECT_NULL(test, early[1]);
	KUNIT_EXPECT_EQ(test, got[0] + got[1], 0U);
	KUNIT_EXPECT_PTR_EQ(test, kseg, s0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*s0->ring.head),
			LFQ_SEG_SEALED | EL_N);
	KUNIT_EXPECT_EQ(test, READ_ONCE(q->el->meta[((struct lfq_seg *)c.seg)
						     ->frame].base), 256ULL);

	/* The whole first segment, then the second one's 15. */
	n = lfq_el_pop(&k, EL_N, next);
	KUNIT_EXPECT_EQ(test, n, (u32)EL_N);
	next += EL_N;
	n = lfq_el_pop(&k, EL_N, next);
	KUNIT_EXPECT_EQ(test, n, 15U);
	KUNIT_EXPECT_PTR_EQ(test, (void *)k.seg, c.seg);
	KUNIT_EXPECT_EQ(test, lfq_el_pop(&k, EL_N, next + 15), 0U);
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->consumed, 271ULL);
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->dropped, 0ULL);
	lfq_consumer_fini(&k);
}

/*
 * Discards at a segment's end and a whole segment of discards: the
 * consumer skips them, moving from segment to segment, to the next
 * committed record; the segments it passed retire.
 */
static void lfq_elastic_discard_test(struct kunit *test)
{
	struct lfq_queue *q = lfq_kunit_elastic(test, LFQ_TYPE_MPSC, EL_SZ,
						EL_N, 3, 4);
	struct lfq_elastic *el = q->el;
	struct lfq_mpsc_resv r[3];
	struct lfq_seg *seg[3];
	struct lfq_consumer k;
	struct lfq_stats st;
	u32 n, i;

	seg[0] = lfq_el_pseg(el);
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&k, q), 0);
	KUNIT_ASSERT_EQ(test, lfq_el_push(q, 250), 250U);
	/* The last 6 slots of segment 0: cut short, then discarded. */
	KUNIT_ASSERT_NOT_NULL(test, el_reserve(q, 10, &r[0]));
	lfq_queue_discard(q, &r[0]);
	/* Segment 1, all of it, discarded. */
	KUNIT_ASSERT_NOT_NULL(test, el_reserve(q, EL_N, &r[1]));
	lfq_queue_discard(q, &r[1]);
	/* Segment 2: 4 discarded slots, then 5 records. */
	KUNIT_ASSERT_NOT_NULL(test, el_reserve(q, 4, &r[2]));
	lfq_queue_discard(q, &r[2]);
	KUNIT_ASSERT_EQ(test, lfq_el_push(q, 5), 5U);
	seg[1] = r[1].seg;
	seg[2] = r[2].seg;

	KUNIT_EXPECT_EQ(test, r[0].index, 250ULL);
	KUNIT_EXPECT_EQ(test, r[0].count, 6U);
	KUNIT_EXPECT_PTR_EQ(test, r[0].seg, (void *)seg[0]);
	KUNIT_EXPECT_EQ(test, r[1].index, 256ULL);
	KUNIT_EXPECT_EQ(test, r[1].count, (u32)EL_N);
	KUNIT_EXPECT_EQ(test, r[2].index, 512ULL);
	KUNIT_EXPECT_EQ(test, r[2].count, 4U);
	KUNIT_EXPECT_TRUE(test, seg[0] != seg[1] && seg[1] != seg[2] &&
			  seg[0] != seg[2]);
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->grows, 2ULL);

	n = lfq_el_pop(&k, EL_N, 0);
	KUNIT_EXPECT_EQ(test, n, 250U);
	/* One peek: 6 skipped, a whole segment, 4 more, then 5 records. */
	n = lfq_el_pop(&k, EL_N, 516);
	KUNIT_EXPECT_EQ(test, n, 5U);
	KUNIT_EXPECT_PTR_EQ(test, k.seg, seg[2]);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*seg[0]->ring.tail), 256ULL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*seg[1]->ring.tail), 512ULL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*seg[2]->ring.tail), 521ULL);
	KUNIT_EXPECT_EQ(test, lfq_el_pop(&k, EL_N, 521), 0U);
	lfq_consumer_fini(&k);

	/* The two segments passed retire (the work may have done it). */
	lfq_seg_reclaim_sync(el);
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.shrinks, 2ULL);
	KUNIT_EXPECT_EQ(test, st.segments, 1ULL);
	KUNIT_EXPECT_EQ(test, st.consumed, 521ULL);
	KUNIT_EXPECT_EQ(test, st.produced, 521ULL);
	KUNIT_EXPECT_EQ(test, st.dropped, 0ULL);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_NE(test, lfq_el_state(el, seg[i]->frame),
				(u32)LFQ_SEG_LIVE);
	KUNIT_EXPECT_EQ(test, lfq_el_state(el, seg[2]->frame), (u32)LFQ_SEG_LIVE);
}

/*
 * HOSTILE MEMORY H1 at retirement: a consumer tail word standing at the
 * end of a sealed segment in which a process still writes a reservation
 * does not retire it; once it is published and read, it does.
 */
static void lfq_elastic_hostile_tail_test(struct kunit *test)
{
	struct lfq_queue *q = lfq_kunit_elastic(test, LFQ_TYPE_MPSC, EL_SZ,
						EL_N, 2, 4);
	static const u64 lies[] = { EL_N, EL_N + 1, 1ULL << 40, ~0ULL };
	struct lfq_elastic *el = q->el;
	struct lfq_mpsc_prod p;
	struct lfq_mpsc_resv r;
	struct lfq_consumer k;
	struct lfq_stats st;
	struct lfq_seg *s0;
	u64 next = 0;
	u32 i;
	u8 *w;

	/* A process's producer in segment 0 (no claim: none is needed). */
	s0 = lfq_el_pseg(el);
	lfq_mpsc_prod_init(&p, &s0->ring);
	w = lfq_mpsc_reserve(&p, EL_N, &r);
	KUNIT_ASSERT_NOT_NULL(test, w);
	KUNIT_ASSERT_EQ(test, r.count, (u32)EL_N);
	for (i = 0; i < EL_N; i++)
		lfq_rec_fill(w + i * EL_SZ, EL_SZ, i);
	/* The kernel seals the full segment and links the next one. */
	KUNIT_ASSERT_EQ(test, lfq_el_push(q, 1), 1U);
	KUNIT_ASSERT_EQ(test, lfq_el_stats(q, &st)->grows, 1ULL);

	for (i = 0; i < ARRAY_SIZE(lies); i++) {
		WRITE_ONCE(*s0->ring.tail, lies[i]);
		lfq_seg_reclaim_sync(el);
		KUNIT_EXPECT_EQ(test, lfq_el_state(el, s0->frame),
				(u32)LFQ_SEG_LIVE);
		KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->shrinks, 0ULL);
	}
	/* The consumer comes back to the truth; the producer publishes. */
	WRITE_ONCE(*s0->ring.tail, 0);
	lfq_mpsc_commit(&p, &r);
	lfq_seg_reclaim_sync(el);
	KUNIT_EXPECT_EQ(test, lfq_el_state(el, s0->frame), (u32)LFQ_SEG_LIVE);

	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&k, q), 0);
	KUNIT_EXPECT_TRUE(test, lfq_el_drain(&k, &next));
	KUNIT_EXPECT_EQ(test, next, (u64)EL_N + 1);
	lfq_consumer_fini(&k);
	lfq_seg_reclaim_sync(el);
	KUNIT_EXPECT_NE(test, lfq_el_state(el, s0->frame), (u32)LFQ_SEG_LIVE);
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->shrinks, 1ULL);
}

/*
 * After a burst and a drain the queue keeps its spares for the idle
 * period (the hysteresis), then holds seg_min segments' bytes again; a
 * second burst grows it again, and it shrinks again.
 */
static void lfq_elastic_idle_shrink_test(struct kunit *test)
{
	struct lfq_queue *q = lfq_kunit_elastic(test, LFQ_TYPE_MPSC, EL_SZ,
						EL_N, 2, 16);
	unsigned int idle_ms = lfq_kunit_seg_idle_ms(test);
	unsigned long last_grow, deadline;
	struct lfq_elastic *el = q->el;
	u64 rest, pushed = 0, next = 0;
	struct lfq_consumer k;
	struct lfq_stats st;
	int round;
	u32 n;

	lfq_el_stats(q, &st);
	rest = st.bytes;
	KUNIT_EXPECT_EQ(test, rest, el_fixed_bytes(q) + 2 * el_seg_bytes(q));
	for (round = 0; round < 2; round++) {
		/* A burst of 10 segments, waiting for spares when it must. */
		deadline = jiffies + 30 * HZ;
		while (pushed < (round + 1) * 10ULL * EL_N &&
		       time_before(jiffies, deadline)) {
			n = lfq_el_push(q, 32);
			if (!n)
				usleep_range(1000, 2000);
			pushed += n;
		}
		KUNIT_ASSERT_EQ(test, pushed, (round + 1) * 10ULL * EL_N);
		lfq_el_stats(q, &st);
		KUNIT_EXPECT_GE(test, st.segments, 10ULL);
		KUNIT_EXPECT_GE(test, st.segments_peak, 10ULL);
		KUNIT_EXPECT_GT(test, st.bytes, rest);

		/* The drain: every segment but the producers' retires. */
		KUNIT_ASSERT_EQ(test, lfq_consumer_init(&k, q), 0);
		KUNIT_EXPECT_TRUE(test, lfq_el_drain(&k, &next));
		KUNIT_EXPECT_EQ(test, next, pushed);
		lfq_consumer_fini(&k);
		lfq_seg_reclaim_sync(el);
		last_grow = READ_ONCE(el->last_grow);
		lfq_el_stats(q, &st);
		KUNIT_EXPECT_EQ(test, st.segments, 1ULL);
		/* Well inside the idle period: the spares are still there. */
		if (time_before(jiffies,
				last_grow + msecs_to_jiffies(idle_ms / 2)))
			KUNIT_EXPECT_GT(test, st.bytes, rest);

		KUNIT_EXPECT_TRUE(test,
				  lfq_el_poll(lfq_el_stats(q, &st)->bytes ==
					      rest, 3 * idle_ms + 5000));
		/* Not before the idle period (jiffies: a tick's slack). */
		KUNIT_EXPECT_TRUE(test,
				  time_after_eq(jiffies + 1, last_grow +
						msecs_to_jiffies(idle_ms)));
		lfq_el_stats(q, &st);
		KUNIT_EXPECT_EQ(test, st.segments, 1ULL);
		KUNIT_EXPECT_EQ(test, st.pool, 1ULL);
		KUNIT_EXPECT_EQ(test, st.bytes, rest);
		KUNIT_EXPECT_EQ(test, st.grows - st.shrinks, 0ULL);
		kunit_info(test, "round %d: %llu grows, peak %llu segments",
			   round, st.grows, st.segments_peak);
	}
}

/*
 * A link wakes producers asleep for space: one that counted none (every
 * segment live, the newest sealed) just before another producer linked a
 * segment would otherwise sleep until the consumer's next release. The
 * link queues the queue's space_work when need_space is armed, and its
 * wakeup clears the flag.
 */
static void lfq_elastic_link_wakes_test(struct kunit *test)
{
	struct lfq_queue *q = lfq_kunit_elastic(test, LFQ_TYPE_MPSC, EL_SZ,
						EL_N, 1, 4);
	unsigned long deadline = jiffies + 30 * HZ;
	u64 pushed = 0;
	u32 n;

	while (pushed < EL_N && time_before(jiffies, deadline))
		pushed += lfq_el_push(q, EL_N - (u32)pushed);
	KUNIT_ASSERT_EQ(test, pushed, (u64)EL_N);
	/* No sleeper: the link leaves the flag alone. */
	WRITE_ONCE(q->ring.prod->need_space, 0);
	while (!(n = lfq_el_push(q, 1)) && time_before(jiffies, deadline))
		usleep_range(1000, 2000);	/* the pool refills */
	KUNIT_ASSERT_EQ(test, n, 1U);
	irq_work_sync(&q->space_work);
	KUNIT_EXPECT_EQ(test, READ_ONCE(q->ring.prod->need_space), 0U);
	/* Fill that segment; armed, the next link wakes and clears it. */
	pushed = 0;
	while (pushed < EL_N - 1 && time_before(jiffies, deadline))
		pushed += lfq_el_push(q, EL_N - 1 - (u32)pushed);
	KUNIT_ASSERT_EQ(test, pushed, (u64)EL_N - 1);
	WRITE_ONCE(q->ring.prod->need_space, 1);
	while (!(n = lfq_el_push(q, 1)) && time_before(jiffies, deadline))
		usleep_range(1000, 2000);
	KUNIT_ASSERT_EQ(test, n, 1U);
	irq_work_sync(&q->space_work);
	KUNIT_EXPECT_EQ(test, READ_ONCE(q->ring.prod->need_space), 0U);
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &(struct lfq_stats){})->grows,
			2ULL);
}

/*
 * A waiter for more slots than are left in the consumer's sealed segment:
 * ready when the segment after it holds the rest (a count of its own
 * segment only would sleep with the queue holding them).
 */
static void lfq_elastic_ready_through_test(struct kunit *test)
{
	struct lfq_queue *q = lfq_kunit_elastic(test, LFQ_TYPE_MPSC, EL_SZ,
						EL_N, 2, 4);
	struct lfq_mpsc_resv a, b;
	struct lfq_consumer k;
	u32 avail = 0, n;
	bool three, twelve, thirteen;

	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&k, q), 0);
	KUNIT_ASSERT_NOT_NULL(test, el_reserve(q, EL_N, &a));
	lfq_queue_commit(q, &a);
	/* The first segment is full: sealed, 10 in the next one. */
	KUNIT_ASSERT_NOT_NULL(test, el_reserve(q, 10, &b));
	lfq_queue_commit(q, &b);
	KUNIT_ASSERT_PTR_NE(test, b.seg, a.seg);
	n = lfq_el_pop(&k, EL_N - 2, 0);
	KUNIT_ASSERT_EQ(test, n, (u32)EL_N - 2);
	three = lfq_queue_ready(q, LFQ_WAIT_DATA, 3, false, &avail);
	KUNIT_EXPECT_TRUE(test, three);
	KUNIT_EXPECT_EQ(test, avail, 3U);
	twelve = lfq_queue_ready(q, LFQ_WAIT_DATA, 12, false, &avail);
	KUNIT_EXPECT_TRUE(test, twelve);
	KUNIT_EXPECT_EQ(test, avail, 12U);
	thirteen = lfq_queue_ready(q, LFQ_WAIT_DATA, 13, false, &avail);
	KUNIT_EXPECT_FALSE(test, thirteen);
	KUNIT_EXPECT_EQ(test, avail, 12U);
	/* What the counts said: two, then ten in the next segment. */
	KUNIT_EXPECT_EQ(test, lfq_el_pop(&k, EL_N, EL_N - 2), 2U);
	KUNIT_EXPECT_EQ(test, lfq_el_pop(&k, EL_N, EL_N), 10U);
	lfq_consumer_fini(&k);
}

static struct kunit_case lfq_elastic_cases[] = {
	KUNIT_CASE(lfq_elastic_geometry_test),
	KUNIT_CASE(lfq_elastic_seg_max_test),
	KUNIT_CASE(lfq_elastic_out_of_order_test),
	KUNIT_CASE(lfq_elastic_discard_test),
	KUNIT_CASE(lfq_elastic_hostile_tail_test),
	KUNIT_CASE(lfq_elastic_idle_shrink_test),
	KUNIT_CASE(lfq_elastic_link_wakes_test),
	KUNIT_CASE(lfq_elastic_ready_through_test),
	{}
};

static struct kunit_suite lfq_elastic_suite = {
	.name = "lfq_elastic",
	.test_cases = lfq_elastic_cases,
};

kunit_test_suite(lfq_elastic_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's elastic queues");
MODULE_LICENSE("GPL");
