// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_rec_kunit.c - KUnit suite lfq_rec: record queues (LFQ_CREATE_RECORDS)
 * in the kernel. The in-kernel producer API (lfq_queue_rec_reserve(),
 * _commit(), _discard()): lengths from 1 byte to the limit, whole and in
 * order over many laps, out-of-order commits, discards skipped, refusals
 * counted as drops; producers in kernel threads and a hardirq timer at
 * once, every record exactly once. The recovery of a dead producer's
 * record (kmod/core/lfq_claims.c): discarded with the length of its dead
 * claim, held while a live claim covers it, the right end chosen when two
 * dead claims disagree, no stale claim left by a live producer's failed
 * reservation. Forged heads and tails make reservations fail,
 * never write outside the ring, nor onto a record a kernel producer still
 * writes (the lap guard). The in-kernel consumer of record queues
 * (lfq_consumer_rec_peek(), _release(), _consume()). NMI producers: the
 * suite lfq_rec_nmi, and tests/vm/rec_sources.c (SYNTH with
 * LFQ_SOURCE_SYNTH_NMI into a record queue).
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched/task.h>

#include "core/lfq_claims.h"
#include "lfq_kunit_util.h"
#include "proto/lfq_rec.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define REC_RING	4096u

static struct lfq_queue *rec_queue(struct kunit *test, u32 bytes)
{
	struct lfq_geometry g = {
		.type = LFQ_TYPE_MPSC, .flags = LFQ_CREATE_RECORDS,
		.slot_size = 1, .slot_count = bytes,
	};

	return lfq_kunit_queue_geo(test, &g);
}

/* A consumer view of @q's ring, as a process consumer has. */
static void rec_cons(struct lfq_queue *q, struct lfq_rec_cons *c)
{
	struct lfq_rec_ring rr;

	lfq_rec_ring_init(&rr, &q->ring);
	lfq_rec_cons_init(c, &rr);
}

/* Fill @len bytes from @id; check them. */
static void rec_fill_id(u8 *p, u32 len, u64 id)
{
	u32 i;

	for (i = 0; i < len; i++)
		p[i] = (u8)(id * 131 + i * 7 + (id >> 8));
}

static bool rec_id_ok(const u8 *p, u32 len, u64 id)
{
	u32 i;

	for (i = 0; i < len; i++)
		if (p[i] != (u8)(id * 131 + i * 7 + (id >> 8)))
			return false;
	return true;
}

/* One record of @len bytes filled from @id, committed. */
static bool rec_put(struct lfq_queue *q, u32 len, u64 id)
{
	struct lfq_rec_kresv r;
	u8 *p = lfq_queue_rec_reserve(q, len, &r);

	if (!p)
		return false;
	rec_fill_id(p, len, id);
	lfq_queue_rec_commit(q, &r);
	return true;
}

/* The next record must be @len bytes from @id. */
static bool rec_get(struct lfq_rec_cons *c, u32 len, u64 id)
{
	u32 got = 0;
	const u8 *p = lfq_rec_peek(c, &got);
	bool ok = p && got == len && rec_id_ok(p, len, id);

	if (p)
		lfq_rec_release(c);
	return ok;
}

static u32 rec_len_of(u64 id, u32 max)
{
	return 1 + (u32)((id * 2654435761u) % (id % 5 ? 96 : max));
}

static void lfq_rec_kapi_test(struct kunit *test)
{
	struct lfq_queue *q = rec_queue(test, REC_RING);
	struct lfq_queue *slots = lfq_kunit_queue(test, LFQ_TYPE_MPSC, 64, 64);
	u32 max = lfq_rec_max_len(REC_RING), len, i;
	struct lfq_rec_kresv a, b;
	struct lfq_mpsc_resv sr;
	struct lfq_rec_cons c;
	struct lfq_stats st;
	u64 id = 0, drained = 0;

	KUNIT_ASSERT_EQ(test, max, LFQ_REC_MAX_LEN(REC_RING));
	rec_cons(q, &c);
	/* Refusals: lengths out of range drop (counted); wrong queue types. */
	KUNIT_EXPECT_NULL(test, lfq_queue_rec_reserve(q, 0, &a));
	KUNIT_EXPECT_NULL(test, lfq_queue_rec_reserve(q, max + 1, &a));
	KUNIT_EXPECT_NULL(test, lfq_queue_rec_reserve(slots, 8, &a));
	KUNIT_EXPECT_NULL(test, lfq_queue_reserve(q, 1, &sr));
	lfq_queue_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.dropped, 2);

	/* Out of order: B committed first is held back until A is. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_queue_rec_reserve(q, 10, &a));
	KUNIT_ASSERT_NOT_NULL(test, lfq_queue_rec_reserve(q, 20, &b));
	lfq_queue_rec_commit(q, &b);
	KUNIT_EXPECT_NULL(test, lfq_rec_peek(&c, &len));
	lfq_queue_rec_discard(q, &a);
	KUNIT_EXPECT_NOT_NULL(test, lfq_rec_peek(&c, &len));
	KUNIT_EXPECT_EQ(test, len, 20);
	KUNIT_EXPECT_EQ(test, c.discarded, 1);
	lfq_rec_release(&c);

	/* 200 laps of the ring: every record whole, in order. */
	for (i = 0; i < 200 * REC_RING / 64; i++) {
		while (!rec_put(q, rec_len_of(id, max), id)) {
			len = rec_len_of(drained, max);
			KUNIT_ASSERT_TRUE(test, rec_get(&c, len, drained));
			drained++;
		}
		id++;
	}
	while (drained < id) {
		KUNIT_ASSERT_TRUE(test, rec_get(&c, rec_len_of(drained, max),
						drained));
		drained++;
	}
	KUNIT_EXPECT_NULL(test, lfq_rec_peek(&c, &len));
	KUNIT_EXPECT_EQ(test, c.corrupt, 0);
	KUNIT_EXPECT_GT(test, *q->ring.tail, 100ull * REC_RING);
}

/* ---------------------------------------------------------------------- */

/*
 * A process producer's record, made with a claim in the producer page
 * (as liblfq makes them), left uncommitted: what a producer killed
 * holding it leaves.
 */
static void *rec_claimed(struct lfq_queue *q, u32 claim, u32 len,
			 struct lfq_rec_resv *r)
{
	struct lfq_rec_ring rr;
	struct lfq_rec_prod p;

	lfq_rec_ring_init(&rr, &q->ring);
	lfq_rec_prod_init(&p, &rr, 1);
	p.claim = &q->ring.prod->claims[claim];
	return lfq_rec_reserve(&p, len, r);
}

/* Its commit, through a view with its claim (as liblfq's). */
static void rec_commit_claimed(struct lfq_queue *q, u32 claim,
			       struct lfq_rec_resv *r)
{
	struct lfq_rec_ring rr;
	struct lfq_rec_prod p;

	lfq_rec_ring_init(&rr, &q->ring);
	lfq_rec_prod_init(&p, &rr, 1);
	p.claim = &q->ring.prod->claims[claim];
	lfq_rec_commit(&p, r);
}

/*
 * Two producers' claims, registered as two files would (each its own set
 * of claims, so that one can die alone), in @a and @b; their indices.
 */
static void rec_two_claims(struct kunit *test, struct lfq_queue *q,
			   unsigned long *a, unsigned long *b, int *ca, int *cb)
{
	bitmap_zero(a, LFQ_MPSC_CLAIMS);
	bitmap_zero(b, LFQ_MPSC_CLAIMS);
	*ca = lfq_claim_register(q, a);
	*cb = lfq_claim_register(q, b);
	KUNIT_ASSERT_GE(test, *ca, 0);
	KUNIT_ASSERT_GE(test, *cb, 0);
}

/* Run the scan until nothing is left to retry (a covered record waits). */
static void rec_scan(struct lfq_queue *q)
{
	int i;

	for (i = 0; i < 4; i++) {
		lfq_claims_flush(q);
		msleep(150);	/* past LFQ_ORPHAN_DELAY_MAX */
	}
	lfq_claims_flush(q);
}

static void lfq_rec_recover_test(struct kunit *test)
{
	struct lfq_queue *q = rec_queue(test, REC_RING);
	DECLARE_BITMAP(dead, LFQ_MPSC_CLAIMS);
	DECLARE_BITMAP(live, LFQ_MPSC_CLAIMS);
	struct lfq_rec_resv d, l;
	struct lfq_rec_cons c;
	struct lfq_stats st;
	u32 len;
	int cd, cl;

	rec_two_claims(test, q, live, dead, &cl, &cd);
	rec_cons(q, &c);

	/* A live producer's record, then a dead one's, then a kernel one. */
	KUNIT_ASSERT_NOT_NULL(test, rec_claimed(q, cl, 40, &l));
	KUNIT_ASSERT_NOT_NULL(test, rec_claimed(q, cd, 300, &d));
	KUNIT_ASSERT_TRUE(test, rec_put(q, 77, 5));
	lfq_claims_drop(q, dead);
	rec_scan(q);
	/* The live one holds the walk: the dead one is not discarded yet. */
	lfq_queue_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.orphaned, 0);
	KUNIT_EXPECT_NULL(test, lfq_rec_peek(&c, &len));

	/* Once it commits, the next scan discards the dead record. */
	rec_commit_claimed(q, cl, &l);
	lfq_claims_drop(q, live);
	rec_scan(q);
	lfq_queue_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.orphaned, 1);
	KUNIT_EXPECT_NOT_NULL(test, lfq_rec_peek(&c, &len));
	KUNIT_EXPECT_EQ(test, len, 40);
	lfq_rec_release(&c);
	KUNIT_EXPECT_TRUE(test, rec_get(&c, 77, 5));
	KUNIT_EXPECT_EQ(test, c.discarded, 1);
	KUNIT_EXPECT_EQ(test, c.corrupt, 0);
}

/*
 * Two producers died: one had won the compare-and-swap at a position
 * (its record is there, uncommitted), the other had claimed the same
 * position for a compare-and-swap it lost, with another length. The
 * walk takes the winner's end: its claim is marked won
 * (LFQ_REC_CLAIM_WON); or, with @unmark (the winner died before it
 * marked), the end the next record confirms.
 */
static void rec_ambiguous(struct kunit *test, bool unmark)
{
	struct lfq_queue *q = rec_queue(test, REC_RING);
	DECLARE_BITMAP(a, LFQ_MPSC_CLAIMS);
	DECLARE_BITMAP(b, LFQ_MPSC_CLAIMS);
	struct lfq_mpsc_claim *stale;
	struct lfq_rec_resv d;
	struct lfq_rec_cons c;
	struct lfq_stats st;
	int ca, cb;

	rec_two_claims(test, q, a, b, &ca, &cb);
	rec_cons(q, &c);
	KUNIT_ASSERT_NOT_NULL(test, rec_claimed(q, ca, 100, &d));
	KUNIT_EXPECT_EQ(test, READ_ONCE(q->ring.prod->claims[ca].start),
			d.pos | LFQ_REC_CLAIM_WON | LFQ_REC_CLAIM_HELD);
	if (unmark)
		WRITE_ONCE(q->ring.prod->claims[ca].start, d.pos);
	/* The loser's claim: the same start, a shorter record. */
	stale = &q->ring.prod->claims[cb];
	WRITE_ONCE(stale->start, d.pos);
	WRITE_ONCE(stale->end, d.pos + lfq_rec_size(16));
	KUNIT_ASSERT_TRUE(test, rec_put(q, 50, 9));
	lfq_claims_drop(q, b);
	lfq_claims_drop(q, a);
	rec_scan(q);
	lfq_queue_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.orphaned, 1);
	KUNIT_EXPECT_TRUE(test, rec_get(&c, 50, 9));
	KUNIT_EXPECT_EQ(test, c.discarded, 1);
	KUNIT_EXPECT_EQ(test, c.corrupt, 0);
}

static void lfq_rec_recover_ambiguous_test(struct kunit *test)
{
	rec_ambiguous(test, false);
}

static void lfq_rec_recover_unmarked_test(struct kunit *test)
{
	rec_ambiguous(test, true);
}

/*
 * A live producer whose compare-and-swap lost to one that then died, and
 * whose next try found the ring full: its failed reservation empties its
 * claim (lfq_rec_unclaim()), or the claim would cover the dead record and
 * hold the recovery until it reserved again, which waits for the space
 * the recovery frees.
 */
static void lfq_rec_unclaim_test(struct kunit *test)
{
	struct lfq_queue *q = rec_queue(test, REC_RING);
	DECLARE_BITMAP(dead, LFQ_MPSC_CLAIMS);
	DECLARE_BITMAP(live, LFQ_MPSC_CLAIMS);
	struct lfq_mpsc_claim *lc;
	struct lfq_rec_resv d, l;
	struct lfq_rec_cons c;
	struct lfq_stats st;
	u64 n = 0, i, start, end;
	int cd, cl;

	rec_two_claims(test, q, dead, live, &cd, &cl);
	rec_cons(q, &c);
	KUNIT_ASSERT_NOT_NULL(test, rec_claimed(q, cd, 200, &d));
	while (rec_put(q, 64, n))
		n++;
	/* The live claim as its lost compare-and-swap left it. */
	lc = &q->ring.prod->claims[cl];
	WRITE_ONCE(lc->start, d.pos);
	WRITE_ONCE(lc->end, d.pos + lfq_rec_size(100));
	KUNIT_EXPECT_NULL(test, rec_claimed(q, cl, 64, &l));
	start = READ_ONCE(lc->start);
	end = READ_ONCE(lc->end);
	KUNIT_EXPECT_EQ(test, end, start);
	lfq_claims_drop(q, dead);
	rec_scan(q);
	lfq_queue_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.orphaned, 1);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_TRUE(test, rec_get(&c, 64, i));
	KUNIT_EXPECT_EQ(test, c.discarded, 1);
}

/* ---------------------------------------------------------------------- */

#define MT_THREADS	2
#define MT_PER		20000u
#define MT_TIMER	(MT_THREADS)	/* producer id of the timer */

/**
 * struct rec_mt - kernel threads and a hardirq timer producing at once.
 * @q:		the queue.
 * @timer:	the hardirq producer.
 * @seq:	each producer's next sequence number.
 * @stop:	set when the consumer is done.
 * @drops:	reservations that found the ring full.
 */
struct rec_mt {
	struct lfq_queue *q;
	struct hrtimer timer;
	u64 seq[MT_THREADS + 1];
	atomic_t stop;
	atomic64_t drops;
};

/* One record: producer, sequence, then filler of a length from both. */
static bool rec_mt_put(struct rec_mt *m, u32 who)
{
	u64 seq = m->seq[who], id = (u64)who << 40 | seq;
	u32 len = 16 + (u32)(id % 200);
	struct lfq_rec_kresv r;
	u64 *p = lfq_queue_rec_reserve(m->q, len, &r);

	if (!p) {
		atomic64_inc(&m->drops);
		return false;
	}
	p[0] = id;
	rec_fill_id((u8 *)(p + 1), len - 8, id);
	lfq_queue_rec_commit(m->q, &r);
	m->seq[who]++;
	return true;
}

static enum hrtimer_restart rec_mt_timer(struct hrtimer *t)
{
	struct rec_mt *m = container_of(t, struct rec_mt, timer);
	int i;

	for (i = 0; i < 8 && m->seq[MT_TIMER] < MT_PER; i++)
		rec_mt_put(m, MT_TIMER);
	if (m->seq[MT_TIMER] >= MT_PER || atomic_read(&m->stop))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(20000));
	return HRTIMER_RESTART;
}

struct rec_mt_thread {
	struct rec_mt *m;
	u32 who;
};

static int rec_mt_thread(void *arg)
{
	struct rec_mt_thread *t = arg;

	while (t->m->seq[t->who] < MT_PER && !atomic_read(&t->m->stop))
		if (!rec_mt_put(t->m, t->who))
			cond_resched();
	return 0;
}

static void lfq_rec_contexts_test(struct kunit *test)
{
	struct rec_mt *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	struct rec_mt_thread th[MT_THREADS];
	struct task_struct *task[MT_THREADS];
	u64 next[MT_THREADS + 1] = { 0 }, got = 0, bad = 0, id;
	unsigned long deadline = jiffies + 60 * HZ;
	struct lfq_rec_cons c;
	const u64 *p;
	u32 len, i, who;

	KUNIT_ASSERT_NOT_NULL(test, m);
	m->q = rec_queue(test, 8 * REC_RING);
	rec_cons(m->q, &c);
	hrtimer_init(&m->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	m->timer.function = rec_mt_timer;
	for (i = 0; i < MT_THREADS; i++) {
		th[i] = (struct rec_mt_thread){ m, i };
		task[i] = kthread_run(rec_mt_thread, &th[i], "lfq-rec-%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task[i]));
		get_task_struct(task[i]);
	}
	hrtimer_start(&m->timer, ns_to_ktime(20000), HRTIMER_MODE_REL_HARD);
	while (got < (MT_THREADS + 1) * MT_PER &&
	       time_before(jiffies, deadline)) {
		p = lfq_rec_peek(&c, &len);
		if (!p) {
			cond_resched();
			continue;
		}
		id = p[0];
		who = (u32)(id >> 40);
		if (len < 16 || who > MT_TIMER ||
		    (id & ((1ull << 40) - 1)) != next[who] ||
		    len != 16 + (u32)(id % 200) ||
		    !rec_id_ok((const u8 *)(p + 1), len - 8, id))
			bad++;
		else
			next[who]++;
		got++;
		lfq_rec_release(&c);
	}
	atomic_set(&m->stop, 1);
	hrtimer_cancel(&m->timer);
	for (i = 0; i < MT_THREADS; i++) {
		kthread_stop(task[i]);
		put_task_struct(task[i]);
	}
	KUNIT_EXPECT_EQ(test, got, (MT_THREADS + 1) * MT_PER);
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, c.corrupt, 0);
	/* Honest producers: the lap guard never refused one. */
	KUNIT_EXPECT_EQ(test, atomic64_read(&m->q->lap_refused), 0);
	kunit_info(test, "%llu records from %u threads and a hardirq timer, %lld full rings met",
		   got, MT_THREADS, (s64)atomic64_read(&m->drops));
}

/* ---------------------------------------------------------------------- */

/* Forged heads and tails: reservations fail; nothing outside is written. */
static void lfq_rec_forged_test(struct kunit *test)
{
	struct lfq_queue *q = rec_queue(test, REC_RING);
	u64 *head = q->ring.head, *tail = q->ring.tail;
	struct lfq_rec_kresv r;
	struct lfq_stats st;

	WRITE_ONCE(*head, 12);			/* unaligned */
	KUNIT_EXPECT_NULL(test, lfq_queue_rec_reserve(q, 8, &r));
	WRITE_ONCE(*head, 0);
	WRITE_ONCE(*tail, 1ull << 40);		/* ahead of head */
	KUNIT_EXPECT_NULL(test, lfq_queue_rec_reserve(q, 8, &r));
	WRITE_ONCE(*tail, 0);
	WRITE_ONCE(*head, 2ull * REC_RING);	/* a ring ahead of tail */
	KUNIT_EXPECT_NULL(test, lfq_queue_rec_reserve(q, 8, &r));
	/* A tail moved forward by a ring less one record: one fits. */
	WRITE_ONCE(*head, REC_RING - 16);
	KUNIT_EXPECT_NOT_NULL(test, lfq_queue_rec_reserve(q, 8, &r));
	lfq_queue_rec_commit(q, &r);
	KUNIT_EXPECT_NULL(test, lfq_queue_rec_reserve(q, 8, &r));
	lfq_queue_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.dropped, 4);
	/* The commit landed in the ring, at head's place. */
	KUNIT_EXPECT_EQ(test, READ_ONCE(*(u64 *)(q->ring.data + REC_RING - 16)) &
			LFQ_REC_LEN_MASK, 8);
}

/*
 * With a record held at the ring's start and the ring filled honestly up
 * to it with 8-byte records (@n of them, the count checked), forge the
 * tail to head (a consumer that says it passed everything, the held
 * record too) and try 64 kernel reservations of 8 to 64 bytes. Returns
 * how many were refused; *@head is head before them.
 */
static u32 rec_forged_tries(struct kunit *test, struct lfq_queue *q, u32 *n,
			    u64 *head)
{
	struct lfq_rec_kresv r;
	u32 i, refused = 0;
	u8 *p;

	while (rec_put(q, 8, *n))
		(*n)++;
	KUNIT_EXPECT_EQ(test, *n, (REC_RING - lfq_rec_size(64) - 16) / 16 + 1);
	*head = READ_ONCE(*q->ring.head);
	WRITE_ONCE(*q->ring.tail, *head);
	for (i = 0; i < 64; i++) {
		p = lfq_queue_rec_reserve(q, 8 + 8 * (i % 8), &r);
		if (!p) {
			refused++;
			continue;
		}
		lfq_queue_rec_commit(q, &r);
	}
	return refused;
}

/*
 * The lap guard (HOSTILE MEMORY H6): while a kernel producer holds a
 * record, the ring fills honestly up to it and no further; a tail forged
 * past it makes every reservation that would reach its bytes fail (a
 * drop), and its payload stays as written; once it is committed the
 * forged tail's room is used again.
 */
static void lfq_rec_lap_guard_test(struct kunit *test)
{
	struct lfq_queue *q = rec_queue(test, REC_RING);
	struct lfq_rec_kresv held;
	struct lfq_stats st;
	u64 head, now;
	u32 n = 0;
	u8 *a;

	a = lfq_queue_rec_reserve(q, 64, &held);
	KUNIT_ASSERT_NOT_NULL(test, a);
	rec_fill_id(a, 64, 77);
	/* Honest up to it, then the forged tail: every try refused. */
	KUNIT_EXPECT_EQ(test, rec_forged_tries(test, q, &n, &head), 64U);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lap_refused), 64);
	KUNIT_EXPECT_TRUE(test, rec_id_ok(a, 64, 77));
	now = READ_ONCE(*q->ring.head);
	KUNIT_EXPECT_EQ(test, now, head);
	lfq_queue_rec_commit(q, &held);
	/* Published: the forged room is the consumer's to lose again. */
	KUNIT_EXPECT_TRUE(test, rec_put(q, 8, n));
	lfq_queue_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.dropped, 1 + 64ULL);
}

/*
 * The same for a process producer's record (its claim registered in the
 * producer page and marked as liblfq's is): a tail forged past it makes
 * every kernel reservation that would reach its bytes fail, and its
 * payload stays as written; its commit takes LFQ_REC_CLAIM_HELD off the
 * claim (the range and LFQ_REC_CLAIM_WON stay) and the forged room is
 * used again, and honest laps past the committed record's claim are never
 * refused; nor are they past a claim marked won only, as an older
 * liblfq leaves its claim after every commit.
 */
static void lfq_rec_lap_guard_proc_test(struct kunit *test)
{
	struct lfq_queue *q = rec_queue(test, REC_RING);
	DECLARE_BITMAP(files, LFQ_MPSC_CLAIMS);
	struct lfq_rec_resv held;
	struct lfq_rec_cons c;
	struct lfq_stats st;
	u32 n = 0, i;
	u64 head;
	int cl;
	u8 *a;

	bitmap_zero(files, LFQ_MPSC_CLAIMS);
	cl = lfq_claim_register(q, files);
	KUNIT_ASSERT_GE(test, cl, 0);
	a = rec_claimed(q, cl, 64, &held);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_EQ(test, READ_ONCE(q->ring.prod->claims[cl].start),
			held.pos | LFQ_REC_CLAIM_WON | LFQ_REC_CLAIM_HELD);
	rec_fill_id(a, 64, 77);
	KUNIT_EXPECT_EQ(test, rec_forged_tries(test, q, &n, &head), 64U);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lap_refused), 64);
	KUNIT_EXPECT_TRUE(test, rec_id_ok(a, 64, 77));
	KUNIT_EXPECT_EQ(test, READ_ONCE(*q->ring.head), head);
	rec_commit_claimed(q, cl, &held);
	KUNIT_EXPECT_EQ(test, READ_ONCE(q->ring.prod->claims[cl].start),
			held.pos | LFQ_REC_CLAIM_WON);
	KUNIT_EXPECT_EQ(test, READ_ONCE(q->ring.prod->claims[cl].end),
			held.pos + lfq_rec_size(64));
	KUNIT_EXPECT_TRUE(test, rec_put(q, 8, n));
	/*
	 * Honest laps with the claim still registered (its range kept, the
	 * mark off): nothing is refused. A mark left on after the commit
	 * would refuse every reservation a lap past it.
	 */
	rec_cons(q, &c);
	KUNIT_EXPECT_TRUE(test, rec_get(&c, 8, n));
	for (i = 0; i < 3 * REC_RING / 64; i++) {
		if (!rec_put(q, 56, 1000 + i) || !rec_get(&c, 56, 1000 + i))
			break;
	}
	KUNIT_EXPECT_EQ(test, i, 3 * REC_RING / 64);
	/* An older liblfq's claim after its commits: won, never held. */
	WRITE_ONCE(q->ring.prod->claims[cl].start,
		   READ_ONCE(*q->ring.head) | LFQ_REC_CLAIM_WON);
	WRITE_ONCE(q->ring.prod->claims[cl].end,
		   READ_ONCE(*q->ring.head) + lfq_rec_size(56));
	KUNIT_EXPECT_TRUE(test, rec_put(q, 48, 7));
	KUNIT_EXPECT_TRUE(test, rec_get(&c, 48, 7));
	for (i = 0; i < 3 * REC_RING / 64; i++) {
		if (!rec_put(q, 56, 2000 + i) || !rec_get(&c, 56, 2000 + i))
			break;
	}
	KUNIT_EXPECT_EQ(test, i, 3 * REC_RING / 64);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lap_refused), 64);
	lfq_queue_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.dropped, 1 + 64ULL);
	lfq_claims_drop(q, files);
}

/*
 * Mark claim @cl pending at head for a 64-byte record, as lfq_rec_reserve()
 * does before its compare-and-swap; with @won, move head past the range
 * as that compare-and-swap does. Returns the range's start.
 */
static u64 rec_pend(struct lfq_queue *q, struct lfq_mpsc_claim *cl, bool won)
{
	u64 pos = READ_ONCE(*q->ring.head);

	WRITE_ONCE(cl->start, pos | LFQ_REC_CLAIM_HELD);
	WRITE_ONCE(cl->end, pos + lfq_rec_size(64));
	if (won)
		WRITE_ONCE(*q->ring.head, pos + lfq_rec_size(64));
	return pos;
}

/*
 * Up to @n kernel reservations of 56 bytes, each behind a tail forged to
 * head; returns how many were taken (and committed) before one failed.
 */
static u32 rec_forged_puts(struct lfq_queue *q, u32 n)
{
	struct lfq_rec_kresv r;
	u32 i;

	for (i = 0; i < n; i++) {
		WRITE_ONCE(*q->ring.tail, READ_ONCE(*q->ring.head));
		if (!lfq_queue_rec_reserve(q, 56, &r))
			break;
		lfq_queue_rec_commit(q, &r);
	}
	return i;
}

/*
 * A process producer's claim marked pending (LFQ_REC_CLAIM_HELD without
 * LFQ_REC_CLAIM_WON), as lfq_rec_reserve() stores it before its
 * compare-and-swap of head. Stale (head went on without it, so its CAS
 * fails): three honest laps past it refuse nothing, the mark is dropped
 * once a reservation reaches a lap past it, and a promotion then fails.
 * Won (head moved past its range, as its CAS does, before it promoted
 * the mark) with a tail forged past it: the kernel's reservations go
 * on, the mark is dropped, and the producer's promotion fails, so it
 * writes nothing in bytes the kernel took. A mark promoted first is
 * held: refused, and kept.
 */
static void lfq_rec_lap_guard_pending_test(struct kunit *test)
{
	struct lfq_queue *q = rec_queue(test, REC_RING);
	DECLARE_BITMAP(files, LFQ_MPSC_CLAIMS);
	struct lfq_mpsc_claim *cl;
	struct lfq_rec_cons c;
	u32 i, laps = 3 * REC_RING / 64;
	u64 pos, start;
	int k;

	bitmap_zero(files, LFQ_MPSC_CLAIMS);
	k = lfq_claim_register(q, files);
	KUNIT_ASSERT_GE(test, k, 0);
	cl = &q->ring.prod->claims[k];
	rec_cons(q, &c);

	pos = rec_pend(q, cl, false);
	for (i = 0; i < laps; i++) {
		if (!rec_put(q, 56, 1000 + i) || !rec_get(&c, 56, 1000 + i))
			break;
	}
	KUNIT_EXPECT_EQ(test, i, laps);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lap_refused), 0);
	start = READ_ONCE(cl->start);
	KUNIT_EXPECT_EQ(test, start, pos);
	KUNIT_EXPECT_FALSE(test, lfq_rec_claim_promote(cl, pos));

	/* Won: its CAS took the range, then it was held up. */
	pos = rec_pend(q, cl, true);
	KUNIT_EXPECT_EQ(test, rec_forged_puts(q, laps), laps);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lap_refused), 0);
	start = READ_ONCE(cl->start);
	KUNIT_EXPECT_EQ(test, start, pos);
	KUNIT_EXPECT_FALSE(test, lfq_rec_claim_promote(cl, pos));

	/* Promoted before the guard came: held, refused, the mark kept. */
	pos = rec_pend(q, cl, true);
	KUNIT_EXPECT_TRUE(test, lfq_rec_claim_promote(cl, pos));
	KUNIT_EXPECT_LT(test, rec_forged_puts(q, laps), laps);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lap_refused), 1);
	start = READ_ONCE(cl->start);
	KUNIT_EXPECT_EQ(test, start,
			pos | LFQ_REC_CLAIM_WON | LFQ_REC_CLAIM_HELD);
	lfq_claims_drop(q, files);
}

/* ---------------------------------------------------------------------- */

struct rec_kcons_tally {
	u64 next;
	u64 bad;
	u32 max;
};

static int rec_kcons_one(void *ctx, const void *rec, u32 len)
{
	struct rec_kcons_tally *t = ctx;

	if (len != rec_len_of(t->next, t->max) ||
	    !rec_id_ok(rec, len, t->next))
		t->bad++;
	t->next++;
	return 0;
}

/*
 * The in-kernel consumer on a record queue: peek/release and the batch
 * consume take what kernel producers wrote (lengths from 1 byte to the
 * limit, discards among them) whole and in order over many laps; a
 * callback that stops a run leaves the rest; the slot calls refuse.
 */
static void lfq_rec_kconsumer_test(struct kunit *test)
{
	struct lfq_queue *q = rec_queue(test, REC_RING);
	struct rec_kcons_tally t = { .max = lfq_rec_max_len(REC_RING) };
	struct lfq_consumer *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct lfq_rec_kresv r;
	u64 id = 0, i;
	const u8 *p;
	u32 len, got;
	int n;

	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(c, q), 0);
	KUNIT_EXPECT_NULL(test, lfq_consumer_peek(c, 1, &got));
	KUNIT_EXPECT_EQ(test, got, 0);
	KUNIT_EXPECT_EQ(test, lfq_consumer_rec_consume(c, 0, rec_kcons_one,
						       &t), -EINVAL);
	for (i = 0; i < 100 * REC_RING / 64; i++) {
		/* One in 7 a discarded record between two real ones. */
		if (!(i % 7) && lfq_queue_rec_reserve(q, 24, &r))
			lfq_queue_rec_discard(q, &r);
		while (!rec_put(q, rec_len_of(id, t.max), id)) {
			if (i & 1) {
				p = lfq_consumer_rec_peek(c, &len);
				KUNIT_ASSERT_NOT_NULL(test, p);
				rec_kcons_one(&t, p, len);
				lfq_consumer_rec_release(c);
			} else {
				n = lfq_consumer_rec_consume(c, 1 + i % 16,
							     rec_kcons_one, &t);
				KUNIT_ASSERT_GT(test, n, 0);
			}
		}
		id++;
	}
	while (lfq_consumer_rec_consume(c, 16, rec_kcons_one, &t) > 0)
		;
	KUNIT_EXPECT_EQ(test, t.next, id);
	KUNIT_EXPECT_EQ(test, t.bad, 0);
	KUNIT_EXPECT_GT(test, c->rec.discarded, 0);
	KUNIT_EXPECT_EQ(test, c->rec.corrupt, 0);
	KUNIT_EXPECT_NULL(test, lfq_consumer_rec_peek(c, &len));
	lfq_consumer_fini(c);
}

static struct kunit_case lfq_rec_cases[] = {
	KUNIT_CASE(lfq_rec_kapi_test),
	KUNIT_CASE(lfq_rec_recover_test),
	KUNIT_CASE(lfq_rec_recover_ambiguous_test),
	KUNIT_CASE(lfq_rec_recover_unmarked_test),
	KUNIT_CASE(lfq_rec_unclaim_test),
	KUNIT_CASE(lfq_rec_contexts_test),
	KUNIT_CASE(lfq_rec_forged_test),
	KUNIT_CASE(lfq_rec_lap_guard_test),
	KUNIT_CASE(lfq_rec_lap_guard_proc_test),
	KUNIT_CASE(lfq_rec_lap_guard_pending_test),
	KUNIT_CASE(lfq_rec_kconsumer_test),
	{}
};

static struct kunit_suite lfq_rec_suite = {
	.name = "lfq_rec",
	.test_cases = lfq_rec_cases,
};

kunit_test_suite(lfq_rec_suite);

MODULE_DESCRIPTION("KUnit tests for lfq record queues");
MODULE_LICENSE("GPL");
