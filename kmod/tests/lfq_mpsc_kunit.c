// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_mpsc_kunit.c - KUnit suite lfq_mpsc: the multi-producer ring
 * protocol of kmod/proto/lfq_mpsc.h, with honest producers and consumer,
 * on real MPSC queues made by lfq_queue_create() (lfq_mt_open()), several
 * producer views on one ring. Empty and full rings, commits out of
 * reservation order, spans across the end of the ring through the double
 * mapping, releases clamped to the last peek, the ready count
 * (lfq_mpsc_ready()) and the need_data / need_space flags of the wakeup
 * handshake.
 *
 * The other MPSC suites: discards (lfq_mpsc_discard_kunit.c), hostile
 * shared words (lfq_mpsc_hostile_kunit.c), a producer interrupted inside
 * its reservation (lfq_mpsc_preempt_kunit.c), producer kthreads
 * (lfq_mpsc_race_kunit.c).
 */
#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/string.h>

#include "lfq_kunit_util.h"

static void lfq_mpsc_empty_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 0);
	struct lfq_mpsc_resv r;
	u32 got = 123;

	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, 1, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	got = 123;
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	got = 123;
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, U32_MAX, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, 0, mt->n), 0U);
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 0ULL);

	/* Releasing after an empty peek moves nothing. */
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_release(&mt->c, 5));
	KUNIT_EXPECT_EQ(test, mt->c.tail, 0ULL);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), 0ULL);

	/* Reserved, written but uncommitted slots are invisible. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 4, &r));
	KUNIT_ASSERT_EQ(test, r.count, 4U);
	KUNIT_EXPECT_EQ(test, r.index, 0ULL);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(mt->q), 4ULL);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, 4, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, 0, mt->n), 0U);

	/* The commit makes all four visible, then the ring is empty again. */
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_commit(&mt->p, &r));
	KUNIT_EXPECT_EQ(test, lfq_mt_word(mt, 3), 4ULL);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 4U);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 0U);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), 4ULL);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, 4, mt->n), 0U);
}

static void lfq_mpsc_fill_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 0);
	struct lfq_mpsc_prod p2;
	struct lfq_mpsc_resv r;
	const unsigned char *s;
	u32 total = 0, want = 1, got, i;
	void *w;

	/* All N slots are usable, reserved in mixed batches by two views. */
	lfq_mpsc_prod_init(&p2, &mt->q->ring);
	while (total < mt->n) {
		struct lfq_mpsc_prod *v = (total & 1) ? &p2 : &mt->p;

		w = lfq_mt_reserve(mt, v, want, &r);
		KUNIT_ASSERT_NOT_NULL_MSG(test, w, "at %u", total);
		KUNIT_ASSERT_EQ(test, r.count, min(want, mt->n - total));
		KUNIT_ASSERT_EQ(test, r.index, (u64)total);
		lfq_mpsc_commit(v, &r);
		total += r.count;
		want = want % 7 + 1;
	}
	KUNIT_EXPECT_EQ(test, lfq_shared_head(mt->q), (u64)mt->n);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, 0, U32_MAX), mt->n);

	/* Then the ring is full, for any request, through either view. */
	r.count = 99;
	KUNIT_EXPECT_NULL(test, lfq_mpsc_reserve(&mt->p, 1, &r));
	KUNIT_EXPECT_EQ(test, r.count, 0U);
	r.count = 99;
	KUNIT_EXPECT_NULL(test, lfq_mpsc_reserve(&p2, mt->n, &r));
	KUNIT_EXPECT_EQ(test, r.count, 0U);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(mt->q), (u64)mt->n);

	/* One release frees exactly one slot: the old slot 0. */
	KUNIT_ASSERT_EQ(test, lfq_mt_pop(mt, 1), 1U);
	w = lfq_mt_reserve(mt, &p2, mt->n, &r);
	KUNIT_ASSERT_EQ(test, r.count, 1U);
	KUNIT_EXPECT_PTR_EQ(test, w, (void *)mt->data);
	KUNIT_EXPECT_EQ(test, r.index, (u64)mt->n);
	lfq_mpsc_commit(&p2, &r);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_reserve(&mt->p, 1, &r));

	/* The consumer takes all N at once, the last through the 2nd copy. */
	s = lfq_mpsc_peek(&mt->c, U32_MAX, &got);
	KUNIT_ASSERT_EQ(test, got, mt->n);
	KUNIT_ASSERT_PTR_EQ(test, (const void *)s,
			    (const void *)lfq_mt_slot(mt, 1));
	for (i = 0; i < got; i++)
		KUNIT_ASSERT_TRUE_MSG(test,
				      lfq_mt_rec_ok(mt, s + (size_t)i * mt->sz,
						    1 + i), "record %u", i);
	lfq_mpsc_release(&mt->c, got);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, 1), 0U);

	/* An empty ring grants at most N. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_reserve(&mt->p, 2 * mt->n, &r));
	KUNIT_EXPECT_EQ(test, r.count, mt->n);
}

static void lfq_mpsc_commit_order_test(struct kunit *test)
{
	const u64 start = (1ULL << 32) - 2;
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, start);
	struct lfq_mpsc_prod pa, pb;
	struct lfq_mpsc_resv a, b, c;
	const unsigned char *s;
	u32 got;

	lfq_mpsc_prod_init(&pa, &mt->q->ring);
	lfq_mpsc_prod_init(&pb, &mt->q->ring);

	/* Reserve A then B, commit B first: the consumer sees nothing. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &pa, 1, &a));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &pb, 1, &b));
	KUNIT_EXPECT_EQ(test, a.index, start);
	KUNIT_EXPECT_EQ(test, b.index, start + 1);
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_commit(&pb, &b));
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, start, mt->n), 0U);
	KUNIT_EXPECT_EQ(test, mt->c.tail, start);

	/* Commit A: both, in index order. */
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_commit(&pa, &a));
	s = lfq_mpsc_peek(&mt->c, mt->n, &got);
	KUNIT_ASSERT_EQ(test, got, 2U);
	KUNIT_EXPECT_PTR_EQ(test, (const void *)s,
			    (const void *)lfq_mt_slot(mt, start));
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, s, start));
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, s + mt->sz, start + 1));
	lfq_mpsc_release(&mt->c, got);

	/* Batches: A(3) B(2) C(1); C then A committed: only A is seen. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &pa, 3, &a));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &pb, 2, &b));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &c));
	KUNIT_EXPECT_EQ(test, b.index, a.index + 3);
	KUNIT_EXPECT_EQ(test, c.index, b.index + 2);
	lfq_mpsc_commit(&mt->p, &c);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	lfq_mpsc_commit(&pa, &a);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, a.index, mt->n), 3U);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 3U);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 0U);

	/* B completes the run: B and C come out together. */
	lfq_mpsc_commit(&pb, &b);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, 1), 1U);
	KUNIT_EXPECT_EQ(test, mt->c.tail, b.index + 1);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 2U);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), c.index + 1);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(mt->q), c.index + 1);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 0U);
}

static void lfq_mpsc_batch_wrap_test(struct kunit *test)
{
	/* 128 slots of 64 bytes (two pages); indices start at slot N-3. */
	const u64 start = 5 * 128 - 3;
	struct lfq_mt *mt = lfq_mt_open(test, 64, 128, start);
	const u32 n = mt->n, sz = mt->sz;
	const unsigned char *s;
	struct lfq_mpsc_resv r;
	unsigned char *w;
	u32 i, got;

	/* Eight slots, N-3..N-1 and 0..4, as one contiguous span. */
	w = lfq_mpsc_reserve(&mt->p, 8, &r);
	KUNIT_ASSERT_EQ(test, r.count, 8U);
	KUNIT_ASSERT_PTR_EQ(test, (void *)w, (void *)(mt->data + (n - 3) * sz));
	KUNIT_EXPECT_TRUE(test, lfq_span_ok(mt->q, w, r.count));
	KUNIT_EXPECT_GT(test, (u64)(w + 8 * sz - mt->data), mt->data_size);
	for (i = 0; i < 8; i++)
		memset(w + (size_t)i * sz, 0x10 + i, sz);
	lfq_mpsc_commit(&mt->p, &r);

	/* Through the first copy: the bytes are in slots N-3..N-1, 0..4. */
	for (i = 0; i < 8; i++) {
		const unsigned char *slot = lfq_mt_slot(mt, start + i);

		KUNIT_EXPECT_EQ_MSG(test, slot[0], 0x10 + i, "slot %u", i);
		KUNIT_EXPECT_EQ(test, slot[sz - 1], 0x10 + i);
	}
	KUNIT_EXPECT_EQ(test, mt->data[5 * sz], 0);	/* slot 5 untouched */

	/* The consumer gets the same span and all eight commit words. */
	s = lfq_mpsc_peek(&mt->c, n, &got);
	KUNIT_ASSERT_EQ(test, got, 8U);
	KUNIT_EXPECT_PTR_EQ(test, (const void *)s, (const void *)w);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_EQ(test, s[(size_t)i * sz + 1], 0x10 + i);
	lfq_mpsc_release(&mt->c, got);

	/* A whole-ring span from slot 5 of the first copy to slot 4 of the
	 * second: records written through it read back slot by slot.
	 */
	w = lfq_mt_reserve(mt, &mt->p, n, &r);
	KUNIT_ASSERT_EQ(test, r.count, n);
	KUNIT_ASSERT_PTR_EQ(test, (void *)w, (void *)(mt->data + 5 * sz));
	KUNIT_EXPECT_TRUE(test, lfq_span_ok(mt->q, w, r.count));
	lfq_mpsc_commit(&mt->p, &r);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_TRUE_MSG(test,
				      lfq_mt_rec_ok(mt,
						    lfq_mt_slot(mt, r.index + i),
						    r.index + i),
				      "record %u", i);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, n), n);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), start + 8 + n);
}

static void lfq_mpsc_release_clamp_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 0);
	struct lfq_mpsc_resv r;
	u32 i, got;

	for (i = 0; i < 5; i++)
		KUNIT_ASSERT_EQ(test, lfq_mt_push(mt, 1), 1U);

	/* Release more than peeked: only the peek is given back. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_peek(&mt->c, 2, &got));
	KUNIT_ASSERT_EQ(test, got, 2U);
	lfq_mpsc_release(&mt->c, 10);
	KUNIT_EXPECT_EQ(test, mt->c.tail, 2ULL);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), 2ULL);

	/* Nothing peeked: nothing released. */
	lfq_mpsc_release(&mt->c, 1);
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_release(&mt->c, U32_MAX));
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), 2ULL);

	/* A peek asking for more than there is grants what there is. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 3U);
	lfq_mpsc_release(&mt->c, mt->n);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), 5ULL);
	/* Never past what was committed. */
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	lfq_mpsc_release(&mt->c, 3);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), 5ULL);

	/* A new peek replaces the old one. */
	KUNIT_ASSERT_EQ(test, lfq_mt_push(mt, 2), 2U);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_peek(&mt->c, 2, &got));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_peek(&mt->c, 1, &got));
	lfq_mpsc_release(&mt->c, 2);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), 6ULL);
	lfq_mpsc_release(&mt->c, 1);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), 6ULL);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, 1), 1U);

	/* A peek that only skips discards leaves nothing to release. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_reserve(&mt->p, 2, &r));
	lfq_mpsc_discard(&mt->p, &r);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, 4, &got));
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), 9ULL);
	lfq_mpsc_release(&mt->c, 4);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), 9ULL);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), lfq_shared_head(mt->q));
}

static void lfq_mpsc_ready_test(struct kunit *test)
{
	const u64 st = (1ULL << 32) - 3;
	struct lfq_mt *mt = lfq_mt_open(test, 256, 16, st);
	struct lfq_mpsc_resv a, b, x, d;

	/* 3 committed, 2 discarded, 1 held, 2 committed. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 3, &a));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 2, &b));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &x));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 2, &d));
	lfq_mpsc_commit(&mt->p, &a);
	lfq_mpsc_discard(&mt->p, &b);
	lfq_mpsc_commit(&mt->p, &d);

	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, 0), 0U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, 1), 1U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, 3), 3U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, 4), 4U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, 5), 5U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, mt->n), 5U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, U32_MAX), 5U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, x.index, mt->n), 0U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, d.index, mt->n), 2U);
	/* The same words are not ready for another lap. */
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st + mt->n, mt->n), 0U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st - mt->n, mt->n), 0U);

	lfq_mpsc_commit(&mt->p, &x);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, mt->n), 8U);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, 7), 7U);

	/* A full ring is N ready, never more. */
	KUNIT_ASSERT_EQ(test, lfq_mt_push(mt, mt->n), mt->n - 8);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st, U32_MAX), mt->n);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, st + 1, U32_MAX), mt->n - 1);

	/* Counting moves nothing. */
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), st);
	KUNIT_EXPECT_EQ(test, mt->c.tail, st);
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 0ULL);
}

static void lfq_mpsc_wakeup_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 0);
	struct lfq_mpsc_resv r;
	u32 got;

	/* No sleeper announced: commit and discard report none. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &r));
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_commit(&mt->p, &r));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &r));
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_discard(&mt->p, &r));
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 1U);
	KUNIT_EXPECT_EQ(test, lfq_mt_pop(mt, mt->n), 0U);

	/* Arming sets need_data and returns the ready count. */
	KUNIT_EXPECT_EQ(test, lfq_mpsc_arm_data_wait(&mt->q->ring, 4, 1), 0U);
	KUNIT_EXPECT_NE(test, READ_ONCE(mt->cons->need_data), 0U);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 2, &r));
	KUNIT_EXPECT_TRUE(test, lfq_mpsc_commit(&mt->p, &r));
	/* Still set (the waker clears it): reported again, discard too. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &r));
	KUNIT_EXPECT_TRUE(test, lfq_mpsc_discard(&mt->p, &r));
	KUNIT_EXPECT_EQ(test, lfq_mpsc_arm_data_wait(&mt->q->ring, 4, 1), 3U);
	KUNIT_EXPECT_EQ(test, lfq_mpsc_arm_data_wait(&mt->q->ring, 2, 1), 2U);
	KUNIT_EXPECT_EQ(test, lfq_mpsc_arm_data_wait(&mt->q->ring, 0, 1), 0U);

	/* The waker's clear: no more reports. */
	WRITE_ONCE(mt->cons->need_data, 0);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &r));
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_commit(&mt->p, &r));
	/* Any non-zero flag counts. */
	WRITE_ONCE(mt->cons->need_data, 0x80000000U);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &r));
	KUNIT_EXPECT_TRUE(test, lfq_mpsc_commit(&mt->p, &r));
	KUNIT_EXPECT_EQ(test, lfq_mpsc_arm_data_wait(&mt->q->ring, mt->n, 1), 5U);
	KUNIT_EXPECT_EQ(test, READ_ONCE(mt->cons->need_data), 1U);

	/* Release reports a producer that announced it sleeps for space. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_peek(&mt->c, 2, &got));
	WRITE_ONCE(mt->prod->need_space, 1);
	KUNIT_EXPECT_TRUE(test, lfq_mpsc_release(&mt->c, got));
	WRITE_ONCE(mt->prod->need_space, 0);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_peek(&mt->c, mt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 2U);
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_release(&mt->c, got));
	/* The wait is armed from the shared tail: nothing is left. */
	KUNIT_EXPECT_EQ(test, lfq_mpsc_arm_data_wait(&mt->q->ring, mt->n, 1), 0U);
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 2ULL);
}

/*
 * Wakeup thresholds on MPSC (ORDERING wake-threshold): a commit reports a
 * consumer armed for any count (commits land out of order, so no producer
 * knows how many are ready); a release reports a producer once the slots
 * it armed for are free.
 */
static void lfq_mpsc_wake_threshold_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 0);
	struct lfq_mpsc_resv r;
	u32 got, i;

	KUNIT_EXPECT_EQ(test, lfq_mpsc_arm_data_wait(&mt->q->ring, 8, 8), 0U);
	KUNIT_EXPECT_EQ(test, READ_ONCE(mt->cons->need_data), 8U);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &r));
	KUNIT_EXPECT_TRUE(test, lfq_mpsc_commit(&mt->p, &r));
	WRITE_ONCE(mt->cons->need_data, 0);

	/* Space: full ring, armed for 3, reported at the third release. */
	KUNIT_ASSERT_EQ(test, lfq_mt_push(mt, mt->n), mt->n - 1);
	KUNIT_EXPECT_EQ(test, lfq_arm_space_wait(&mt->q->ring, 3), 0U);
	KUNIT_EXPECT_EQ(test, READ_ONCE(mt->prod->need_space), 3U);
	for (i = 1; i <= 4; i++) {
		KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_peek(&mt->c, 1, &got));
		KUNIT_EXPECT_EQ(test, lfq_mpsc_release(&mt->c, 1), i >= 3);
	}
	/* Slots taken again count as used: 3 free of the 6 wanted. */
	WRITE_ONCE(mt->prod->need_space, 6);
	KUNIT_ASSERT_EQ(test, lfq_mt_push(mt, 2), 2U);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_peek(&mt->c, 1, &got));
	KUNIT_EXPECT_FALSE(test, lfq_mpsc_release(&mt->c, 1));
	/* Forged above the ring's size: every release reports. */
	WRITE_ONCE(mt->prod->need_space, mt->n + 1);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mpsc_peek(&mt->c, 1, &got));
	KUNIT_EXPECT_TRUE(test, lfq_mpsc_release(&mt->c, 1));
	WRITE_ONCE(mt->prod->need_space, 0);
}

static struct kunit_case lfq_mpsc_cases[] = {
	KUNIT_CASE(lfq_mpsc_empty_test),
	KUNIT_CASE(lfq_mpsc_fill_test),
	KUNIT_CASE(lfq_mpsc_commit_order_test),
	KUNIT_CASE(lfq_mpsc_batch_wrap_test),
	KUNIT_CASE(lfq_mpsc_release_clamp_test),
	KUNIT_CASE(lfq_mpsc_ready_test),
	KUNIT_CASE(lfq_mpsc_wakeup_test),
	KUNIT_CASE(lfq_mpsc_wake_threshold_test),
	{}
};

static struct kunit_suite lfq_mpsc_suite = {
	.name = "lfq_mpsc",
	.test_cases = lfq_mpsc_cases,
};

kunit_test_suite(lfq_mpsc_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's MPSC ring protocol");
MODULE_LICENSE("GPL");
