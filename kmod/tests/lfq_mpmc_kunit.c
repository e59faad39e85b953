// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_mpmc_kunit.c - KUnit suite lfq_mpmc: MPMC queues in the module
 * (kmod/proto/lfq_mpmc.h, kmod/core/lfq_cclaims.c). The layout (release
 * words right after the commit words, in the consumer-writable part), two
 * consumers claiming and releasing out of order, and consumer crash
 * safety: a consumer's claim that dies holding slots has them released
 * and counted as lost; a partly released claim loses only the rest; a
 * dead record that a live consumer's claim covers is recovered only once
 * the live one has released, and one that a live consumer's stale record
 * covers once that record moves on; claim indices come back for reuse;
 * and forged records never make the recovery touch anything but release
 * words at masked indices, one ring below the claim index at most.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/jiffies.h>
#include <linux/module.h>

#include "core/lfq_cclaims.h"
#include "lfq_kunit_util.h"
#include "proto/lfq_mpmc.h"

#define LFQ_MPMC_N	64u

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

/* An MPMC queue, a producer view, and two consumers with claims. */
struct lfq_mc {
	struct lfq_queue *q;
	struct lfq_mpsc_prod p;
	struct lfq_mpmc_cons c[2];
	DECLARE_BITMAP(held[2], LFQ_MPMC_CLAIMS);
	int idx[2];
};

static struct lfq_mc *lfq_mc_open(struct kunit *test)
{
	struct lfq_mc *mc = kunit_kzalloc(test, sizeof(*mc), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, mc);
	mc->q = lfq_kunit_queue(test, LFQ_TYPE_MPMC, 64, LFQ_MPMC_N);
	lfq_mpsc_prod_init(&mc->p, &mc->q->ring);
	for (i = 0; i < 2; i++) {
		mc->idx[i] = lfq_cclaim_register(mc->q, mc->held[i]);
		KUNIT_ASSERT_GE(test, mc->idx[i], 0);
		lfq_mpmc_cons_init(&mc->c[i], &mc->q->ring);
		lfq_mpmc_cons_set_claim(&mc->c[i],
					&mc->q->ring.cons->claims[mc->idx[i]]);
	}
	return mc;
}

/* Commit @n records, each holding its index. */
static void lfq_mc_push(struct kunit *test, struct lfq_mc *mc, u32 n)
{
	struct lfq_mpsc_resv r = {};
	unsigned char *s = lfq_mpsc_reserve(&mc->p, n, &r);
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_EQ(test, r.count, n);
	for (i = 0; i < n; i++)
		lfq_rec_fill(s + i * 64, 64, r.index + i);
	lfq_mpsc_commit(&mc->p, &r);
}

static u64 lfq_mc_lost(struct lfq_mc *mc)
{
	return atomic64_read(&mc->q->lost);
}

static u64 lfq_mc_release_word(struct lfq_mc *mc, u64 i)
{
	return READ_ONCE(mc->q->ring.release[i & (LFQ_MPMC_N - 1)]);
}

static void lfq_mpmc_layout_test(struct kunit *test)
{
	struct lfq_mc *mc = lfq_mc_open(test);
	const struct lfq_layout *l = &mc->q->layout;
	u64 off, size;

	KUNIT_EXPECT_EQ(test, l->release_offset,
			l->commit_offset + l->commit_size);
	KUNIT_EXPECT_EQ(test, l->release_size, l->commit_size);
	KUNIT_EXPECT_EQ(test, l->data_offset,
			l->release_offset + l->release_size);
	KUNIT_EXPECT_PTR_EQ(test, (void *)mc->q->ring.release,
			    (void *)((u8 *)mc->q->base + l->release_offset));
	KUNIT_EXPECT_EQ(test, lfq_layout_part(l, LFQ_PART_RELEASE, &off, &size),
			(u32)LFQ_ROLE_CONSUMER);
	KUNIT_EXPECT_EQ(test, off, l->release_offset);
	KUNIT_EXPECT_EQ(test, size, l->release_size);
}

/* Two consumers claim runs in turn and release them out of order. */
static void lfq_mpmc_two_consumers_test(struct kunit *test)
{
	struct lfq_mc *mc = lfq_mc_open(test);
	struct lfq_mpmc_take a, b;
	const unsigned char *sa, *sb;
	struct lfq_mpsc_resv r = {};

	lfq_mc_push(test, mc, LFQ_MPMC_N);
	sa = lfq_mpmc_claim(&mc->c[0], 40, &a);
	sb = lfq_mpmc_claim(&mc->c[1], 40, &b);
	KUNIT_ASSERT_EQ(test, a.count, 40U);
	KUNIT_ASSERT_EQ(test, b.count, 24U);
	KUNIT_EXPECT_EQ(test, b.index, 40ULL);
	KUNIT_EXPECT_TRUE(test, lfq_rec_ok(sa, 64, 0));
	KUNIT_EXPECT_TRUE(test, lfq_rec_ok(sb, 64, 40));
	/* The ring is full until the first slots are released. */
	lfq_mpmc_release(&mc->c[1], &b);
	KUNIT_EXPECT_NULL(test, lfq_mpsc_reserve(&mc->p, 1, &r));
	lfq_mpmc_release(&mc->c[0], &a);
	KUNIT_EXPECT_NOT_NULL(test, lfq_mpsc_reserve(&mc->p, LFQ_MPMC_N, &r));
	KUNIT_EXPECT_EQ(test, r.count, LFQ_MPMC_N);
	lfq_mpsc_commit(&mc->p, &r);
	KUNIT_EXPECT_EQ(test, lfq_mc_lost(mc), 0ULL);
}

/* A consumer dies holding a claim: its slots are released, counted. */
static void lfq_mpmc_dead_consumer_test(struct kunit *test)
{
	struct lfq_mc *mc = lfq_mc_open(test);
	struct lfq_mpmc_take a, b, part;
	struct lfq_mpsc_resv r = {};
	u64 i;

	lfq_mc_push(test, mc, LFQ_MPMC_N);
	lfq_mpmc_claim(&mc->c[0], 5, &a);
	lfq_mpmc_claim(&mc->c[1], 7, &b);
	KUNIT_ASSERT_EQ(test, a.count, 5U);
	KUNIT_ASSERT_EQ(test, b.count, 7U);
	/* B releases its first 3 slots, then both die. */
	part = b;
	part.count = 3;
	lfq_mpmc_release(&mc->c[1], &part);
	lfq_cclaims_drop(mc->q, mc->held[0]);
	lfq_cclaims_drop(mc->q, mc->held[1]);
	KUNIT_EXPECT_TRUE(test, bitmap_empty(mc->held[0], LFQ_MPMC_CLAIMS));
	KUNIT_EXPECT_TRUE(test, lfq_el_poll(lfq_mc_lost(mc) == 9, 2000));
	KUNIT_EXPECT_EQ(test, lfq_mc_lost(mc), 9ULL);
	for (i = 0; i < 12; i++)
		KUNIT_EXPECT_EQ(test, lfq_mc_release_word(mc, i), i + 1);
	/* Nothing past the claims is touched. */
	KUNIT_EXPECT_EQ(test, lfq_mc_release_word(mc, 12), 0ULL);
	/* The producers get those slots back, and only those. */
	KUNIT_EXPECT_NOT_NULL(test, lfq_mpsc_reserve(&mc->p, LFQ_MPMC_N, &r));
	KUNIT_EXPECT_EQ(test, r.count, 12U);
	lfq_mpsc_commit(&mc->p, &r);
	/* Both indices are free again. */
	KUNIT_EXPECT_GE(test, lfq_cclaim_register(mc->q, mc->held[0]), 0);
	KUNIT_EXPECT_GE(test, lfq_cclaim_register(mc->q, mc->held[1]), 0);
}

/*
 * D wrote its record and died before its compare-and-swap; L claimed the
 * same slots. Recovery must wait while L holds them, and then leave them:
 * L released them, nothing is lost.
 */
static void lfq_mpmc_covered_test(struct kunit *test)
{
	struct lfq_mc *mc = lfq_mc_open(test);
	struct lfq_mpsc_claim *d = &mc->q->ring.cons->claims[mc->idx[0]];
	struct lfq_mpmc_take l;

	lfq_mc_push(test, mc, 8);
	WRITE_ONCE(d->start, 0);
	WRITE_ONCE(d->end, 4);
	lfq_mpmc_claim(&mc->c[1], 4, &l);
	KUNIT_ASSERT_EQ(test, l.count, 4U);
	lfq_cclaims_drop(mc->q, mc->held[0]);
	/* A run of the recovery has happened, and found them covered. */
	lfq_cclaims_flush(mc->q);
	KUNIT_EXPECT_EQ(test, lfq_mc_lost(mc), 0ULL);
	KUNIT_EXPECT_EQ(test, lfq_mc_release_word(mc, 0), 0ULL);
	/* The index stays taken while its recovery is pending. */
	KUNIT_EXPECT_NE(test, lfq_cclaim_register(mc->q, mc->held[0]),
			mc->idx[0]);
	lfq_mpmc_release(&mc->c[1], &l);
	/* The next run finds them released: done, the index is free. */
	lfq_cclaims_flush(mc->q);
	KUNIT_EXPECT_EQ(test, lfq_cclaim_register(mc->q, mc->held[0]),
			mc->idx[0]);
	KUNIT_EXPECT_EQ(test, lfq_mc_lost(mc), 0ULL);
	KUNIT_EXPECT_EQ(test, lfq_mc_release_word(mc, 3), 4ULL);
}

/*
 * D really holds 4 slots when it dies, and L's record still covers them
 * (written before a compare-and-swap that failed): the recovery waits,
 * and releases them once L's record moves on to its next claim.
 */
static void lfq_mpmc_stale_cover_test(struct kunit *test)
{
	struct lfq_mc *mc = lfq_mc_open(test);
	struct lfq_mpsc_claim *l = &mc->q->ring.cons->claims[mc->idx[1]];
	struct lfq_mpmc_take d, next;

	lfq_mc_push(test, mc, 8);
	lfq_mpmc_claim(&mc->c[0], 4, &d);
	KUNIT_ASSERT_EQ(test, d.count, 4U);
	WRITE_ONCE(l->start, 0);
	WRITE_ONCE(l->end, 4);
	lfq_cclaims_drop(mc->q, mc->held[0]);
	lfq_cclaims_flush(mc->q);
	KUNIT_EXPECT_EQ(test, lfq_mc_lost(mc), 0ULL);
	KUNIT_EXPECT_EQ(test, lfq_mc_release_word(mc, 0), 0ULL);
	lfq_mpmc_claim(&mc->c[1], 4, &next);
	KUNIT_ASSERT_EQ(test, next.index, 4ULL);
	lfq_cclaims_flush(mc->q);
	KUNIT_EXPECT_EQ(test, lfq_mc_lost(mc), 4ULL);
	KUNIT_EXPECT_EQ(test, lfq_mc_release_word(mc, 3), 4ULL);
	KUNIT_EXPECT_EQ(test, lfq_mc_release_word(mc, 4), 0ULL);
	lfq_mpmc_release(&mc->c[1], &next);
}

/*
 * Forged records: a live record and the dead one's range point far out
 * of the ring, reversed, or at unclaimed slots. The recovery clamps to
 * one ring and to the claim index, and only compares and sets release
 * words (KASAN would see anything else).
 */
static void lfq_mpmc_forged_test(struct kunit *test)
{
	struct lfq_mc *mc = lfq_mc_open(test);
	struct lfq_mpsc_claim *d = &mc->q->ring.cons->claims[mc->idx[0]];
	struct lfq_mpsc_claim *live = &mc->q->ring.cons->claims[mc->idx[1]];
	struct lfq_mpmc_take t;
	u64 i;

	lfq_mc_push(test, mc, 16);
	lfq_mpmc_claim(&mc->c[0], 6, &t);
	KUNIT_ASSERT_EQ(test, t.count, 6U);
	/* A forger: the live record is reversed, the dead one huge. */
	WRITE_ONCE(live->start, 100);
	WRITE_ONCE(live->end, 50);
	WRITE_ONCE(d->start, 2);
	WRITE_ONCE(d->end, 2 + (1ULL << 40));
	lfq_cclaims_drop(mc->q, mc->held[0]);
	KUNIT_EXPECT_TRUE(test, lfq_el_poll(lfq_mc_lost(mc) == 4, 2000));
	/* Slots 2..5: below the claim index; 0, 1 and 6.. are not its. */
	for (i = 0; i < 16; i++)
		KUNIT_EXPECT_EQ(test, lfq_mc_release_word(mc, i),
				i >= 2 && i < 6 ? i + 1 : 0ULL);
	KUNIT_EXPECT_EQ(test, lfq_mc_lost(mc), 4ULL);
}

/* Registration: LFQ_MPMC_CLAIMS at most, and only on MPMC queues. */
static void lfq_mpmc_register_test(struct kunit *test)
{
	struct lfq_queue *mpsc = lfq_kunit_queue(test, LFQ_TYPE_MPSC, 64, 64);
	struct lfq_mc *mc = lfq_mc_open(test);
	DECLARE_BITMAP(held, LFQ_MPMC_CLAIMS) = {};
	int i, n = 2;

	KUNIT_EXPECT_EQ(test, lfq_cclaim_register(mpsc, held), -EINVAL);
	while (lfq_cclaim_register(mc->q, held) >= 0)
		n++;
	KUNIT_EXPECT_EQ(test, n, LFQ_MPMC_CLAIMS);
	KUNIT_EXPECT_EQ(test, lfq_cclaim_register(mc->q, held), -ENOSPC);
	KUNIT_EXPECT_EQ(test, lfq_cclaim_unregister(mc->q, held, mc->idx[0]),
			-EINVAL);
	i = find_first_bit(held, LFQ_MPMC_CLAIMS);
	KUNIT_EXPECT_EQ(test, lfq_cclaim_unregister(mc->q, held, i), 0);
	KUNIT_EXPECT_EQ(test, lfq_cclaim_unregister(mc->q, held, i), -EINVAL);
	/* Once its (empty) recovery is done, the index is free again. */
	KUNIT_EXPECT_TRUE(test,
			  lfq_el_poll(lfq_cclaim_register(mc->q, held) == i,
				      2000));
	lfq_cclaims_drop(mc->q, held);
}

static struct kunit_case lfq_mpmc_cases[] = {
	KUNIT_CASE(lfq_mpmc_layout_test),
	KUNIT_CASE(lfq_mpmc_two_consumers_test),
	KUNIT_CASE(lfq_mpmc_dead_consumer_test),
	KUNIT_CASE(lfq_mpmc_covered_test),
	KUNIT_CASE(lfq_mpmc_stale_cover_test),
	KUNIT_CASE(lfq_mpmc_forged_test),
	KUNIT_CASE(lfq_mpmc_register_test),
	{}
};

static struct kunit_suite lfq_mpmc_suite = {
	.name = "lfq_mpmc",
	.test_cases = lfq_mpmc_cases,
};

kunit_test_suite(lfq_mpmc_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's MPMC queues and consumer recovery");
MODULE_LICENSE("GPL");
