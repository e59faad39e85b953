// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_spsc_kunit.c - KUnit suite lfq_spsc: the single-producer ring
 * protocol of kmod/proto/lfq_spsc.h, with honest peers, on real SPSC
 * queues (lfq_kt_open()). Empty and full rings, many laps and the wrap of
 * the u64 indices, spans across the end of the ring through the double
 * mapping, commits and releases clamped to the last reservation and peek,
 * and the need_data / need_space flags of the wakeup handshake. Hostile
 * peers are lfq_spsc_hostile_kunit.c's, concurrency lfq_spsc_race_kunit.c's.
 */
#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/module.h>
#include <linux/string.h>

#include "lfq_kunit_util.h"

static void lfq_spsc_empty_peek_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 64);
	u64 seq, check;
	u32 got = 123;

	KUNIT_EXPECT_NULL(test, lfq_spsc_peek(&kt->c, 1, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	got = 123;
	KUNIT_EXPECT_NULL(test, lfq_spsc_peek(&kt->c, kt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	KUNIT_EXPECT_EQ(test, lfq_spsc_readable(&kt->q->ring), 0U);
	/* Releasing after an empty peek moves nothing. */
	lfq_spsc_release(&kt->c, 5);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), 0ULL);

	/* Reserved but uncommitted slots are invisible to the consumer. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 4, &got));
	KUNIT_EXPECT_NULL(test, lfq_spsc_peek(&kt->c, 1, &got));

	KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, 77));
	KUNIT_ASSERT_TRUE(test, lfq_kt_pop(kt, &seq, &check));
	KUNIT_EXPECT_EQ(test, seq, 77ULL);
	KUNIT_EXPECT_FALSE(test, lfq_kt_pop(kt, &seq, &check));
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), 1ULL);
}

static void lfq_spsc_fill_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 64);
	u64 seq, check;
	void *s;
	u32 i, got;

	/* All N slots are usable... */
	for (i = 0; i < kt->n; i++)
		KUNIT_ASSERT_TRUE_MSG(test, lfq_kt_push(kt, i), "slot %u", i);
	KUNIT_EXPECT_EQ(test, lfq_spsc_readable(&kt->q->ring), kt->n);
	/* ...and then the ring is full, for any request size. */
	got = 99;
	KUNIT_EXPECT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	got = 99;
	KUNIT_EXPECT_NULL(test, lfq_spsc_reserve(&kt->p, kt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 0U);
	KUNIT_EXPECT_EQ(test, lfq_arm_space_wait(&kt->q->ring, 1), 0U);
	/* A commit while full publishes nothing. */
	lfq_spsc_commit(&kt->p, 1);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), (u64)kt->n);

	/* One release frees exactly one slot, at the old slot 0. */
	KUNIT_ASSERT_TRUE(test, lfq_kt_pop(kt, &seq, &check));
	KUNIT_EXPECT_EQ(test, seq, 0ULL);
	s = lfq_spsc_reserve(&kt->p, kt->n, &got);
	KUNIT_EXPECT_EQ(test, got, 1U);
	KUNIT_EXPECT_PTR_EQ(test, s, (void *)kt->data);
	lfq_spsc_commit(&kt->p, 0);

	/* The consumer sees everything in order, then an empty ring. */
	for (i = 1; i < kt->n; i++) {
		KUNIT_ASSERT_TRUE(test, lfq_kt_pop(kt, &seq, &check));
		KUNIT_EXPECT_EQ(test, seq, (u64)i);
		KUNIT_EXPECT_EQ(test, check, ~(u64)i);
	}
	KUNIT_EXPECT_FALSE(test, lfq_kt_pop(kt, &seq, &check));
	KUNIT_EXPECT_EQ(test, lfq_arm_space_wait(&kt->q->ring, 1), kt->n);
}

static void lfq_spsc_wrap_many_test(struct kunit *test)
{
	/* 8 slots of 512 bytes: the ring wraps every 8 records. */
	struct lfq_kt *kt = lfq_kt_open(test, 512, 8);
	u64 next_in = 0, next_out = 0, seq, check;
	unsigned int round;
	u32 i, got;

	for (round = 0; round < 2000; round++) {
		u32 want_in = 1 + round % kt->n;
		u32 want_out = 1 + (round * 7) % kt->n;
		unsigned char *w;
		const unsigned char *r;

		w = lfq_spsc_reserve(&kt->p, want_in, &got);
		KUNIT_ASSERT_TRUE(test, lfq_span_ok(kt->q, w, got));
		for (i = 0; i < got; i++) {
			memset(w + (size_t)i * kt->sz, (u8)next_in, kt->sz);
			lfq_kt_put_seq(kt, w + (size_t)i * kt->sz, next_in);
			next_in++;
		}
		lfq_spsc_commit(&kt->p, got);

		r = lfq_spsc_peek(&kt->c, want_out, &got);
		KUNIT_ASSERT_TRUE(test, lfq_span_ok(kt->q, r, got));
		for (i = 0; i < got; i++) {
			const u64 *s = (const u64 *)(r + (size_t)i * kt->sz);

			KUNIT_ASSERT_EQ(test, s[0], next_out);
			KUNIT_ASSERT_EQ(test, s[kt->sz / 8 - 1], ~next_out);
			KUNIT_ASSERT_EQ(test, ((const u8 *)s)[100],
					(u8)next_out);
			next_out++;
		}
		lfq_spsc_release(&kt->c, got);
		KUNIT_ASSERT_LE(test, next_in - next_out, (u64)kt->n);
	}
	while (lfq_kt_pop(kt, &seq, &check))
		KUNIT_ASSERT_EQ(test, seq, next_out++);
	KUNIT_EXPECT_EQ(test, next_out, next_in);
	KUNIT_EXPECT_GT(test, next_in, 100ULL * kt->n);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), next_in);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), next_out);
}

static void lfq_spsc_u64_wrap_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 256, 16);
	const u64 start = U64_MAX - 20;
	u64 seq, check, i, next_out = 0;
	u32 got;

	/* A ring that has run for 2^64 - 21 slots: resume there. */
	WRITE_ONCE(kt->q->ring.prod->head, start);
	WRITE_ONCE(kt->q->ring.cons->tail, start);
	lfq_kt_bind(kt);
	KUNIT_EXPECT_EQ(test, kt->p.head, start);
	KUNIT_EXPECT_EQ(test, kt->c.tail, start);

	/* Fill the ring across the wrap of the u64 indices. */
	for (i = 0; i < kt->n; i++)
		KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, i));
	KUNIT_EXPECT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	KUNIT_EXPECT_EQ(test, lfq_spsc_readable(&kt->q->ring), kt->n);

	/* Then stream 64 more through it, one in one out. */
	for (; i < kt->n + 64; i++) {
		KUNIT_ASSERT_TRUE(test, lfq_kt_pop(kt, &seq, &check));
		KUNIT_ASSERT_EQ(test, seq, next_out);
		KUNIT_ASSERT_EQ(test, check, ~next_out);
		next_out++;
		KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, i));
	}
	while (lfq_kt_pop(kt, &seq, &check))
		KUNIT_ASSERT_EQ(test, seq, next_out++);
	KUNIT_EXPECT_EQ(test, next_out, (u64)kt->n + 64);
	/* Both indices wrapped through zero. */
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), start + kt->n + 64);
	KUNIT_EXPECT_LT(test, lfq_shared_head(kt->q), 128ULL);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q),
			lfq_shared_head(kt->q));
}

static void lfq_spsc_double_map_test(struct kunit *test)
{
	/* 128 slots of 64 bytes: two pages, so the span crosses pages too. */
	struct lfq_kt *kt = lfq_kt_open(test, 64, 128);
	const u32 n = kt->n, sz = kt->sz;
	unsigned char *w;
	const unsigned char *r;
	u64 seq, check;
	u32 i, got;

	/* Move both indices to slot N-1. */
	for (i = 0; i < n - 1; i++) {
		KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, i));
		KUNIT_ASSERT_TRUE(test, lfq_kt_pop(kt, &seq, &check));
	}

	/* Two slots, N-1 and 0, as one contiguous span. */
	w = lfq_spsc_reserve(&kt->p, 2, &got);
	KUNIT_ASSERT_EQ(test, got, 2U);
	KUNIT_ASSERT_PTR_EQ(test, (void *)w, (void *)(kt->data + (n - 1) * sz));
	KUNIT_EXPECT_TRUE(test, lfq_span_ok(kt->q, w, got));
	memset(w, 0xa1, sz);
	memset(w + sz, 0xb2, sz);	/* the second copy's first slot */
	lfq_spsc_commit(&kt->p, got);

	/* Read back through the first copy only. */
	KUNIT_EXPECT_EQ(test, kt->data[(n - 1) * sz], 0xa1);
	KUNIT_EXPECT_EQ(test, kt->data[n * sz - 1], 0xa1);
	KUNIT_EXPECT_EQ(test, kt->data[0], 0xb2);
	KUNIT_EXPECT_EQ(test, kt->data[sz - 1], 0xb2);
	/* The neighbour, slot 1, still holds record 1. */
	KUNIT_EXPECT_EQ(test, *(u64 *)(kt->data + sz), 1ULL);

	/* The consumer gets the same span. */
	r = lfq_spsc_peek(&kt->c, n, &got);
	KUNIT_ASSERT_EQ(test, got, 2U);
	KUNIT_EXPECT_PTR_EQ(test, (const void *)r, (const void *)w);
	KUNIT_EXPECT_EQ(test, r[0], 0xa1);
	KUNIT_EXPECT_EQ(test, r[2 * sz - 1], 0xb2);
	lfq_spsc_release(&kt->c, got);

	/*
	 * A whole-ring span from slot 1 of the first copy to slot 0 of the
	 * second: write it at once, check every slot through the first copy.
	 */
	w = lfq_spsc_reserve(&kt->p, n, &got);
	KUNIT_ASSERT_EQ(test, got, n);
	KUNIT_ASSERT_PTR_EQ(test, (void *)w, (void *)(kt->data + sz));
	for (i = 0; i < n; i++)
		memset(w + (size_t)i * sz, (u8)(i + 1), sz);
	lfq_spsc_commit(&kt->p, got);
	for (i = 0; i < n; i++) {
		u32 slot = (1 + i) & (n - 1);

		KUNIT_ASSERT_EQ_MSG(test, kt->data[(size_t)slot * sz],
				    (u8)(i + 1), "slot %u", slot);
		KUNIT_ASSERT_EQ(test, kt->data[(size_t)slot * sz + sz - 1],
				(u8)(i + 1));
	}
	r = lfq_spsc_peek(&kt->c, n, &got);
	KUNIT_ASSERT_EQ(test, got, n);
	KUNIT_EXPECT_EQ(test, memcmp(r, w, (size_t)n * sz), 0);
	lfq_spsc_release(&kt->c, got);
}

static void lfq_spsc_commit_clamp_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 64);
	u32 got;

	/* Commit more than reserved: only the reservation is published. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 3, &got));
	KUNIT_ASSERT_EQ(test, got, 3U);
	lfq_spsc_commit(&kt->p, 10);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), 3ULL);
	KUNIT_EXPECT_EQ(test, kt->p.head, 3ULL);

	/* A second commit without a reservation publishes nothing. */
	lfq_spsc_commit(&kt->p, 1);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), 3ULL);
	KUNIT_EXPECT_FALSE(test, lfq_spsc_commit_check(&kt->p, U32_MAX));
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), 3ULL);

	/* A new reserve replaces the old reservation. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 5, &got));
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	lfq_spsc_commit(&kt->p, 5);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), 4ULL);

	/* A short grant (ring nearly full) bounds the commit. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, kt->n - 6, &got));
	lfq_spsc_commit(&kt->p, got);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 10, &got));
	KUNIT_EXPECT_EQ(test, got, 2U);
	lfq_spsc_commit(&kt->p, 10);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), (u64)kt->n);
	KUNIT_EXPECT_EQ(test, lfq_spsc_readable(&kt->q->ring), kt->n);

	/* Commit of fewer than reserved publishes exactly that many. */
	lfq_spsc_release(&kt->c, 0);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 8, &got));
	lfq_spsc_release(&kt->c, got);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 8, &got));
	KUNIT_ASSERT_EQ(test, got, 8U);
	lfq_spsc_commit(&kt->p, 3);
	KUNIT_EXPECT_EQ(test, lfq_shared_head(kt->q), (u64)kt->n + 3);
}

static void lfq_spsc_release_clamp_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 64);
	u32 i, got;

	for (i = 0; i < 5; i++)
		KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, i));

	/* Release more than peeked: only the peek is given back. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 2, &got));
	KUNIT_ASSERT_EQ(test, got, 2U);
	lfq_spsc_release(&kt->c, 10);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), 2ULL);

	/* Nothing peeked: nothing released. */
	lfq_spsc_release(&kt->c, 1);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), 2ULL);
	KUNIT_EXPECT_FALSE(test, lfq_spsc_release_check(&kt->c, U32_MAX));
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), 2ULL);

	/* A peek asking for more than there is grants what there is. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, kt->n, &got));
	KUNIT_EXPECT_EQ(test, got, 3U);
	lfq_spsc_release(&kt->c, kt->n);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), 5ULL);
	/* Never past what was committed. */
	KUNIT_EXPECT_EQ(test, lfq_spsc_readable(&kt->q->ring), 0U);

	/* A new peek replaces the old one. */
	KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, 5));
	KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, 6));
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 2, &got));
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 1, &got));
	lfq_spsc_release(&kt->c, 2);
	KUNIT_EXPECT_EQ(test, lfq_shared_tail(kt->q), 6ULL);
}

static void lfq_spsc_wakeup_flags_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 64);
	struct lfq_queue *q = kt->q;
	u32 got, i;

	/* No sleeper announced: commit_check reports none. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	KUNIT_EXPECT_FALSE(test, lfq_spsc_commit_check(&kt->p, 1));

	/* Arming returns the readable count and sets need_data. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 1, &got));
	lfq_spsc_release(&kt->c, 1);
	KUNIT_EXPECT_EQ(test, lfq_spsc_arm_data_wait(&q->ring, 1),
			0U);
	KUNIT_EXPECT_NE(test, lfq_shared_need_data(q), 0U);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 3, &got));
	KUNIT_EXPECT_TRUE(test, lfq_spsc_commit_check(&kt->p, 3));
	/* Still set (the waker clears it): reported again. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	KUNIT_EXPECT_TRUE(test, lfq_spsc_commit_check(&kt->p, 1));
	WRITE_ONCE(q->ring.cons->need_data, 0);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	KUNIT_EXPECT_FALSE(test, lfq_spsc_commit_check(&kt->p, 1));
	KUNIT_EXPECT_EQ(test, lfq_spsc_arm_data_wait(&q->ring, 1),
			5U);

	/* The space side: arm returns free slots, release_check sees it. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 1, &got));
	KUNIT_EXPECT_FALSE(test, lfq_spsc_release_check(&kt->c, 1));
	for (i = 4; i < kt->n; i++)
		KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, i));
	KUNIT_EXPECT_EQ(test, lfq_arm_space_wait(&q->ring, 1), 0U);
	KUNIT_EXPECT_NE(test, lfq_shared_need_space(q), 0U);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 2, &got));
	KUNIT_EXPECT_TRUE(test, lfq_spsc_release_check(&kt->c, 2));
	KUNIT_EXPECT_EQ(test, lfq_arm_space_wait(&q->ring, 1), 2U);
	WRITE_ONCE(q->ring.prod->need_space, 0);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 1, &got));
	KUNIT_EXPECT_FALSE(test, lfq_spsc_release_check(&kt->c, 1));
	/* Only the waker clears a flag: the last arm's need_data stands. */
	KUNIT_EXPECT_NE(test, lfq_shared_need_data(q), 0U);
}

/*
 * Wakeup thresholds (ORDERING wake-threshold): a sleeper arms its flag with
 * the slots it waits for, lowering it; a publish reports the sleeper only
 * once that many are ready, and a flag of 1, or one larger than the ring
 * (forged), on every publish.
 */
static void lfq_spsc_wake_threshold_test(struct kunit *test)
{
	struct lfq_kt *kt = lfq_kt_open(test, 64, 64);
	struct lfq_queue *q = kt->q;
	u32 got, i;

	/* Data: armed for 3, reported at the third slot and after. */
	KUNIT_EXPECT_EQ(test, lfq_spsc_arm_data_wait(&q->ring, 3), 0U);
	KUNIT_EXPECT_EQ(test, lfq_shared_need_data(q), 3U);
	for (i = 1; i <= 4; i++) {
		KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
		KUNIT_EXPECT_EQ(test, lfq_spsc_commit_check(&kt->p, 1), i >= 3);
	}

	/* The flag holds the least any sleeper wants; 0 arms as 1. */
	WRITE_ONCE(q->ring.cons->need_data, 0);
	lfq_arm_flag(&q->ring.cons->need_data, 9);
	KUNIT_EXPECT_EQ(test, lfq_shared_need_data(q), 9U);
	lfq_arm_flag(&q->ring.cons->need_data, 6);
	lfq_arm_flag(&q->ring.cons->need_data, 12);
	KUNIT_EXPECT_EQ(test, lfq_shared_need_data(q), 6U);
	lfq_arm_flag(&q->ring.cons->need_data, 0);
	KUNIT_EXPECT_EQ(test, lfq_shared_need_data(q), 1U);

	/* Data: 4 readable, armed for 6: reported at the sixth. */
	WRITE_ONCE(q->ring.cons->need_data, 6);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	KUNIT_EXPECT_FALSE(test, lfq_spsc_commit_check(&kt->p, 1));
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	KUNIT_EXPECT_TRUE(test, lfq_spsc_commit_check(&kt->p, 1));
	/* A forged flag above the ring's size wakes on every commit. */
	WRITE_ONCE(q->ring.cons->need_data, kt->n + 1);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	KUNIT_EXPECT_TRUE(test, lfq_spsc_commit_check(&kt->p, 1));
	WRITE_ONCE(q->ring.cons->need_data, 0xffffffffU);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_reserve(&kt->p, 1, &got));
	KUNIT_EXPECT_TRUE(test, lfq_spsc_commit_check(&kt->p, 1));
	WRITE_ONCE(q->ring.cons->need_data, 0);

	/* Space: full ring, armed for 4, reported at the fourth release. */
	for (i = 8; i < kt->n; i++)
		KUNIT_ASSERT_TRUE(test, lfq_kt_push(kt, i));
	KUNIT_EXPECT_EQ(test, lfq_arm_space_wait(&q->ring, 4), 0U);
	KUNIT_EXPECT_EQ(test, lfq_shared_need_space(q), 4U);
	for (i = 1; i <= 5; i++) {
		KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 1, &got));
		KUNIT_EXPECT_EQ(test, lfq_spsc_release_check(&kt->c, 1), i >= 4);
	}
	/* A flag of 1 reports every release. */
	WRITE_ONCE(q->ring.prod->need_space, 1);
	KUNIT_ASSERT_NOT_NULL(test, lfq_spsc_peek(&kt->c, 1, &got));
	KUNIT_EXPECT_TRUE(test, lfq_spsc_release_check(&kt->c, 1));
	WRITE_ONCE(q->ring.prod->need_space, 0);
}

static struct kunit_case lfq_spsc_cases[] = {
	KUNIT_CASE(lfq_spsc_empty_peek_test),
	KUNIT_CASE(lfq_spsc_fill_test),
	KUNIT_CASE(lfq_spsc_wrap_many_test),
	KUNIT_CASE(lfq_spsc_u64_wrap_test),
	KUNIT_CASE(lfq_spsc_double_map_test),
	KUNIT_CASE(lfq_spsc_commit_clamp_test),
	KUNIT_CASE(lfq_spsc_release_clamp_test),
	KUNIT_CASE(lfq_spsc_wakeup_flags_test),
	KUNIT_CASE(lfq_spsc_wake_threshold_test),
	{}
};

static struct kunit_suite lfq_spsc_suite = {
	.name = "lfq_spsc",
	.test_cases = lfq_spsc_cases,
};

kunit_test_suite(lfq_spsc_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's SPSC ring protocol");
MODULE_LICENSE("GPL");
