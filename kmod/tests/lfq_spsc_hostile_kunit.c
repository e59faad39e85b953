// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_spsc_hostile_kunit.c - KUnit suite lfq_spsc_hostile: an SPSC ring
 * (kmod/proto/lfq_spsc.h) whose peer writes anything at all into the
 * shared control pages (HOSTILE MEMORY H1-H3 in proto/lfq_rules.h). A
 * forged tail or head only makes the ring look full or hand over garbage:
 * every grant and every peek is exactly what head - tail allows, clamped,
 * and lies inside the queue's double-mapped slot area (KASAN watches it).
 */
#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/string.h>

#include "lfq_kunit_util.h"

static void lfq_spsc_hostile_tail_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 64);
	const u64 n = kt->n;
	u64 head, rnd = 0x9e3779b97f4a7c15ULL;
	u64 bad[6];
	unsigned char *w;
	u32 i, got;

	for (i = 0; i < 10; i++)
		KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, i));
	head = lfq_shared_head(kt->q);

	/* Impossible tails: the ring reads full, nothing is handed out. */
	bad[0] = head + 5;
	bad[1] = head + 1;
	bad[2] = head - 2 * n;
	bad[3] = head - n - 1;
	bad[4] = head - U64_MAX / 2;
	bad[5] = head + (1ULL << 63);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		WRITE_ONCE(kt->q->ring.cons->tail, bad[i]);
		lfq_spsc_prod_init(&kt->p, &kt->q->ring);
		got = 77;
		w = lfq_spsc_reserve(&kt->p, 1, &got);
		KUNIT_EXPECT_NULL_MSG(test, w, "tail %llu head %llu", bad[i],
				      head);
		KUNIT_EXPECT_EQ(test, got, 0U);
		/* Also when a sane cached copy runs short and is reloaded. */
		kt->p.cached_tail = head - 1;
		got = 77;
		w = lfq_spsc_reserve(&kt->p, (u32)n, &got);
		KUNIT_EXPECT_NULL(test, w);
		KUNIT_EXPECT_EQ(test, got, 0U);
		lfq_spsc_commit(&kt->p, (u32)n);
		KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), head);
		KUNIT_EXPECT_EQ(test, lfq_arm_space_wait(&kt->q->ring, 1), 0U);
		KUNIT_EXPECT_EQ(test, lfq_spsc_readable(&kt->q->ring),
				kt->n);
	}

	/*
	 * Any tail at all, near head or anywhere: a grant stays inside the
	 * slot area's double mapping, and writing all of it is safe (KASAN
	 * watches the vmap area).
	 */
	for (i = 0; i < 4000; i++) {
		u64 t = lfq_kunit_rand(&rnd);
		u32 want = 1 + (u32)(t % (2 * n));
		u64 used, free;

		if (i & 1)
			t = kt->p.head - (t % (4 * n)) + 2 * n;
		used = kt->p.head - t;
		free = used > n ? 0 : n - used;
		WRITE_ONCE(kt->q->ring.cons->tail, t);
		kt->p.cached_tail = kt->p.head - n;	/* force a reload */
		w = lfq_spsc_reserve(&kt->p, want, &got);
		KUNIT_ASSERT_TRUE_MSG(test, lfq_span_ok(kt->q, w, got),
				      "tail %llu head %llu got %u", t,
				      kt->p.head, got);
		/* Exactly what head - tail allows, clamped to nothing. */
		KUNIT_ASSERT_EQ_MSG(test, (u64)got, min_t(u64, want, free),
				    "tail %llu head %llu", t, kt->p.head);
		if (w)
			memset(w, 0x5a, (size_t)got * kt->sz);
		lfq_spsc_commit(&kt->p, got);
	}
}

static void lfq_spsc_hostile_head_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 64);
	const u64 n = kt->n;
	u64 rnd = 0x0123456789abcdefULL;
	const unsigned char *r;
	unsigned long sum = 0;
	u32 i, got;

	/*
	 * A hostile producer can only make the ring look full of garbage:
	 * at most N slots, inside the slot area, however far head is.
	 */
	for (i = 0; i < 4000; i++) {
		u64 h = lfq_kunit_rand(&rnd);
		u32 want = 1 + (u32)(h % (2 * n));
		u64 used;

		if (i & 1)
			h = kt->c.tail + (h % (4 * n)) - 2 * n;
		used = h - kt->c.tail;
		WRITE_ONCE(kt->q->ring.prod->head, h);
		kt->c.cached_head = kt->c.tail;		/* force a reload */
		r = lfq_spsc_peek(&kt->c, want, &got);
		KUNIT_ASSERT_TRUE_MSG(test, lfq_span_ok(kt->q, r, got),
				      "head %llu tail %llu got %u", h,
				      kt->c.tail, got);
		KUNIT_ASSERT_EQ_MSG(test, (u64)got,
				    min_t(u64, want, used > n ? n : used),
				    "head %llu tail %llu", h, kt->c.tail);
		while (r && got--) {
			sum += r[0] + r[kt->sz - 1];
			r += kt->sz;
		}
		lfq_spsc_release(&kt->c, want);
	}
	KUNIT_EXPECT_EQ(test, sum, 0UL);	/* zeroed pages, never written */
}

static struct kunit_case lfq_spsc_hostile_cases[] = {
	KUNIT_CASE(lfq_spsc_hostile_tail_test),
	KUNIT_CASE(lfq_spsc_hostile_head_test),
	{}
};

static struct kunit_suite lfq_spsc_hostile_suite = {
	.name = "lfq_spsc_hostile",
	.test_cases = lfq_spsc_hostile_cases,
};

kunit_test_suite(lfq_spsc_hostile_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's SPSC ring against a hostile peer");
MODULE_LICENSE("GPL");
