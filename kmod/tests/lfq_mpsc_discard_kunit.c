// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_mpsc_discard_kunit.c - KUnit suite lfq_mpsc_discard: reservations
 * given up with lfq_mpsc_discard() (kmod/proto/lfq_mpsc.h), on real MPSC
 * queues. Discarded slots at the front of the ring, in the middle of a
 * run and filling the whole ring: the consumer never hands them out,
 * skips them in one peek, frees them at once and counts them. Then many
 * laps of a small ring, three producers finishing reservations in random
 * order (some discarded) from several start indices up to the discard
 * bit, every peek checked against a model of the slot states. And the
 * orphan a dead producer leaves is discarded even when a live producer's
 * claim last named it (lfq_mpsc_unclaim()).
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/string.h>

#include "core/lfq_claims.h"
#include "lfq_kunit_util.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

static void lfq_mpsc_discard_front_test(struct kunit *test)
{
	const u64 start = (1ULL << 40) - 5;
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, start);
	struct lfq_mpsc_resv a, b;
	const unsigned char *s;
	u32 got;

	/* Discard A (2 slots), commit B (3): B is the first thing seen. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 2, &a));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 3, &b));
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_discard(&mt->p, &a));
	KUNIT_EXPECT_EQ(test, lfq_mt_word(mt, start),
			(start + 1) | LFQ_MPSC_DISCARDED);
	KUNIT_EXPECT_EQ(test, lfq_mt_word(mt, start + 1),
			(start + 2) | LFQ_MPSC_DISCARDED);
	/* Discarded slots are ready (a waiter must wake to skip them)... */
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, start, mt->n), 2U);
	/* ...but never handed out. */
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 2ULL);
	/* Skipped slots are freed at once. */
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), start + 2);

	lfq_mpsc_commit(&mt->p, &b);
	s = lfq_mpsc_peek(&mt->c, mt->n, &got);
	KUNIT_ASSERT_EQ(test, got, 3U);
	KUNIT_EXPECT_PTR_EQ(test, (const void *)s,
			    (const void *)lfq_mt_slot(mt, start + 2));
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, s, start + 2));
	lfq_mpsc_release(&mt->c, got);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), start + 5);

	/* Skips do not count against want: discard 3, commit 1, peek 1. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 3, &a));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &b));
	lfq_mpsc_commit(&mt->p, &b);
	lfq_mpsc_discard(&mt->p, &a);
	s = lfq_mpsc_peek(&mt->c, 1, &got);
	KUNIT_ASSERT_EQ(test, got, 1U);
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, s, b.index));
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 5ULL);
	lfq_mpsc_release(&mt->c, got);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 0U);

	/* All slots are free again. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_reserve(&mt->p, mt->n, &a));
	KUNIT_EXPECT_EQ(test, a.count, mt->n);
}

static void lfq_mpsc_discard_middle_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 1000);
	struct lfq_mpsc_resv a, b, c, d;
	const unsigned char *s;
	u32 got;

	/* A(2) committed, B(1) discarded, C(2) committed, D(1) discarded. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 2, &a));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &b));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 2, &c));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &d));
	lfq_mpsc_discard(&mt->p, &d);
	lfq_mpsc_commit(&mt->p, &c);
	lfq_mpsc_discard(&mt->p, &b);
	lfq_mpsc_commit(&mt->p, &a);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, 1000, mt->n), 6U);

	/* B ends A's span; nothing is skipped yet. */
	s = lfq_mpsc_peek(&mt->c, mt->n, &got);
	KUNIT_ASSERT_EQ(test, got, 2U);
	KUNIT_EXPECT_PTR_EQ(test, (const void *)s,
			    (const void *)lfq_mt_slot(mt, 1000));
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 0ULL);
	/* Part of A only: the rest is seen again, still stopping at B. */
	lfq_mpsc_release(&mt->c, 1);
	s = lfq_mpsc_peek(&mt->c, mt->n, &got);
	KUNIT_ASSERT_EQ(test, got, 1U);
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, s, 1001));
	lfq_mpsc_release(&mt->c, got);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), 1002ULL);

	/* The next peek skips B and gives C. */
	s = lfq_mpsc_peek(&mt->c, mt->n, &got);
	KUNIT_ASSERT_EQ(test, got, 2U);
	KUNIT_EXPECT_PTR_EQ(test, (const void *)s,
			    (const void *)lfq_mt_slot(mt, c.index));
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, s, c.index));
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, s + mt->sz, c.index + 1));
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 1ULL);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), 1003ULL);
	lfq_mpsc_release(&mt->c, got);

	/* Then D is skipped and the ring is empty. */
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 2ULL);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), lfq_shared_head(mt->q));
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), 1006ULL);
}

static void lfq_mpsc_discard_all_test(struct kunit *test)
{
	static const u32 chunks[] = { 5, 7, 1, 19, 32 };
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 77);
	struct lfq_mpsc_resv r[ARRAY_SIZE(chunks)], full;
	unsigned int lap, i;
	u32 got;

	for (lap = 1; lap <= 2; lap++) {
		u64 head = lfq_shared_head(mt->q);

		/* The whole ring, reserved in chunks, discarded backwards. */
		for (i = 0; i < ARRAY_SIZE(chunks); i++) {
			KUNIT_ASSERT_NOT_NULL(test,
					      lfq_mt_reserve(mt, &mt->p,
							     chunks[i], &r[i]));
			KUNIT_ASSERT_EQ(test, r[i].count, chunks[i]);
		}
		KUNIT_ASSERT_NULL(test, lfq_mpsc_reserve(&mt->p, 1, &full));
		KUNIT_ASSERT_EQ(test, full.count, 0U);
		i = ARRAY_SIZE(chunks);
		while (i--)
			lfq_mpsc_discard(&mt->p, &r[i]);
		KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, head, U32_MAX), mt->n);

		/* One peek skips them all: empty, all counted, all free. */
		got = 123;
		KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, 1, &got));
		KUNIT_EXPECT_EQ(test, got, 0U);
		KUNIT_EXPECT_EQ(test, mt->c.discarded, (u64)lap * mt->n);
		KUNIT_EXPECT_EQ(test, mt->c.tail, head + mt->n);
		KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), head + mt->n);
		KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, head + mt->n, mt->n),
				0U);
		KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
		KUNIT_EXPECT_EQ(test, mt->c.discarded, (u64)lap * mt->n);
	}

	/* The drained ring works: a full-ring grant, then one record. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_reserve(&mt->p, mt->n, &r[0]));
	KUNIT_EXPECT_EQ(test, r[0].count, mt->n);
	KUNIT_EXPECT_EQ(test, r[0].index, 77ULL + 2 * mt->n);
	lfq_mpsc_discard(&mt->p, &r[0]);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	KUNIT_EXPECT_EQ(test, lfq_mt_push(mt, 1), 1U);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 1U);
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 3ULL * mt->n);
}

struct lfq_mpsc_start {
	const char *name;
	u64 start;
};

static const struct lfq_mpsc_start lfq_mpsc_starts[] = {
	{ "start-0", 0 },
	{ "start-2^32-5", (1ULL << 32) - 5 },
	{ "start-2^40-5", (1ULL << 40) - 5 },
	/* The highest lap this run can use below the discard bit. */
	{ "start-2^63-2^20", (1ULL << 63) - (1ULL << 20) },
};

static void lfq_mpsc_start_desc(const struct lfq_mpsc_start *s, char *desc)
{
	strscpy(desc, s->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(lfq_mpsc_start, lfq_mpsc_starts, lfq_mpsc_start_desc);

enum { LFQ_MT_FREE, LFQ_MT_HELD, LFQ_MT_COMMITTED, LFQ_MT_DISCARDED };

#define LFQ_MT_VIEWS	3

/*
 * Three producer views and the consumer, many laps of an 8-slot ring, with
 * reservations finished in random order (some discarded) and peeks of
 * random size: every peek is checked against a model of the slot states.
 */
static void lfq_mpsc_laps_test(struct kunit *test)
{
	const struct lfq_mpsc_start *st = test->param_value;
	struct lfq_mt *mt = lfq_mt_open(test, 512, 8, st->start);
	struct lfq_mpsc_prod views[LFQ_MT_VIEWS];
	struct lfq_mpsc_resv held[LFQ_MT_VIEWS];
	u64 head = st->start, out = st->start, discarded = 0, finished = 0;
	u64 rnd = 0x2545f4914f6cdd1dULL;
	const u32 n = mt->n;
	u8 state[8];
	unsigned int round, k;
	u32 i;

	KUNIT_ASSERT_EQ(test, n, (u32)ARRAY_SIZE(state));
	memset(state, LFQ_MT_FREE, sizeof(state));
	for (k = 0; k < LFQ_MT_VIEWS; k++) {
		lfq_mpsc_prod_init(&views[k], &mt->q->ring);
		held[k].count = 0;
	}

	for (round = 0; round < 3000; round++) {
		const unsigned char *s;
		u32 want, expect, got, rel, finish;

		/* Every idle view reserves; the grant is what is free. */
		for (k = 0; k < LFQ_MT_VIEWS; k++) {
			if (held[k].count)
				continue;
			want = 1 + (round + k) % 4;
			expect = min_t(u64, want, n - (head - out));
			if (!lfq_mt_reserve(mt, &views[k], want, &held[k])) {
				KUNIT_ASSERT_EQ(test, expect, 0U);
				KUNIT_ASSERT_EQ(test, held[k].count, 0U);
				continue;
			}
			KUNIT_ASSERT_EQ(test, held[k].count, expect);
			KUNIT_ASSERT_EQ(test, held[k].index, head);
			for (i = 0; i < held[k].count; i++) {
				KUNIT_ASSERT_EQ(test, state[(head + i) % n],
						LFQ_MT_FREE);
				state[(head + i) % n] = LFQ_MT_HELD;
			}
			head += held[k].count;
		}
		KUNIT_ASSERT_EQ(test, lfq_shared_head(mt->q), head);

		/* Finish 0, 1 or 2 reservations, in any order. */
		for (finish = lfq_kunit_rand(&rnd) % 3; finish; finish--) {
			k = lfq_kunit_rand(&rnd) % LFQ_MT_VIEWS;
			if (!held[k].count)
				continue;
			if (++finished % 5 == 0) {
				lfq_mpsc_discard(&views[k], &held[k]);
				for (i = 0; i < held[k].count; i++)
					state[(held[k].index + i) % n] =
						LFQ_MT_DISCARDED;
			} else {
				lfq_mpsc_commit(&views[k], &held[k]);
				for (i = 0; i < held[k].count; i++)
					state[(held[k].index + i) % n] =
						LFQ_MT_COMMITTED;
			}
			held[k].count = 0;
		}

		/* The model's answer: skip discards, count the run. */
		while (out != head && state[out % n] == LFQ_MT_DISCARDED) {
			state[out % n] = LFQ_MT_FREE;
			out++;
			discarded++;
		}
		want = 1 + (round * 7) % (n + 2);
		for (expect = 0; expect < min(want, n) && out + expect != head;
		     expect++)
			if (state[(out + expect) % n] != LFQ_MT_COMMITTED)
				break;

		s = lfq_mpsc_peek(&mt->c, want, &got);
		KUNIT_ASSERT_EQ_MSG(test, got, expect, "round %u", round);
		KUNIT_ASSERT_EQ(test, mt->c.tail, out);
		KUNIT_ASSERT_EQ(test, lfq_shared_tail(mt->q), out);
		KUNIT_ASSERT_EQ(test, mt->c.discarded, discarded);
		KUNIT_ASSERT_TRUE(test, lfq_span_ok(mt->q, s, got));
		if (got)
			KUNIT_ASSERT_PTR_EQ(test, (const void *)s,
					    (const void *)lfq_mt_slot(mt, out));
		for (i = 0; i < got; i++)
			KUNIT_ASSERT_TRUE_MSG(test,
					      lfq_mt_rec_ok(mt,
							    s + (size_t)i * mt->sz,
							    out + i),
					      "round %u index %llu", round,
					      out + i);
		/* Sometimes give one back for the next peek. */
		rel = (got && round % 4 == 0) ? got - 1 : got;
		lfq_mpsc_release(&mt->c, rel);
		for (i = 0; i < rel; i++)
			state[(out + i) % n] = LFQ_MT_FREE;
		out += rel;
		KUNIT_ASSERT_EQ(test, lfq_shared_tail(mt->q), out);
	}

	/* Finish everything: the ring drains to exactly the head. */
	for (k = 0; k < LFQ_MT_VIEWS; k++)
		if (held[k].count)
			lfq_mpsc_commit(&views[k], &held[k]);
	for (round = 0; round < 2 * n; round++) {
		u32 got = lfq_mt_pop(mt, n);

		KUNIT_ASSERT_NE(test, got, U32_MAX);
		if (!got)
			break;
	}
	KUNIT_EXPECT_EQ(test, mt->c.tail, head);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), head);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, head, n), 0U);
	KUNIT_EXPECT_GT(test, head - st->start, 100ULL * n);
	KUNIT_EXPECT_GT(test, discarded, 0ULL);
	KUNIT_EXPECT_LT(test, head, 1ULL << 63);
}

/*
 * A live producer whose compare-and-swap lost to one that then died, and
 * whose next try found the ring full: its failed reservation empties its
 * claim, or the claim would cover the dead producer's slot and the orphan
 * scan would wait for the live one, which waits for the space the scan
 * frees. Fails without lfq_mpsc_unclaim().
 */
static void lfq_mpsc_unclaim_test(struct kunit *test)
{
	struct lfq_queue *q = lfq_kunit_queue(test, LFQ_TYPE_MPSC, 64, 64);
	DECLARE_BITMAP(dead, LFQ_MPSC_CLAIMS);
	DECLARE_BITMAP(live, LFQ_MPSC_CLAIMS);
	struct lfq_mpsc_prod *pd = kunit_kzalloc(test, sizeof(*pd), GFP_KERNEL);
	struct lfq_mpsc_prod *pl = kunit_kzalloc(test, sizeof(*pl), GFP_KERNEL);
	struct lfq_stats *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	struct lfq_mpsc_resv d, k, l;
	struct lfq_mpsc_claim *lc;
	u64 start, end;
	int cd, cl, i;

	KUNIT_ASSERT_TRUE(test, pd && pl && st);
	bitmap_zero(dead, LFQ_MPSC_CLAIMS);
	bitmap_zero(live, LFQ_MPSC_CLAIMS);
	cd = lfq_claim_register(q, dead);
	cl = lfq_claim_register(q, live);
	KUNIT_ASSERT_GE(test, cd, 0);
	KUNIT_ASSERT_GE(test, cl, 0);
	lfq_mpsc_prod_init(pd, &q->ring);
	lfq_mpsc_prod_set_claim(pd, &q->ring.prod->claims[cd]);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_reserve(pd, 1, &d));
	KUNIT_ASSERT_NOT_NULL(test, lfq_queue_reserve(q, 63, &k));
	KUNIT_ASSERT_EQ(test, k.count, 63);
	lfq_queue_commit(q, &k);
	/* The live claim as its lost compare-and-swap left it. */
	lc = &q->ring.prod->claims[cl];
	WRITE_ONCE(lc->start, d.index);
	WRITE_ONCE(lc->end, d.index + 2);
	lfq_mpsc_prod_init(pl, &q->ring);
	lfq_mpsc_prod_set_claim(pl, lc);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_reserve(pl, 1, &l));
	start = READ_ONCE(lc->start);
	end = READ_ONCE(lc->end);
	KUNIT_EXPECT_EQ(test, end, start);
	lfq_claims_drop(q, dead);
	for (i = 0; i < 4; i++) {
		lfq_claims_flush(q);
		msleep(150);	/* past the scan's longest retry delay */
	}
	lfq_claims_flush(q);
	lfq_queue_stats(q, st);
	KUNIT_EXPECT_EQ(test, st->orphaned, 1);
}

static struct kunit_case lfq_mpsc_discard_cases[] = {
	KUNIT_CASE(lfq_mpsc_discard_front_test),
	KUNIT_CASE(lfq_mpsc_discard_middle_test),
	KUNIT_CASE(lfq_mpsc_discard_all_test),
	KUNIT_CASE_PARAM(lfq_mpsc_laps_test, lfq_mpsc_start_gen_params),
	KUNIT_CASE(lfq_mpsc_unclaim_test),
	{}
};

static struct kunit_suite lfq_mpsc_discard_suite = {
	.name = "lfq_mpsc_discard",
	.test_cases = lfq_mpsc_discard_cases,
};

kunit_test_suite(lfq_mpsc_discard_suite);

MODULE_DESCRIPTION("KUnit tests for discards in lfq's MPSC ring protocol");
MODULE_LICENSE("GPL");
