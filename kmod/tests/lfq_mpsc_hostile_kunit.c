// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_mpsc_hostile_kunit.c - KUnit suite lfq_mpsc_hostile: an MPSC queue
 * whose shared words are written by someone hostile (HOSTILE MEMORY H1-H6
 * in kmod/proto/lfq_rules.h), on real MPSC queues. Garbage commit words
 * never let a slot go; any head and tail give exactly the grant head -
 * tail allows, inside the double-mapped slot area, and bounded peeks and
 * ready counts; a tail forged while a record is being written (the
 * CVE-2024-41009 class) never gets that record's slot written twice
 * (lfq_mpsc_lap_free()).
 */
#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/string.h>

#include "lfq_kunit_util.h"

/* No value but @index + 1 (or it with the discard bit) lets a slot go. */
static void lfq_mpsc_hostile_expect_none(struct kunit *test, struct lfq_mt *mt,
					 u64 t, u64 v)
{
	const void *s;
	u32 got = 77;

	lfq_mt_set_word(mt, t, v);
	s = lfq_mpsc_peek(&mt->c, mt->n, &got);
	KUNIT_EXPECT_NULL_MSG(test, s, "word %llx at index %llx", v, t);
	KUNIT_EXPECT_EQ(test, got, 0U);
	KUNIT_EXPECT_EQ(test, mt->c.tail, t);
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 0ULL);
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, t, mt->n), 0U);
}

static void lfq_mpsc_hostile_commit_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, (1ULL << 40) - 5);
	const u64 n = mt->n;
	u64 rnd = 0x0123456789abcdefULL, t, ok, v;
	const u64 *s;
	unsigned int i;
	u32 got;

	/* Two laps and a bit: every word holds a previous lap's index + 1. */
	for (i = 0; i < 2 * n + 3; i++) {
		KUNIT_ASSERT_EQ(test, lfq_mt_push(mt, 1), 1U);
		KUNIT_ASSERT_EQ(test, lfq_mt_pop(mt, 1), 1U);
	}
	t = mt->c.tail;
	ok = t + 1;
	KUNIT_ASSERT_EQ(test, lfq_mt_word(mt, t), ok - n);
	KUNIT_ASSERT_EQ(test, lfq_mt_word(mt, t - 1), ok - 1);

	/* Garbage, nearby and previous/next-lap values, wrong discards. */
	lfq_mpsc_hostile_expect_none(test, mt, t, 0);
	lfq_mpsc_hostile_expect_none(test, mt, t, 1);
	lfq_mpsc_hostile_expect_none(test, mt, t, t);
	lfq_mpsc_hostile_expect_none(test, mt, t, ok + 1);
	lfq_mpsc_hostile_expect_none(test, mt, t, ok - n);
	lfq_mpsc_hostile_expect_none(test, mt, t, ok - 2 * n);
	lfq_mpsc_hostile_expect_none(test, mt, t, ok + n);
	lfq_mpsc_hostile_expect_none(test, mt, t, (u32)ok);
	lfq_mpsc_hostile_expect_none(test, mt, t, ok + (1ULL << 32));
	lfq_mpsc_hostile_expect_none(test, mt, t, ~ok);
	lfq_mpsc_hostile_expect_none(test, mt, t, U64_MAX);
	lfq_mpsc_hostile_expect_none(test, mt, t, LFQ_MPSC_DISCARDED);
	lfq_mpsc_hostile_expect_none(test, mt, t, t | LFQ_MPSC_DISCARDED);
	lfq_mpsc_hostile_expect_none(test, mt, t,
				     (ok + 1) | LFQ_MPSC_DISCARDED);
	lfq_mpsc_hostile_expect_none(test, mt, t,
				     (ok - n) | LFQ_MPSC_DISCARDED);
	lfq_mpsc_hostile_expect_none(test, mt, t,
				     (ok + n) | LFQ_MPSC_DISCARDED);
	/* Every single-bit error of both good values (bit 63 is the flag). */
	for (i = 0; i < 63; i++) {
		lfq_mpsc_hostile_expect_none(test, mt, t, ok ^ (1ULL << i));
		lfq_mpsc_hostile_expect_none(test, mt, t,
					     (ok | LFQ_MPSC_DISCARDED) ^
					     (1ULL << i));
	}
	for (i = 0; i < 10000; i++) {
		v = lfq_kunit_rand(&rnd);
		if ((v & ~LFQ_MPSC_DISCARDED) == ok)
			continue;
		lfq_mpsc_hostile_expect_none(test, mt, t, v);
	}

	/* A good word then garbage: exactly one slot. */
	lfq_mt_set_word(mt, t, ok);
	lfq_mt_set_word(mt, t + 1, ok);
	s = lfq_mpsc_peek(&mt->c, n, &got);
	KUNIT_EXPECT_EQ(test, got, 1U);
	KUNIT_EXPECT_PTR_EQ(test, (const void *)s,
			    (const void *)lfq_mt_slot(mt, t));
	KUNIT_EXPECT_EQ(test, lfq_mt_ready(mt, t, mt->n), 1U);
	/* The discard bit on the right index is a discard. */
	lfq_mt_set_word(mt, t, ok | LFQ_MPSC_DISCARDED);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_peek(&mt->c, n, &got));
	KUNIT_EXPECT_EQ(test, mt->c.discarded, 1ULL);
	KUNIT_EXPECT_EQ(test, mt->c.tail, t + 1);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(mt->q), t + 1);
}

/*
 * Hostile head and tail words: whatever they hold, a grant is exactly what
 * head - tail allows (nothing when that is impossible) and lies inside the
 * double mapping; the consumer's counts stay within the ring too.
 */
static void lfq_mpsc_hostile_indices_test(struct kunit *test)
{
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, 0);
	const u64 n = mt->n;
	static const u64 pairs[][2] = {
		{ 1000, 1001 }, { 1000, 1064 }, { 1000, 1000 - 65 },
		{ 1000, 0 }, { 1000, U64_MAX }, { U64_MAX, 0 },
		{ 1ULL << 63, 0 }, { 0, 1ULL << 63 }, { 1ULL << 40, 1 },
	};
	u64 rnd = 0x9e3779b97f4a7c15ULL, h, t, used, room;
	struct lfq_mpsc_resv r, last = { };
	const unsigned char *s;
	unsigned char *w;
	unsigned int i;
	u32 want, got, max;

	/* Impossible pairs read as a full ring, cached tail or reloaded. */
	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		h = pairs[i][0];
		t = pairs[i][1];
		WRITE_ONCE(mt->prod->head, h);
		WRITE_ONCE(mt->cons->tail, t);
		lfq_mpsc_prod_init(&mt->p, &mt->q->ring);
		r.count = 77;
		KUNIT_EXPECT_NULL_MSG(test, lfq_mpsc_reserve(&mt->p, 1, &r),
				      "head %llu tail %llu", h, t);
		KUNIT_EXPECT_EQ(test, r.count, 0U);
		mt->p.cached_tail = h - n;
		KUNIT_EXPECT_NULL(test, lfq_mpsc_reserve(&mt->p, n, &r));
		KUNIT_EXPECT_EQ(test, r.count, 0U);
		KUNIT_EXPECT_EQ(test, lfq_shared_head(mt->q), h);
	}

	for (i = 0; i < 4000; i++) {
		h = lfq_kunit_rand(&rnd);
		t = (i & 1) ? h - (lfq_kunit_rand(&rnd) % (4 * n)) + 2 * n :
			      lfq_kunit_rand(&rnd);
		want = 1 + lfq_kunit_rand(&rnd) % (2 * n);
		used = h - t;
		room = used > n ? 0 : n - used;
		WRITE_ONCE(mt->prod->head, h);
		WRITE_ONCE(mt->cons->tail, t);
		/* Published up to h, so the tail alone limits the grant. */
		lfq_mt_lap_done(mt, h);
		if (i % 4 == 3)
			/* A private cache as wrong as the shared word. */
			mt->p.cached_tail = lfq_kunit_rand(&rnd);
		else
			mt->p.cached_tail = h - n;	/* force a reload */
		w = lfq_mpsc_reserve(&mt->p, want, &r);
		KUNIT_ASSERT_TRUE_MSG(test, lfq_span_ok(mt->q, w, r.count),
				      "head %llu tail %llu count %u", h, t,
				      r.count);
		KUNIT_ASSERT_LE(test, r.count, want);
		if (i % 4 != 3)
			KUNIT_ASSERT_EQ_MSG(test, (u64)r.count,
					    min_t(u64, want, room),
					    "head %llu tail %llu", h, t);
		KUNIT_ASSERT_EQ(test, lfq_shared_head(mt->q), h + r.count);
		if (!w)
			continue;
		KUNIT_ASSERT_EQ(test, r.index, h);
		KUNIT_ASSERT_PTR_EQ(test, (void *)w,
				    (void *)lfq_mt_slot(mt, h));
		/* Writing all of it is safe (KASAN watches the vmap area). */
		memset(w, 0x5a, (size_t)r.count * mt->sz);
		lfq_mpsc_commit(&mt->p, &r);
		last = r;

		/* A consumer standing at that index sees exactly it. */
		lfq_mpsc_cons_init(&mt->c, &mt->q->ring);
		mt->c.tail = h;
		s = lfq_mpsc_peek(&mt->c, want, &got);
		KUNIT_ASSERT_EQ(test, got, r.count);
		KUNIT_ASSERT_PTR_EQ(test, (const void *)s, (const void *)w);
		lfq_mpsc_release(&mt->c, got);
	}

	/*
	 * A consumer anywhere, and a wait armed at any tail: bounded, and
	 * exact inside the last span granted above (published again: later
	 * rounds rewrote every word).
	 */
	KUNIT_ASSERT_GT(test, last.count, 0U);
	lfq_mpsc_commit(&mt->p, &last);
	for (i = 0; i < 4000; i++) {
		u32 off = lfq_kunit_rand(&rnd) % last.count;
		u32 left = last.count - off;

		t = (i & 1) ? lfq_kunit_rand(&rnd) : last.index + off;
		want = 1 + lfq_kunit_rand(&rnd) % (4 * n);
		max = (i & 2) ? U32_MAX : want;
		lfq_mpsc_cons_init(&mt->c, &mt->q->ring);
		mt->c.tail = t;
		s = lfq_mpsc_peek(&mt->c, want, &got);
		KUNIT_ASSERT_TRUE(test, lfq_span_ok(mt->q, s, got));
		KUNIT_ASSERT_LE(test, got, min_t(u32, want, n));
		if (!(i & 1)) {
			KUNIT_ASSERT_EQ(test, got, min(want, left));
			KUNIT_ASSERT_EQ(test, s[0], 0x5a);
			KUNIT_ASSERT_EQ(test, s[(size_t)got * mt->sz - 1], 0x5a);
		}
		lfq_mpsc_release(&mt->c, got);
		WRITE_ONCE(mt->cons->tail, t);
		got = lfq_mpsc_arm_data_wait(&mt->q->ring, max, 1);
		KUNIT_ASSERT_LE(test, got, min_t(u32, max, n));
		if (!(i & 1))
			KUNIT_ASSERT_EQ(test, got, min(max, left));
		KUNIT_ASSERT_LE(test, lfq_mt_ready(mt, t, U32_MAX), (u32)n);
	}
}

/*
 * The CVE-2024-41009 class: a consumer forges its tail (tail = head, "all
 * consumed") while a record is still being written. Other reservations
 * lap the ring up to that record's slot and stop there, one slot at a
 * time or in a batch; the record stays intact. Once it is published the
 * slot is granted again (the forger loses it: its own doing).
 */
static void lfq_mpsc_forged_tail_test(struct kunit *test)
{
	const u64 start = (1ULL << 32) - 5;
	struct lfq_mt *mt = lfq_mt_open(test, 64, 64, start);
	const u64 n = mt->n, at = start + 4;
	struct lfq_mpsc_resv held, r;
	struct lfq_mpsc_prod slow;
	unsigned int k;
	u64 i;

	KUNIT_ASSERT_EQ(test, lfq_mt_push(mt, 4), 4U);
	lfq_mpsc_prod_init(&slow, &mt->q->ring);
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &slow, 1, &held));
	KUNIT_ASSERT_EQ(test, held.index, at);

	for (i = at + 1; i != start + n; i++) {
		WRITE_ONCE(mt->cons->tail, lfq_shared_head(mt->q));
		KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, 1, &r));
		KUNIT_ASSERT_EQ(test, r.index, i);
		lfq_mpsc_commit(&mt->p, &r);
	}
	/* A batch over the slots before it stops short of it. */
	WRITE_ONCE(mt->cons->tail, lfq_shared_head(mt->q));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, n, &r));
	KUNIT_EXPECT_EQ(test, r.index, start + n);
	KUNIT_EXPECT_EQ(test, r.count, 4U);
	lfq_mpsc_commit(&mt->p, &r);
	/* Nothing reaches it, through either view, whatever the size. */
	for (k = 0; k < 4; k++) {
		WRITE_ONCE(mt->cons->tail, lfq_shared_head(mt->q));
		r.count = 77;
		KUNIT_EXPECT_NULL(test, lfq_mpsc_reserve(k & 1 ? &slow : &mt->p,
							 k & 2 ? n : 1, &r));
		KUNIT_EXPECT_EQ(test, r.count, 0U);
	}
	KUNIT_EXPECT_EQ(test, lfq_shared_head(mt->q), at + n);
	KUNIT_EXPECT_TRUE(test, lfq_mt_rec_ok(mt, lfq_mt_slot(mt, at), at));

	/* Published (discarded counts too): the slot is granted again. */
	lfq_mpsc_discard(&slow, &held);
	WRITE_ONCE(mt->cons->tail, lfq_shared_head(mt->q));
	KUNIT_ASSERT_NOT_NULL(test, lfq_mt_reserve(mt, &mt->p, n, &r));
	KUNIT_EXPECT_EQ(test, r.index, at + n);
	KUNIT_EXPECT_EQ(test, (u64)r.count, n);
}

static struct kunit_case lfq_mpsc_hostile_cases[] = {
	KUNIT_CASE(lfq_mpsc_hostile_commit_test),
	KUNIT_CASE(lfq_mpsc_hostile_indices_test),
	KUNIT_CASE(lfq_mpsc_forged_tail_test),
	{}
};

static struct kunit_suite lfq_mpsc_hostile_suite = {
	.name = "lfq_mpsc_hostile",
	.test_cases = lfq_mpsc_hostile_cases,
};

kunit_test_suite(lfq_mpsc_hostile_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's MPSC ring against hostile peers");
MODULE_LICENSE("GPL");
