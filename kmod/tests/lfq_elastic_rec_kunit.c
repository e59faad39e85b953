// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_elastic_rec_kunit.c - KUnit suite lfq_elastic_rec: elastic record
 * queues (LFQ_CREATE_RECORDS | LFQ_CREATE_ELASTIC, MPSC), whose ring of
 * bytes is a list of segments (proto/lfq_segment.h, core/lfq_seg.c), with
 * the in-kernel producer API (lfq_queue_rec_reserve(), _commit(),
 * _discard()) and the in-kernel consumer (lfq_consumer_rec_peek(),
 * _release(), _consume(), lfq_consumer_wait()). It owns:
 *
 * - creation: the geometry's rules (overwrite and elastic refused
 *   together) and a new queue at rest;
 * - segment boundaries, one thread: records that end exactly at a
 *   segment's end, and records that do not fit the rest of a segment
 *   (which seals it, the rest unused, and opens the next one where it
 *   ended, so a segment's records start anywhere in its double mapping):
 *   every position, segment and head word exact, every record back whole
 *   and in order, the consumer in the newest segment after the drain;
 * - out-of-order commits and discards across a boundary: a record in the
 *   next segment committed first waits for the one before the seal; a
 *   discard at the end of a sealed segment is skipped and counted (the
 *   consumer's count, c->rec.discarded, runs on across segments); within
 *   a segment, records of its later laps (a segment is a ring: what the
 *   consumer frees in it is room) and a batch across its memory's end;
 * - a record that does not fit: it seals the segment only while the
 *   queue can go on after it (a spare pooled, below seg_max); at seg_max
 *   it drops alone, the segment stays open and smaller records still fit
 *   it, to the byte;
 * - seg_max: with the consumer away, reservations fail (NULL) and each is
 *   counted in stats.dropped; after a drain, and the grace period that
 *   pools the drained segments, they succeed again, exactly as many as the
 *   free segments hold;
 * - the lap guard (HOSTILE MEMORY H6) per segment: a record held in an
 *   older segment never refuses a reservation in a newer one; a forged
 *   tail of the current segment with a record held in it refuses every
 *   reservation that would reach it (lap_refused), its bytes intact;
 * - the race: kernel threads, a hardirq timer and the self-NMIs it raises
 *   (x86, when they come) producing records of random sizes while a
 *   kernel consumer thread reads with peeks, batches and waits, pausing
 *   so that the queue grows to seg_max: no record lost (each producer's
 *   gaps are its drops, and they add up to stats.dropped), duplicated,
 *   torn, reordered or in a context not its producer's; no honest lap
 *   guard refusal; then the queue shrinks back to one segment, and after
 *   seg_idle_ms to seg_min segments' memory.
 *
 * Between a kernel reservation and its commit preemption is disabled:
 * nothing here asserts (a failed KUnit assertion allocates and ends the
 * test) while it holds one; values are kept and checked after.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched/clock.h>
#include <linux/sched/task.h>

#include "core/lfq_kapi.h"
#include "core/lfq_seg.h"
#include "lfq_event.h"
#include "lfq_kunit_nmi.h"
#include "lfq_kunit_util.h"
#include "proto/lfq_rec.h"
#include "sources/lfq_source.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

/* Bytes per segment of the single-thread cases: one page. */
#define ER_SEG		4096u
/* The largest record there (1016 bytes: 1024 in the ring). */
#define ER_BIG		LFQ_REC_MAX_LEN(ER_SEG)

/* ---------------------------------------------------------------------- */
/* Queues and records                                                      */
/* ---------------------------------------------------------------------- */

#define ER_FLAGS	(LFQ_CREATE_RECORDS | LFQ_CREATE_ELASTIC)

/*
 * An elastic MPSC record queue of segments of @bytes bytes, @seg_min kept
 * at rest, @seg_max at most; put when the test ends.
 */
static struct lfq_queue *er_queue(struct kunit *test, u32 bytes, u32 seg_min,
				  u32 seg_max)
{
	struct lfq_queue *q;

	q = lfq_kunit_queue_geo(test, LFQ_EL_GEO(LFQ_TYPE_MPSC, 1, bytes,
						 ER_FLAGS, seg_min, seg_max));
	KUNIT_ASSERT_NOT_NULL(test, q->el);
	KUNIT_ASSERT_TRUE(test, q->ring.records);
	return q;
}

/* Bytes of the queue's own pages and of one segment. */
static u64 er_fixed_bytes(const struct lfq_queue *q)
{
	return (u64)q->nr_pages << PAGE_SHIFT;
}

static u64 er_seg_bytes(const struct lfq_queue *q)
{
	return q->layout.commit_size + q->layout.data_size;
}

/* A segment's head word and table entry, as a process reads them. */
static u64 er_head(const struct lfq_seg *s)
{
	return READ_ONCE(*s->ring.head);
}

static u64 er_base(const struct lfq_queue *q, const struct lfq_seg *s)
{
	return READ_ONCE(q->el->meta[s->frame].base);
}

/*
 * The newest live segment: the producers' hint, then the links after it
 * (the hint lags when a producer's swing lost to a later link). While no
 * producer runs: it cannot retire.
 */
static struct lfq_seg *er_newest(struct lfq_elastic *el)
{
	struct lfq_seg *s, *n;
	u32 i;
	int next;

	rcu_read_lock();
	s = lfq_seg_producer(el);
	for (i = 0; i < el->seg_max; i++) {
		next = lfq_seg_next(&el->meta[s->frame], el->seg_max);
		n = next < 0 ? NULL : rcu_dereference(el->frames[next]);
		if (!n)
			break;
		s = n;
	}
	rcu_read_unlock();
	return s;
}

/* The payload bytes of record @id; their check. */
static u8 er_byte(u64 id, u32 i)
{
	return (u8)(id * 131 + i * 7 + (id >> 8) + 1);
}

static void er_fill(void *rec, u32 len, u64 id)
{
	u8 *p = rec;
	u32 i;

	for (i = 0; i < len; i++)
		p[i] = er_byte(id, i);
}

static bool er_bytes_ok(const void *rec, u32 len, u64 id)
{
	const u8 *p = rec;
	u32 i;

	for (i = 0; i < len; i++)
		if (p[i] != er_byte(id, i))
			return false;
	return true;
}

/*
 * One record of @len bytes filled from @id, committed; where it went in
 * *@pos and *@seg (either may be NULL). False if the reservation failed.
 */
static bool er_put(struct lfq_queue *q, u32 len, u64 id, u64 *pos,
		   struct lfq_seg **seg)
{
	struct lfq_rec_kresv r = {};
	void *p = lfq_queue_rec_reserve(q, len, &r);

	if (!p)
		return false;
	er_fill(p, len, id);
	if (pos)
		*pos = r.resv.pos;
	if (seg)
		*seg = r.seg;
	lfq_queue_rec_commit(q, &r);
	return true;
}

/*
 * A payload of @len bytes the consumer got is record @pos's, in segment
 * @s's memory: in either copy of its double mapping (a run goes on past
 * the end of the first), and whole inside the two.
 */
static bool er_at(const struct lfq_seg *s, u64 pos, const void *rec, u32 len)
{
	u64 size = s->ring.slot_count;
	const u8 *h = (const u8 *)rec - LFQ_REC_HDR_SIZE;
	u64 off;

	if (h < s->ring.data)
		return false;
	off = h - s->ring.data;
	return off < 2 * size && (off & (size - 1)) == (pos & (size - 1)) &&
	       off + lfq_rec_size(len) <= 2 * size;
}

/**
 * struct er_want - a record the consumer must get next.
 * @len:	its length.
 * @id:		what its bytes are filled from.
 * @pos:	its byte index (checked with @seg).
 * @seg:	its segment, or NULL: anywhere.
 */
struct er_want {
	u32 len;
	u64 id;
	u64 pos;
	struct lfq_seg *seg;
};

/**
 * struct er_reader - the records a consumer must get, in order.
 * @want:	them.
 * @n:		how many.
 * @next:	the next one.
 * @bad:	records not the one wanted (length, bytes or place), or
 *		beyond @n.
 */
struct er_reader {
	const struct er_want *want;
	u32 n;
	u32 next;
	u32 bad;
};

static int er_check_one(void *ctx, const void *rec, u32 len)
{
	struct er_reader *rd = ctx;
	const struct er_want *w;

	if (rd->next >= rd->n) {
		rd->bad++;
		return 0;
	}
	w = &rd->want[rd->next++];
	if (len != w->len || !er_bytes_ok(rec, len, w->id) ||
	    (w->seg && !er_at(w->seg, w->pos, rec, len)))
		rd->bad++;
	return 0;
}

/*
 * Read what @rd wants with @c: a peek (its segment checked too), then runs
 * of up to 2 to 5, in turn. False if a record wanted was not there.
 */
static bool er_drain(struct lfq_consumer *c, struct er_reader *rd)
{
	const struct er_want *w;
	const void *rec;
	u32 step, len;
	int n;

	for (step = 0; rd->next < rd->n; step++) {
		if (step % 3 == 0) {
			rec = lfq_consumer_rec_peek(c, &len);
			if (!rec)
				return false;
			w = &rd->want[rd->next];
			if (w->seg && c->seg != w->seg)
				rd->bad++;
			er_check_one(rd, rec, len);
			lfq_consumer_rec_release(c);
			continue;
		}
		n = lfq_consumer_rec_consume(c, 2 + step % 4, er_check_one,
					     rd);
		if (n <= 0)
			return false;
	}
	return true;
}

/* The next record is @len bytes from @id (peeked and released). */
static bool er_get(struct lfq_consumer *c, u32 len, u64 id)
{
	u32 got = 0;
	const void *p = lfq_consumer_rec_peek(c, &got);
	bool ok = p && got == len && er_bytes_ok(p, len, id);

	if (p)
		lfq_consumer_rec_release(c);
	return ok;
}

/* ---------------------------------------------------------------------- */
/* Creation                                                                */
/* ---------------------------------------------------------------------- */

/*
 * The geometry's rules for elastic record queues, and one at rest: one
 * live segment, seg_min - 1 spares, the limit a quarter of a segment;
 * the slot calls refuse it.
 */
static void lfq_elastic_rec_geometry_test(struct kunit *test)
{
	const u32 M = LFQ_TYPE_MPSC;
	struct lfq_rec_kresv r = {};
	struct lfq_mpsc_resv sr;
	struct lfq_consumer c;
	struct lfq_queue *q;
	struct lfq_stats st;
	void *p;

	/* An elastic queue grows instead of overwriting: not both. */
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, 1, ER_SEG,
					    ER_FLAGS | LFQ_CREATE_OVERWRITE,
					    2, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, 1, ER_SEG, ER_FLAGS, 0, 4),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, 1, ER_SEG, ER_FLAGS, 3, 2),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, 1, ER_SEG, ER_FLAGS, 1, 1),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, 1, ER_SEG, ER_FLAGS, 1,
					    LFQ_SEGS_MAX + 1), -EINVAL);
	/* Segments of whole pages, a power of two, of bytes (slot_size 1). */
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, 1, ER_SEG / 2, ER_FLAGS, 1, 4),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, 1, 3 * ER_SEG, ER_FLAGS, 1, 4),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, 8, ER_SEG, ER_FLAGS, 1, 4),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, lfq_el_create(LFQ_TYPE_MPMC, 1, ER_SEG,
					    ER_FLAGS, 1, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, lfq_el_create(M, 1, ER_SEG, ER_FLAGS, 1, 2), 0);
	KUNIT_EXPECT_EQ(test, lfq_el_create(LFQ_TYPE_SPSC, 1, ER_SEG,
					    ER_FLAGS, 2, 4), 0);

	q = er_queue(test, ER_SEG, 3, 8);
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.segments, 1ULL);
	KUNIT_EXPECT_EQ(test, st.segments_peak, 1ULL);
	KUNIT_EXPECT_EQ(test, st.pool, 2ULL);
	KUNIT_EXPECT_EQ(test, st.grows, 0ULL);
	KUNIT_EXPECT_EQ(test, st.bytes, er_fixed_bytes(q) + 3 * er_seg_bytes(q));
	KUNIT_EXPECT_EQ(test, q->layout.data_size, (u64)ER_SEG);
	KUNIT_EXPECT_EQ(test, er_head(lfq_el_pseg(q->el)), 0ULL);

	/* The slot API is not a record queue's: refused, not a drop. */
	KUNIT_EXPECT_NULL(test, lfq_queue_reserve(q, 1, &sr));
	/* Lengths out of range: drops, counted. */
	KUNIT_EXPECT_NULL(test, lfq_queue_rec_reserve(q, 0, &r));
	KUNIT_EXPECT_NULL(test, lfq_queue_rec_reserve(q, ER_BIG + 1, &r));
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->dropped, 2ULL);
	p = lfq_queue_rec_reserve(q, ER_BIG, &r);
	KUNIT_ASSERT_NOT_NULL(test, p);
	er_fill(p, ER_BIG, 1);
	lfq_queue_rec_commit(q, &r);
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	KUNIT_EXPECT_TRUE(test, er_get(&c, ER_BIG, 1));
	KUNIT_EXPECT_NULL(test, lfq_consumer_rec_peek(&c, &(u32){ 0 }));
	lfq_consumer_fini(&c);
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.produced, lfq_rec_size(ER_BIG));
	KUNIT_EXPECT_EQ(test, st.consumed, lfq_rec_size(ER_BIG));
	KUNIT_EXPECT_EQ(test, st.grows, 0ULL);
}

/* ---------------------------------------------------------------------- */
/* Segment boundaries                                                      */
/* ---------------------------------------------------------------------- */

/*
 * With nobody reading: segment 1 ends exactly with its last record
 * (4096); the first record of segment 2 finds no room in segment 1;
 * segment 2 ends with 40 bytes left, too few for the next record
 * (112), which opens segment 3 at 8152, so that segment 3's records
 * start 40 bytes before the end of its memory and cross it (the double
 * mapping); segment 3 ends exactly (12248); segment 4 takes the last.
 * Odd lengths: records are padded to 8 bytes.
 */
static const u32 er_bounds_lens[] = {
	1016, 1010, 1011, 1000, 5,
	100, 1013, 1015, 1009, 864,
	100, 1016, 1016, 1016, 904,
	1,
};

#define ER_BOUNDS_SEGS	4

/*
 * Where records of @lens go in an elastic record queue with segments of
 * @size bytes that nobody reads: one after another; one that does not
 * fit its segment's rest opens the next segment where the last ended.
 * Fills @w (positions, ids = indices) and @seg_of; returns the head.
 */
static u64 er_model(const u32 *lens, u32 n, u64 size, struct er_want *w,
		    u32 *seg_of)
{
	u64 head = 0, base = 0, need;
	u32 i, seg = 0;

	for (i = 0; i < n; i++) {
		need = lfq_rec_size(lens[i]);
		if (head + need > base + size) {
			base = head;
			seg++;
		}
		w[i] = (struct er_want){ .len = lens[i], .id = i, .pos = head };
		seg_of[i] = seg;
		head += need;
	}
	return head;
}

static void lfq_elastic_rec_bounds_test(struct kunit *test)
{
	const u32 n = ARRAY_SIZE(er_bounds_lens);
	struct lfq_queue *q = er_queue(test, ER_SEG, 4, 8);
	struct lfq_seg *segs[ER_BOUNDS_SEGS] = {}, *s;
	struct lfq_elastic *el = q->el;
	struct er_reader rd = { .n = n };
	struct lfq_consumer *c;
	struct er_want *want;
	struct lfq_stats st;
	u32 *seg_of, i, j;
	u64 head, pos;

	/* On the heap: KUnit's checks take much of a kernel stack frame. */
	want = kunit_kcalloc(test, n, sizeof(*want), GFP_KERNEL);
	seg_of = kunit_kcalloc(test, n, sizeof(*seg_of), GFP_KERNEL);
	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, want && seg_of && c);
	rd.want = want;
	head = er_model(er_bounds_lens, n, ER_SEG, want, seg_of);
	/* The lengths do what the comment above says. */
	KUNIT_ASSERT_EQ(test, head, 12264ULL);
	KUNIT_ASSERT_EQ(test, want[5].pos, 4096ULL);
	KUNIT_ASSERT_EQ(test, want[10].pos, 8152ULL);
	KUNIT_ASSERT_EQ(test, want[15].pos, 12248ULL);
	KUNIT_ASSERT_EQ(test, seg_of[n - 1], ER_BOUNDS_SEGS - 1U);

	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_TRUE_MSG(test, er_put(q, want[i].len, i, &pos, &s),
				      "record %u", i);
		KUNIT_EXPECT_EQ_MSG(test, pos, want[i].pos, "record %u", i);
		if (!segs[seg_of[i]])
			segs[seg_of[i]] = s;
		KUNIT_EXPECT_PTR_EQ_MSG(test, s, segs[seg_of[i]], "record %u",
					i);
		want[i].seg = segs[seg_of[i]];
	}
	for (i = 0; i < ER_BOUNDS_SEGS; i++)
		for (j = i + 1; j < ER_BOUNDS_SEGS; j++)
			KUNIT_EXPECT_PTR_NE(test, segs[i], segs[j]);

	/* One grow per segment opened; sealed ends; bases where they ended. */
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.grows, ER_BOUNDS_SEGS - 1ULL);
	KUNIT_EXPECT_EQ(test, st.segments, (u64)ER_BOUNDS_SEGS);
	KUNIT_EXPECT_EQ(test, st.segments_peak, (u64)ER_BOUNDS_SEGS);
	KUNIT_EXPECT_EQ(test, st.produced, head);
	KUNIT_EXPECT_EQ(test, st.dropped, 0ULL);
	KUNIT_EXPECT_EQ(test, er_head(segs[0]), LFQ_SEG_SEALED | 4096);
	KUNIT_EXPECT_EQ(test, er_head(segs[1]), LFQ_SEG_SEALED | 8152);
	KUNIT_EXPECT_EQ(test, er_head(segs[2]), LFQ_SEG_SEALED | 12248);
	KUNIT_EXPECT_EQ(test, er_head(segs[3]), head);
	KUNIT_EXPECT_EQ(test, er_base(q, segs[1]), 4096ULL);
	KUNIT_EXPECT_EQ(test, er_base(q, segs[2]), 8152ULL);
	KUNIT_EXPECT_EQ(test, er_base(q, segs[3]), 12248ULL);
	KUNIT_EXPECT_PTR_EQ(test, lfq_el_pseg(el), segs[3]);

	/* Every record, whole, in order, from its own segment's memory. */
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(c, q), 0);
	KUNIT_EXPECT_TRUE(test, er_drain(c, &rd));
	KUNIT_EXPECT_EQ(test, rd.next, n);
	KUNIT_EXPECT_EQ(test, rd.bad, 0U);
	KUNIT_EXPECT_NULL(test, lfq_consumer_rec_peek(c, &(u32){ 0 }));
	KUNIT_EXPECT_EQ(test, lfq_consumer_rec_consume(c, 4, er_check_one,
						       &rd), 0);
	/* The consumer is in the newest segment; the rest retire. */
	KUNIT_EXPECT_PTR_EQ(test, c->seg, segs[3]);
	KUNIT_EXPECT_EQ(test, c->rec.corrupt, 0ULL);
	lfq_seg_reclaim_sync(el);
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.consumed, head);
	KUNIT_EXPECT_EQ(test, st.shrinks, ER_BOUNDS_SEGS - 1ULL);
	KUNIT_EXPECT_EQ(test, st.segments, 1ULL);
	KUNIT_EXPECT_EQ(test, st.grows, ER_BOUNDS_SEGS - 1ULL);
	for (i = 0; i < ER_BOUNDS_SEGS - 1; i++)
		KUNIT_EXPECT_NE(test, lfq_el_state(el, segs[i]->frame),
				(u32)LFQ_SEG_LIVE);
	KUNIT_EXPECT_EQ(test, lfq_el_state(el, segs[3]->frame),
			(u32)LFQ_SEG_LIVE);
	lfq_consumer_fini(c);
}

/* ---------------------------------------------------------------------- */
/* Out-of-order commits and discards across a boundary                     */
/* ---------------------------------------------------------------------- */

/**
 * struct er_held - reservations held at once across a segment's seal:
 * A and D (to be discarded) at the end of the producers' segment, B that
 * does not fit its rest and opens the next one, C after B.
 * @r:		the reservations: A, D, B, C.
 * @len:	their lengths.
 * @id:		their ids.
 * @pos:	where they are.
 * @seg:	their segments.
 * @ok:		all four were reserved.
 */
struct er_held {
	struct lfq_rec_kresv r[4];
	u32 len[4];
	u64 id[4];
	u64 pos[4];
	struct lfq_seg *seg[4];
	bool ok;
};

enum { ER_A, ER_D, ER_B, ER_C };

/*
 * Reserve A, D, B, C (preemption is disabled from the first on). If one
 * fails, what was reserved is committed again and ->ok is false.
 */
static void er_hold(struct lfq_queue *q, struct er_held *h)
{
	void *p;
	int i;

	h->ok = true;
	for (i = 0; i < 4; i++) {
		h->r[i] = (struct lfq_rec_kresv){};
		p = lfq_queue_rec_reserve(q, h->len[i], &h->r[i]);
		if (!p) {
			h->ok = false;
			while (--i >= 0)
				lfq_queue_rec_commit(q, &h->r[i]);
			return;
		}
		er_fill(p, h->len[i], h->id[i]);
		h->pos[i] = h->r[i].resv.pos;
		h->seg[i] = h->r[i].seg;
	}
}

/**
 * struct er_early - what the consumer took while A was held.
 * @after_cb:	records taken after C and B were committed.
 * @after_d:	more taken after D was discarded.
 * @head:	the sealed segment's head word then.
 */
struct er_early {
	u32 after_cb;
	u32 after_d;
	u64 head;
};

/*
 * The consumer takes what it can (up to 16 peeks, or runs of up to 3 if
 * not @peek), checked by @rd: the records taken.
 */
static u32 er_take_all(struct lfq_consumer *c, bool peek,
		       struct er_reader *rd)
{
	u32 before = rd->next, i, len;
	const void *rec;

	for (i = 0; i < 16; i++) {
		if (peek) {
			rec = lfq_consumer_rec_peek(c, &len);
			if (!rec)
				break;
			er_check_one(rd, rec, len);
			lfq_consumer_rec_release(c);
		} else if (lfq_consumer_rec_consume(c, 3, er_check_one,
						    rd) <= 0) {
			break;
		}
	}
	return rd->next - before;
}

/*
 * Publish newest first: C, B, then discard D, then A; the consumer takes
 * what it can between (the records before A, checked by @before), by
 * peeks if @peek, else by runs. Its findings go in @e.
 */
static void er_publish_backwards(struct lfq_queue *q, struct er_held *h,
				 struct lfq_consumer *c, bool peek,
				 struct er_reader *before, struct er_early *e)
{
	lfq_queue_rec_commit(q, &h->r[ER_C]);
	lfq_queue_rec_commit(q, &h->r[ER_B]);
	e->after_cb = er_take_all(c, peek, before);
	lfq_queue_rec_discard(q, &h->r[ER_D]);
	e->after_d = er_take_all(c, peek, before);
	e->head = er_head(h->seg[ER_A]);
	lfq_queue_rec_commit(q, &h->r[ER_A]);
}

/*
 * Round 1, read by peeks: 4 records (3984 bytes) in segment 1, not read
 * yet (a segment is a ring: what the consumer frees there is room);
 * then A at 3984, D at 4032, and 48 bytes left: B (112) seals segment 1
 * and opens segment 2 at 4048; C after it. Round 2, read by runs: the
 * consumer stands at 4192 in segment 2, so segment 2 has room up to
 * 8288; 4 records to 8016 (its second lap: they wrap in its memory), A at
 * 8016 (across the end of its memory), D at 8224, 16 bytes left: B (72)
 * opens segment 3 at 8272. Each round: C and B committed first, D
 * discarded, A last; the consumer takes only the records before A until
 * A is committed, then A, B (D skipped and counted), C.
 */
static void lfq_elastic_rec_out_of_order_test(struct kunit *test)
{
	static const u32 fill[2][4] = { { 1016, 1016, 1016, 900 },
					{ 1016, 1016, 1016, 744 } };
	static const u64 fill_at[2] = { 0, 4192 };
	static const u64 at[2][4] = { { 3984, 4032, 4048, 4160 },
				      { 8016, 8224, 8272, 8344 } };
	struct lfq_queue *q = er_queue(test, ER_SEG, 3, 4);
	struct lfq_seg *seg[3], *s;
	struct lfq_elastic *el = q->el;
	struct er_want *want;
	struct er_reader rd;
	struct er_early e;
	struct er_held *h;
	struct lfq_consumer *c;
	struct lfq_stats st;
	u32 round, i;
	u64 pos;

	h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	want = kunit_kcalloc(test, 4, sizeof(*want), GFP_KERNEL);
	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, h && want && c);
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(c, q), 0);
	seg[0] = lfq_el_pseg(el);

	for (round = 0; round < 2; round++) {
		pos = fill_at[round];
		for (i = 0; i < 4; i++) {
			KUNIT_ASSERT_TRUE(test, er_put(q, fill[round][i],
						       10 * round + i, NULL,
						       &s));
			want[i] = (struct er_want){ .len = fill[round][i],
						    .id = 10 * round + i,
						    .pos = pos, .seg = s };
			pos += lfq_rec_size(fill[round][i]);
		}
		KUNIT_EXPECT_EQ(test, pos, at[round][ER_A]);
		KUNIT_EXPECT_PTR_EQ(test, s, seg[round]);
		rd = (struct er_reader){ .want = want, .n = 4 };
		*h = (struct er_held){ .len = { 40, 8, 100, 24 },
				       .id = { 100, 101, 102, 103 } };
		if (round)
			*h = (struct er_held){ .len = { 200, 40, 64, 8 },
					       .id = { 200, 201, 202, 203 } };
		e = (struct er_early){};
		er_hold(q, h);
		KUNIT_ASSERT_TRUE(test, h->ok);
		er_publish_backwards(q, h, c, !round, &rd, &e);

		for (i = 0; i < 4; i++)
			KUNIT_EXPECT_EQ_MSG(test, h->pos[i], at[round][i],
					    "round %u, record %u", round, i);
		KUNIT_EXPECT_PTR_EQ(test, h->seg[ER_A], seg[round]);
		KUNIT_EXPECT_PTR_EQ(test, h->seg[ER_D], seg[round]);
		KUNIT_EXPECT_PTR_NE(test, h->seg[ER_B], seg[round]);
		KUNIT_EXPECT_PTR_EQ(test, h->seg[ER_C], h->seg[ER_B]);
		seg[round + 1] = h->seg[ER_B];
		/* The records before A, nothing more while A was held. */
		KUNIT_EXPECT_EQ(test, e.after_cb, 4U);
		KUNIT_EXPECT_EQ(test, e.after_d, 0U);
		KUNIT_EXPECT_EQ(test, rd.bad, 0U);
		KUNIT_EXPECT_EQ(test, e.head, LFQ_SEG_SEALED | at[round][ER_B]);
		KUNIT_EXPECT_EQ(test, er_base(q, seg[round + 1]),
				at[round][ER_B]);

		/* Then A, B, C: a run may stop at the seal, so several. */
		for (i = 0; i < 3; i++) {
			u32 k = i ? i + 1 : ER_A;	/* A, B, C */

			want[i] = (struct er_want){ .len = h->len[k],
						    .id = h->id[k],
						    .pos = at[round][k],
						    .seg = h->seg[k] };
		}
		rd = (struct er_reader){ .want = want, .n = 3 };
		if (round) {
			for (i = 0; i < 4 && rd.next < rd.n; i++)
				if (lfq_consumer_rec_consume(c, 16,
							     er_check_one,
							     &rd) <= 0)
					break;
		} else {
			KUNIT_EXPECT_TRUE(test, er_drain(c, &rd));
		}
		KUNIT_EXPECT_EQ(test, rd.next, 3U);
		KUNIT_EXPECT_EQ(test, rd.bad, 0U);
		KUNIT_EXPECT_PTR_EQ(test, c->seg, seg[round + 1]);
		/* D, skipped in the sealed segment, is counted. */
		KUNIT_EXPECT_EQ_MSG(test, c->rec.discarded, round + 1ULL,
				    "round %u", round);
		KUNIT_EXPECT_NULL(test, lfq_consumer_rec_peek(c, &(u32){ 0 }));
	}
	KUNIT_EXPECT_PTR_NE(test, seg[2], seg[0]);
	KUNIT_EXPECT_EQ(test, c->rec.corrupt, 0ULL);

	lfq_seg_reclaim_sync(el);
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.grows, 2ULL);
	KUNIT_EXPECT_EQ(test, st.shrinks, 2ULL);
	KUNIT_EXPECT_EQ(test, st.segments, 1ULL);
	KUNIT_EXPECT_EQ(test, st.dropped, 0ULL);
	KUNIT_EXPECT_EQ(test, st.produced, 8360ULL);
	KUNIT_EXPECT_EQ(test, st.consumed, 8360ULL);
	lfq_consumer_fini(c);
}

/* ---------------------------------------------------------------------- */
/* A record that does not fit                                              */
/* ---------------------------------------------------------------------- */

/* Put a record; note it in @w[*n] (and where it went) if it was taken. */
static bool er_put_want(struct lfq_queue *q, u32 len, struct er_want *w,
			u32 *n)
{
	u64 pos;
	struct lfq_seg *s;

	if (!er_put(q, len, 100 + *n, &pos, &s))
		return false;
	w[*n] = (struct er_want){ .len = len, .id = 100 + *n, .pos = pos,
				  .seg = s };
	(*n)++;
	return true;
}

/*
 * A record that does not fit the rest of the newest segment seals it only
 * if the queue can go on after it (lfq_seg_may_grow()): below seg_max,
 * with a spare pooled, it seals and opens the next segment; at seg_max it
 * drops alone, the segment stays open, and smaller records still fit;
 * once the segment is full to the byte the next refusal seals it anyway.
 */
static void lfq_elastic_rec_no_room_test(struct kunit *test)
{
	struct lfq_queue *q = er_queue(test, ER_SEG, 2, 2);
	struct lfq_seg *s1 = lfq_el_pseg(q->el), *s2;
	struct er_want *want;
	struct er_reader rd;
	struct lfq_consumer c;
	struct lfq_stats st;
	u32 i, n = 0;

	want = kunit_kcalloc(test, 16, sizeof(*want), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, want);
	/* Segment 1: 4 records of 1008 bytes, 64 left. */
	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_TRUE(test, er_put_want(q, 1000, want, &n));
	KUNIT_EXPECT_EQ(test, er_head(s1), 4032ULL);
	/* 1024 bytes, below seg_max with a spare: seal, go on. */
	KUNIT_ASSERT_TRUE(test, er_put_want(q, ER_BIG, want, &n));
	s2 = want[n - 1].seg;
	KUNIT_EXPECT_PTR_NE(test, s2, s1);
	KUNIT_EXPECT_EQ(test, want[n - 1].pos, 4032ULL);
	KUNIT_EXPECT_EQ(test, er_head(s1), LFQ_SEG_SEALED | 4032ULL);
	KUNIT_EXPECT_EQ(test, er_base(q, s2), 4032ULL);
	/* Segment 2 (at seg_max now): 2 x 1008 and 1024, 32 bytes left. */
	KUNIT_ASSERT_TRUE(test, er_put_want(q, 1000, want, &n));
	KUNIT_ASSERT_TRUE(test, er_put_want(q, 1000, want, &n));
	KUNIT_ASSERT_TRUE(test, er_put_want(q, ER_BIG, want, &n));
	KUNIT_EXPECT_EQ(test, er_head(s2), 8096ULL);
	/* 112 bytes: no room, no next segment: this one drops, unsealed. */
	KUNIT_EXPECT_FALSE(test, er_put(q, 100, 999, NULL, NULL));
	KUNIT_EXPECT_EQ(test, er_head(s2), 8096ULL);
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.dropped, 1ULL);
	KUNIT_EXPECT_EQ(test, st.grows, 1ULL);
	/* 32 bytes still fit, to the byte. */
	KUNIT_ASSERT_TRUE(test, er_put_want(q, 24, want, &n));
	KUNIT_EXPECT_EQ(test, want[n - 1].pos, 8096ULL);
	KUNIT_EXPECT_EQ(test, er_head(s2), 8128ULL);
	/* Full to the byte: the next refusal seals it (nothing else fits). */
	KUNIT_EXPECT_FALSE(test, er_put(q, 1, 999, NULL, NULL));
	KUNIT_EXPECT_EQ(test, er_head(s2), LFQ_SEG_SEALED | 8128ULL);
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.dropped, 2ULL);
	KUNIT_EXPECT_EQ(test, st.segments, 2ULL);

	/* Every record taken comes back, in order, whole. */
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	rd = (struct er_reader){ .want = want, .n = n };
	KUNIT_EXPECT_TRUE(test, er_drain(&c, &rd));
	KUNIT_EXPECT_EQ(test, rd.bad, 0U);
	KUNIT_EXPECT_NULL(test, lfq_consumer_rec_peek(&c, &(u32){ 0 }));
	lfq_consumer_fini(&c);
}

/* ---------------------------------------------------------------------- */
/* seg_max                                                                 */
/* ---------------------------------------------------------------------- */

/*
 * Records of the largest size, 4 to a segment, 3 segments at most (and
 * at least: the pool holds the 2 spares from the start, and no more can
 * be allocated). The consumer reads nothing until they are all full.
 */
static void lfq_elastic_rec_seg_max_test(struct kunit *test)
{
	const u32 per = ER_SEG / lfq_rec_size(ER_BIG);
	struct lfq_queue *q = er_queue(test, ER_SEG, 3, 3);
	struct lfq_elastic *el = q->el;
	u32 i, unexpected = 0, len_left = 0, ok = 0;
	struct er_reader rd;
	struct er_want *want;
	struct lfq_rec_kresv r;
	struct lfq_consumer c;
	struct lfq_seg *s3, *s;
	struct lfq_stats st;
	u64 pos;
	void *p;

	KUNIT_ASSERT_EQ(test, per, 4U);
	want = kunit_kcalloc(test, 3 * per, sizeof(*want), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, want);
	for (i = 0; i < 3 * per; i++) {
		KUNIT_ASSERT_TRUE_MSG(test, er_put(q, ER_BIG, i, &pos, &s),
				      "record %u", i);
		KUNIT_EXPECT_EQ(test, pos, (u64)i * lfq_rec_size(ER_BIG));
		want[i] = (struct er_want){ .len = ER_BIG, .id = i, .pos = pos,
					    .seg = s };
	}
	s3 = lfq_el_pseg(el);
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.segments, 3ULL);
	KUNIT_EXPECT_EQ(test, st.grows, 2ULL);
	KUNIT_EXPECT_EQ(test, st.dropped, 0ULL);
	KUNIT_EXPECT_EQ(test, st.produced, 3ULL * ER_SEG);

	/* Full: every reservation fails, whatever its length; each counted. */
	for (i = 0; i < 20; i++) {
		r = (struct lfq_rec_kresv){};
		p = lfq_queue_rec_reserve(q, 1 + (i * 53) % ER_BIG, &r);
		if (p) {
			unexpected++;
			lfq_queue_rec_commit(q, &r);
		} else if (r.resv.len) {
			len_left++;
		}
	}
	KUNIT_EXPECT_EQ(test, unexpected, 0U);
	KUNIT_EXPECT_EQ(test, len_left, 0U);
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.dropped, 20ULL);
	KUNIT_EXPECT_EQ(test, st.segments, 3ULL);
	KUNIT_EXPECT_EQ(test, st.segments_peak, 3ULL);
	KUNIT_EXPECT_EQ(test, st.grows, 2ULL);
	KUNIT_EXPECT_EQ(test, st.produced, 3ULL * ER_SEG);
	KUNIT_EXPECT_EQ(test, st.bytes, er_fixed_bytes(q) + 3 * er_seg_bytes(q));
	/* The first refusal sealed the last segment where it is full. */
	KUNIT_EXPECT_EQ(test, er_head(s3), LFQ_SEG_SEALED | (3ULL * ER_SEG));

	/* Drained: the two older segments retire, and are pooled again. */
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	rd = (struct er_reader){ .want = want, .n = 3 * per };
	KUNIT_EXPECT_TRUE(test, er_drain(&c, &rd));
	KUNIT_EXPECT_EQ(test, rd.bad, 0U);
	KUNIT_EXPECT_NULL(test, lfq_consumer_rec_peek(&c, &(u32){ 0 }));
	KUNIT_EXPECT_PTR_EQ(test, c.seg, s3);
	lfq_seg_reclaim_sync(el);
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.shrinks, 2ULL);
	KUNIT_EXPECT_EQ(test, st.segments, 1ULL);
	KUNIT_EXPECT_TRUE(test, lfq_el_poll(lfq_el_stats(q, &st)->pool == 2,
					    5000));

	/*
	 * Room again: the two pooled segments' worth (8 records); the
	 * drained one the consumer is in stays until it moves on, so the
	 * ninth is at seg_max again.
	 */
	for (i = 0; i < 2 * per; i++) {
		if (!er_put(q, ER_BIG, 12 + i, &pos, &s))
			break;
		ok++;
		KUNIT_EXPECT_EQ(test, pos, 3ULL * ER_SEG +
				(u64)i * lfq_rec_size(ER_BIG));
		want[i] = (struct er_want){ .len = ER_BIG, .id = 12 + i,
					    .pos = pos, .seg = s };
	}
	KUNIT_EXPECT_EQ(test, ok, 2 * per);
	KUNIT_EXPECT_FALSE(test, er_put(q, 1, 99, NULL, NULL));
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.dropped, 21ULL);
	KUNIT_EXPECT_EQ(test, st.grows, 4ULL);
	KUNIT_EXPECT_EQ(test, st.segments, 3ULL);
	KUNIT_EXPECT_EQ(test, st.bytes, er_fixed_bytes(q) + 3 * er_seg_bytes(q));
	rd = (struct er_reader){ .want = want, .n = ok };
	KUNIT_EXPECT_TRUE(test, er_drain(&c, &rd));
	KUNIT_EXPECT_EQ(test, rd.bad, 0U);
	KUNIT_EXPECT_NULL(test, lfq_consumer_rec_peek(&c, &(u32){ 0 }));
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.produced, 5ULL * ER_SEG);
	KUNIT_EXPECT_EQ(test, st.consumed, 5ULL * ER_SEG);
	KUNIT_EXPECT_EQ(test, c.rec.corrupt, 0ULL);
	lfq_consumer_fini(&c);
}

/* ---------------------------------------------------------------------- */
/* The lap guard, per segment                                              */
/* ---------------------------------------------------------------------- */

/*
 * A record held at the start of segment 1 while the producers fill
 * segment 1 around it, all of segment 2 and a record of segment 3: the
 * reservations in segments 2 and 3 end more than a segment's size past
 * the held record, but in other memory, so none is refused. (A guard
 * blind to segments refuses the first one in segment 2.)
 */
static void lfq_elastic_rec_lap_older_test(struct kunit *test)
{
	struct lfq_queue *q = er_queue(test, ER_SEG, 4, 8);
	u32 in_seg[3] = {}, fails = 0, i, n = 0, per_seg;
	struct lfq_seg *s1, *s2 = NULL, *s3 = NULL, *s;
	struct lfq_elastic *el = q->el;
	struct lfq_rec_kresv held = {};
	u64 pos, last = 0;
	s64 refused0;
	struct lfq_consumer c;
	struct lfq_stats st;
	void *a;

	s1 = lfq_el_pseg(el);
	refused0 = atomic64_read(&q->lap_refused);
	/* 251 + 256 + 1 records of 16 bytes (see below). */
	per_seg = ER_SEG / 16;
	a = lfq_queue_rec_reserve(q, 64, &held);
	KUNIT_ASSERT_NOT_NULL(test, a);
	/* Held from here: no assertion until it is committed. */
	er_fill(a, 64, 7);
	for (i = 0; i < 251 + per_seg + 1; i++) {
		if (!er_put(q, 8, 1000 + i, &pos, &s)) {
			fails++;
			continue;
		}
		n++;
		last = pos;
		if (s == s1) {
			in_seg[0]++;
			continue;
		}
		if (!s2)
			s2 = s;
		if (s == s2) {
			in_seg[1]++;
			continue;
		}
		if (!s3)
			s3 = s;
		if (s == s3)
			in_seg[2]++;
	}
	lfq_queue_rec_commit(q, &held);

	KUNIT_EXPECT_EQ(test, fails, 0U);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lap_refused), refused0);
	/* 72 + 251 * 16 = 4088: the next one does not fit in segment 1. */
	KUNIT_EXPECT_EQ(test, in_seg[0], 251U);
	KUNIT_EXPECT_EQ(test, in_seg[1], per_seg);
	KUNIT_EXPECT_EQ(test, in_seg[2], 1U);
	KUNIT_EXPECT_EQ(test, last, 4088ULL + ER_SEG);
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.dropped, 0ULL);
	KUNIT_EXPECT_EQ(test, st.grows, 2ULL);
	KUNIT_ASSERT_NOT_NULL(test, s2);
	KUNIT_ASSERT_NOT_NULL(test, s3);
	KUNIT_EXPECT_EQ(test, er_base(q, s2), 4088ULL);
	KUNIT_EXPECT_EQ(test, er_base(q, s3), 4088ULL + ER_SEG);

	/* The held record first, then the rest, in order. */
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&c, q), 0);
	KUNIT_EXPECT_TRUE(test, er_get(&c, 64, 7));
	for (i = 0; i < n; i++)
		if (!er_get(&c, 8, 1000 + i))
			break;
	KUNIT_EXPECT_EQ(test, i, n);
	KUNIT_EXPECT_NULL(test, lfq_consumer_rec_peek(&c, &(u32){ 0 }));
	KUNIT_EXPECT_PTR_EQ(test, c.seg, s3);
	lfq_consumer_fini(&c);
}

/*
 * A record H held at the start of segment 2 (base 4080, not a multiple
 * of the segment's size), the segment filled honestly to 8 bytes short
 * of a lap past H. Then the consumer's tail word of segment 2 is forged
 * to its head: every reservation now ends past H's lap, on H's bytes, and
 * is refused (a drop, counted in lap_refused), the segment neither sealed
 * nor left; H stays as written. Once H is committed, the forged room is
 * taken. (Without the guard on elastic record queues, the reservations
 * write over H.)
 */
static void lfq_elastic_rec_lap_forged_test(struct kunit *test)
{
	static const u32 fill1[] = { 1016, 1016, 1016, 1000 };
	struct lfq_queue *q = er_queue(test, ER_SEG, 3, 4);
	u32 i, fills = 0, refused = 0, granted = 0;
	struct lfq_elastic *el = q->el;
	u64 head = 0, hdr = 0, head_after = 0, h_pos;
	s64 refused0;
	struct lfq_rec_kresv held = {}, r;
	struct lfq_seg *s1, *s2;
	struct lfq_stats st;
	bool intact;
	void *a, *p;

	s1 = lfq_el_pseg(el);
	for (i = 0; i < ARRAY_SIZE(fill1); i++)
		KUNIT_ASSERT_TRUE(test, er_put(q, fill1[i], i, NULL, NULL));
	refused0 = atomic64_read(&q->lap_refused);
	/* 4080 bytes used: H (72) opens segment 2. */
	a = lfq_queue_rec_reserve(q, 64, &held);
	KUNIT_ASSERT_NOT_NULL(test, a);
	/* Held from here: no assertion until it is committed. */
	er_fill(a, 64, 77);
	s2 = held.seg;
	h_pos = held.resv.pos;
	/* 72 + 251 * 16 = 4088: 8 bytes short of the segment's lap. */
	for (i = 0; i < 251; i++)
		fills += er_put(q, 8, 500 + i, NULL, NULL);
	head = er_head(s2);
	/* A consumer that says it passed everything, H too. */
	WRITE_ONCE(*s2->ring.tail, head);
	for (i = 0; i < 64; i++) {
		r = (struct lfq_rec_kresv){};
		p = lfq_queue_rec_reserve(q, 8 + 8 * (i % 8), &r);
		if (!p) {
			refused++;
			continue;
		}
		granted++;
		lfq_queue_rec_commit(q, &r);
	}
	head_after = er_head(s2);
	intact = er_bytes_ok(a, 64, 77);
	hdr = READ_ONCE(*(u64 *)((u8 *)a - LFQ_REC_HDR_SIZE));
	lfq_queue_rec_commit(q, &held);

	KUNIT_EXPECT_PTR_NE(test, s2, s1);
	KUNIT_EXPECT_EQ(test, h_pos, 4080ULL);
	KUNIT_EXPECT_EQ(test, er_base(q, s2), 4080ULL);
	KUNIT_EXPECT_EQ(test, fills, 251U);
	KUNIT_EXPECT_EQ(test, head, 4080ULL + ER_SEG - 8);
	KUNIT_EXPECT_EQ(test, refused, 64U);
	KUNIT_EXPECT_EQ(test, granted, 0U);
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lap_refused), refused0 + 64);
	/* Neither sealed nor moved; H's bytes and (empty) header intact. */
	KUNIT_EXPECT_EQ(test, head_after, head);
	KUNIT_EXPECT_TRUE(test, intact);
	KUNIT_EXPECT_EQ(test, hdr, 0ULL);
	lfq_el_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.grows, 1ULL);
	KUNIT_EXPECT_EQ(test, st.segments, 2ULL);
	KUNIT_EXPECT_EQ(test, st.dropped, 64ULL);
	KUNIT_EXPECT_PTR_EQ(test, lfq_el_pseg(el), s2);

	/* Published: the forged room is the consumer's to lose again. */
	KUNIT_EXPECT_TRUE(test, er_put(q, 8, 999, NULL, NULL));
	KUNIT_EXPECT_EQ(test, atomic64_read(&q->lap_refused), refused0 + 64);
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->dropped, 64ULL);
	KUNIT_EXPECT_EQ(test, lfq_el_stats(q, &st)->grows, 1ULL);
}

/* ---------------------------------------------------------------------- */
/* Self-NMIs (x86)                                                         */
/* ---------------------------------------------------------------------- */

/*
 * How long a sender (the race's timer, the probe) waits for its NMI
 * before it takes the request back.
 */
#define ER_NMI_WAIT_NS	(10 * NSEC_PER_MSEC)

/*
 * Register the handler for the test's duration and send every online CPU
 * a self-NMI: true if they all came (the race then has NMI producers).
 */
static bool er_nmi_setup(struct kunit *test)
{
	struct lfq_kunit_nmi_probe p;
	int err, cpu;
	bool ok = true;

	err = lfq_kunit_nmi_register(test);
	if (err) {
		kunit_info(test, "no NMI handler (%d): no NMI producer", err);
		return false;
	}
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		if (!lfq_kunit_nmi_probe(cpu, ER_NMI_WAIT_NS, &p)) {
			kunit_info(test, "CPU %d: no self-NMI (%d/%d): no NMI producer",
				   cpu, p.raised, p.nmi);
			ok = false;
			break;
		}
	}
	cpus_read_unlock();
	return ok;
}

/* ---------------------------------------------------------------------- */
/* The race                                                                */
/* ---------------------------------------------------------------------- */

#define RACE_SEG	8192u
#define RACE_SEG_MIN	2u
#define RACE_SEG_MAX	12u
#define RACE_THREADS	2
#define RACE_TIMER	RACE_THREADS		/* the hrtimer's records */
#define RACE_NMI	(RACE_THREADS + 1)	/* the NMIs' it raises */
#define RACE_PRODS	(RACE_THREADS + 2)
#define RACE_PER_THREAD	30000u
#define RACE_FIRES	5000u
#define RACE_PERIOD_NS	100000
/* Threads back off while this many segments are live. */
#define RACE_BACKOFF	(RACE_SEG_MAX - 2)
/* The consumer sleeps 25 ms after each this many records. */
#define RACE_PAUSE_EVERY 1500u
#define RACE_DEADLINE_S	120

/**
 * struct erec - the start of every record of the race; its bytes after
 * it follow from @who and @seq (er_byte()).
 * @who:	the producer.
 * @ctx:	its context, LFQ_CONTEXT_*, measured as it wrote.
 * @seq:	its sequence number.
 */
struct erec {
	u32 who;
	u32 ctx;
	u64 seq;
};

#define EREC_MIN	((u32)sizeof(struct erec))

/* @who's record @seq: mostly short, one in 16 up to the limit @max. */
static u32 erec_len(u32 who, u64 seq, u32 max)
{
	u32 h = (u32)(seq + 1) * 2654435761u ^ (who + 1) * 40503u;

	if (!(h & 15))
		return EREC_MIN + (h >> 4) % (max - EREC_MIN + 1);
	return EREC_MIN + (h >> 4) % 113;
}

static u64 erec_id(u32 who, u64 seq)
{
	return (u64)who << 40 ^ seq;
}

static void erec_write(void *rec, u32 len, u32 who, u64 seq)
{
	struct erec *e = rec;

	e->who = who;
	e->ctx = lfq_src_context();
	e->seq = seq;
	er_fill((u8 *)rec + EREC_MIN, len - EREC_MIN, erec_id(who, seq));
}

/**
 * struct er_prod - one producer's count (written by it alone).
 * @seq:	its next record's number; a dropped record takes one too.
 * @drops:	its reservations that failed.
 */
struct er_prod {
	u64 seq;
	u64 drops;
};

/**
 * struct er_tally - what the consumer found.
 * @next:	per producer, the number after its last record seen.
 * @gaps:	per producer, numbers it skipped.
 * @got:	per producer, records delivered.
 * @total:	records delivered.
 * @bad:	records torn, of a length not theirs, or of no producer.
 * @order:	records at or before their producer's previous one.
 * @wrong_ctx:	records not written in their producer's context.
 * @max:	the limit.
 */
struct er_tally {
	u64 next[RACE_PRODS];
	u64 gaps[RACE_PRODS];
	u64 got[RACE_PRODS];
	u64 total;
	u64 bad;
	u64 order;
	u64 wrong_ctx;
	u32 max;
};

struct er_run;

/**
 * struct er_thread - a producer thread's argument.
 * @run:	the race.
 * @who:	its producer number.
 */
struct er_thread {
	struct er_run *run;
	u32 who;
};

/**
 * struct er_run - the race (on the heap).
 * @q:		the queue.
 * @max:	its limit.
 * @timer:	the hardirq producer.
 * @nmi_req:	the NMI producer's work.
 * @use_nmi:	self-NMIs come: the timer raises one each time.
 * @fires:	the timer's expiries.
 * @nmi_lost:	NMIs that never came.
 * @nmi_max_ns:	the longest NMI's records took.
 * @nmi_slow:	NMIs whose records took over a millisecond.
 * @prod:	the producers' counts: threads, timer, NMI.
 * @th:		the threads' arguments.
 * @task:	the producer threads, then the consumer (references held),
 *		NULL if not created.
 * @started:	threads that started.
 * @done:	producers finished (threads and the timer): ORDERING, a
 *		release after their last commit, acquired by the consumer.
 * @stop:	end now.
 * @finished:	the consumer is done (release).
 * @timed_out:	the consumer gave up at its deadline.
 * @waits:	times the consumer waited.
 * @c:		the in-kernel consumer.
 * @t:		what it found.
 */
struct er_run {
	struct lfq_queue *q;
	u32 max;
	struct hrtimer timer;
	struct lfq_kunit_nmi_req nmi_req;
	bool use_nmi;
	u32 fires;
	u64 nmi_lost;
	u64 nmi_max_ns;
	u64 nmi_slow;
	struct er_prod prod[RACE_PRODS];
	struct er_thread th[RACE_THREADS];
	struct task_struct *task[RACE_THREADS + 1];
	atomic_t started;
	atomic_t done;
	atomic_t stop;
	atomic_t finished;
	bool timed_out;
	u64 waits;
	struct lfq_consumer c;
	struct er_tally t;
};

/* Reserve and write @who's next record; NULL (a drop) if it failed. */
static void *er_reserve(struct er_run *run, u32 who, struct lfq_rec_kresv *r)
{
	struct er_prod *p = &run->prod[who];
	u32 len = erec_len(who, p->seq, run->max);
	void *rec;

	*r = (struct lfq_rec_kresv){};
	rec = lfq_queue_rec_reserve(run->q, len, r);
	if (rec)
		erec_write(rec, len, who, p->seq);
	else
		p->drops++;
	p->seq++;
	return rec;
}

static bool er_run_put(struct er_run *run, u32 who)
{
	struct lfq_rec_kresv r;

	if (!er_reserve(run, who, &r))
		return false;
	lfq_queue_rec_commit(run->q, &r);
	return true;
}

/* In the NMI: 1 or 2 records. */
static void er_run_nmi(struct lfq_kunit_nmi_req *req)
{
	struct er_run *run = container_of(req, struct er_run, nmi_req);
	u32 i, n = 1 + (u32)(run->prod[RACE_NMI].seq & 1);
	u64 t0 = local_clock(), dt;

	for (i = 0; i < n; i++)
		er_run_put(run, RACE_NMI);
	dt = local_clock() - t0;
	run->nmi_max_ns = max(run->nmi_max_ns, dt);
	run->nmi_slow += dt > NSEC_PER_MSEC;
}

/*
 * The timer, in hardirq context: its own record reserved, the NMI raised
 * while it is held (the NMI's records land after it, possibly in the next
 * segment), committed, then two more.
 */
static enum hrtimer_restart er_run_timer(struct hrtimer *timer)
{
	struct er_run *run = container_of(timer, struct er_run, timer);
	struct lfq_rec_kresv r;
	void *rec = er_reserve(run, RACE_TIMER, &r);

	if (run->use_nmi &&
	    !lfq_kunit_nmi_raise(&run->nmi_req, ER_NMI_WAIT_NS))
		run->nmi_lost++;
	if (rec)
		lfq_queue_rec_commit(run->q, &r);
	er_run_put(run, RACE_TIMER);
	er_run_put(run, RACE_TIMER);
	if (++run->fires >= RACE_FIRES) {
		/* ORDERING: after its commits; pairs with the consumer. */
		atomic_fetch_inc_release(&run->done);
		return HRTIMER_NORESTART;
	}
	if (atomic_read(&run->stop))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, ns_to_ktime(RACE_PERIOD_NS));
	return HRTIMER_RESTART;
}

/* A thread done with its work waits for kthread_stop(). */
static void er_idle_until_stop(void)
{
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
}

static int er_run_producer(void *arg)
{
	struct er_thread *th = arg;
	struct er_run *run = th->run;
	struct er_prod *p = &run->prod[th->who];

	atomic_inc(&run->started);
	while (!kthread_should_stop() && !atomic_read(&run->stop) &&
	       p->seq < RACE_PER_THREAD) {
		if (!er_run_put(run, th->who))
			usleep_range(50, 100);	/* at seg_max, or no spare */
		else if (atomic_read(&run->q->el->live) >= RACE_BACKOFF)
			usleep_range(200, 400);	/* room for the interrupts */
		else if (!(p->seq & 31))
			cond_resched();
	}
	/* ORDERING: after its commits; pairs with the consumer's acquire. */
	atomic_fetch_inc_release(&run->done);
	er_idle_until_stop();
	return 0;
}

/* The consumer's check of one record (and lfq_consumer_rec_consume()'s). */
static int er_run_check(void *ctx, const void *rec, u32 len)
{
	static const u32 ctx_of[RACE_PRODS] = {
		[0 ... RACE_THREADS - 1] = LFQ_CONTEXT_THREAD,
		[RACE_TIMER] = LFQ_CONTEXT_HARDIRQ,
		[RACE_NMI] = LFQ_CONTEXT_NMI,
	};
	struct er_tally *t = ctx;
	const struct erec *e = rec;
	u32 who;
	u64 seq;

	t->total++;
	if (len < EREC_MIN || e->who >= RACE_PRODS) {
		t->bad++;
		return 0;
	}
	who = e->who;
	seq = e->seq;
	if (len != erec_len(who, seq, t->max) ||
	    !er_bytes_ok((const u8 *)rec + EREC_MIN, len - EREC_MIN,
			 erec_id(who, seq)))
		t->bad++;
	if (e->ctx != ctx_of[who])
		t->wrong_ctx++;
	if (seq < t->next[who]) {
		t->order++;
		return 0;
	}
	t->gaps[who] += seq - t->next[who];
	t->next[who] = seq + 1;
	t->got[who]++;
	return 0;
}

/* One step of the consumer (lfq_kunit_rec_take()): records taken. */
static int er_run_take(struct er_run *run, u64 step)
{
	return lfq_kunit_rec_take(&run->c, step, er_run_check, &run->t,
				  &run->t.bad);
}

/*
 * The consumer thread: takes records until every producer is done and
 * both kinds of take find nothing, twice; sleeps in lfq_consumer_wait()
 * when there is nothing yet, and pauses now and then so that segments
 * pile up to seg_max.
 */
static int er_run_consumer(void *arg)
{
	unsigned long deadline = jiffies + RACE_DEADLINE_S * HZ;
	u64 step = 0, pause = RACE_PAUSE_EVERY;
	struct er_run *run = arg;
	u32 empty = 0;
	bool fin;

	atomic_inc(&run->started);
	for (;;) {
		if (kthread_should_stop() || atomic_read(&run->stop) ||
		    time_after(jiffies, deadline)) {
			run->timed_out = true;
			break;
		}
		/* ORDERING: acquire, pairs with the producers' release. */
		fin = atomic_read_acquire(&run->done) == RACE_THREADS + 1;
		if (er_run_take(run, step++)) {
			empty = 0;
			if (run->t.total >= pause) {
				pause = run->t.total + RACE_PAUSE_EVERY;
				msleep(25);
			}
			continue;
		}
		if (fin) {
			if (++empty >= 4)
				break;
			continue;
		}
		run->waits++;
		lfq_consumer_wait(&run->c, 1, 10 * NSEC_PER_MSEC);
	}
	atomic_set_release(&run->finished, 1);
	er_idle_until_stop();
	return 0;
}

/* Stop everything that runs: the timer, then every thread. */
static void er_run_stop(struct er_run *run)
{
	u32 i;

	atomic_set(&run->stop, 1);
	hrtimer_cancel(&run->timer);
	for (i = 0; i < RACE_THREADS + 1; i++) {
		if (!run->task[i])
			continue;
		/* Never waits for what the thread does at its end. */
		kthread_stop(run->task[i]);
		put_task_struct(run->task[i]);
		run->task[i] = NULL;
	}
}

/* Start thread @i (the consumer if @i is RACE_THREADS); false if not. */
static bool er_run_spawn(struct er_run *run, u32 i)
{
	struct task_struct *task;

	if (i < RACE_THREADS) {
		run->th[i] = (struct er_thread){ run, i };
		task = kthread_run(er_run_producer, &run->th[i],
				   "lfq-erp/%u", i);
	} else {
		task = kthread_run(er_run_consumer, run, "lfq-erc");
	}
	if (IS_ERR(task))
		return false;
	get_task_struct(task);
	run->task[i] = task;
	return true;
}

static void lfq_elastic_rec_race_test(struct kunit *test)
{
	struct er_run *run = kunit_kzalloc(test, sizeof(*run), GFP_KERNEL);
	unsigned int idle_ms = lfq_kunit_seg_idle_ms(test);
	u64 rest, drops = 0, gaps, waits;
	bool spawned = true, started, finished = false;
	struct lfq_elastic *el;
	struct lfq_stats st;
	unsigned long t0;
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, run);
	run->q = er_queue(test, RACE_SEG, RACE_SEG_MIN, RACE_SEG_MAX);
	el = run->q->el;
	run->max = lfq_rec_max_len(RACE_SEG);
	run->t.max = run->max;
	rest = lfq_el_stats(run->q, &st)->bytes;
	KUNIT_EXPECT_EQ(test, rest, er_fixed_bytes(run->q) +
			RACE_SEG_MIN * er_seg_bytes(run->q));
	run->nmi_req.fn = er_run_nmi;
	run->use_nmi = er_nmi_setup(test);
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(&run->c, run->q), 0);
	hrtimer_init(&run->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	run->timer.function = er_run_timer;

	/* No assertion from here until er_run_stop(). */
	t0 = jiffies;
	for (i = 0; i < RACE_THREADS + 1 && spawned; i++)
		spawned = er_run_spawn(run, i);
	started = spawned &&
		  lfq_el_poll(atomic_read(&run->started) == RACE_THREADS + 1,
			      10000);
	if (started) {
		hrtimer_start(&run->timer, ns_to_ktime(RACE_PERIOD_NS),
			      HRTIMER_MODE_REL_HARD);
		finished = lfq_el_poll(atomic_read_acquire(&run->finished),
				       (RACE_DEADLINE_S + 30) * 1000);
	}
	er_run_stop(run);
	waits = run->waits;

	KUNIT_EXPECT_TRUE(test, spawned);
	KUNIT_EXPECT_TRUE(test, started);
	KUNIT_EXPECT_TRUE(test, finished);
	KUNIT_EXPECT_FALSE(test, run->timed_out);
	KUNIT_EXPECT_EQ(test, run->t.bad, 0ULL);
	KUNIT_EXPECT_EQ(test, run->t.order, 0ULL);
	KUNIT_EXPECT_EQ(test, run->t.wrong_ctx, 0ULL);
	KUNIT_EXPECT_EQ(test, run->c.rec.corrupt, 0ULL);
	for (i = 0; i < RACE_PRODS; i++) {
		struct er_prod *p = &run->prod[i];

		/* Every number not delivered was dropped, and no other. */
		gaps = run->t.gaps[i] + (p->seq - run->t.next[i]);
		KUNIT_EXPECT_EQ_MSG(test, gaps, p->drops, "producer %u", i);
		KUNIT_EXPECT_EQ_MSG(test, run->t.got[i] + p->drops, p->seq,
				    "producer %u", i);
		drops += p->drops;
		if (i != RACE_NMI || run->use_nmi)
			KUNIT_EXPECT_GT_MSG(test, run->t.got[i], 0ULL,
					    "producer %u", i);
	}
	KUNIT_EXPECT_EQ(test, run->prod[0].seq, (u64)RACE_PER_THREAD);
	KUNIT_EXPECT_EQ(test, run->fires, RACE_FIRES);
	lfq_el_stats(run->q, &st);
	KUNIT_EXPECT_EQ(test, st.dropped, drops);
	/* Honest producers: the lap guard refused none. */
	KUNIT_EXPECT_EQ(test, atomic64_read(&run->q->lap_refused), 0);
	KUNIT_EXPECT_EQ(test, st.produced, st.consumed);
	/* It grew, to seg_max at most... */
	KUNIT_EXPECT_GE(test, st.grows, 4ULL);
	KUNIT_EXPECT_GE(test, st.segments_peak, 3ULL);
	KUNIT_EXPECT_LE(test, st.segments_peak, (u64)RACE_SEG_MAX);
	KUNIT_EXPECT_LE(test, st.bytes, er_fixed_bytes(run->q) +
			RACE_SEG_MAX * er_seg_bytes(run->q));
	kunit_info(test, "%llu records (threads %llu %llu, hardirq %llu, NMI %llu), %llu drops, %llu grows, peak %llu segments, %llu waits, %u ms",
		   run->t.total, run->t.got[0], run->t.got[1],
		   run->t.got[RACE_TIMER], run->t.got[RACE_NMI], drops,
		   st.grows, st.segments_peak, waits,
		   jiffies_to_msecs(jiffies - t0));
	if (run->use_nmi)
		kunit_info(test, "NMI records: %llu us at most, %llu NMIs over 1 ms, %llu NMIs never came",
			   div_u64(run->nmi_max_ns, NSEC_PER_USEC),
			   run->nmi_slow, run->nmi_lost);

	/* ...and shrinks back: the consumer is in the newest segment. */
	KUNIT_EXPECT_PTR_EQ(test, run->c.seg, er_newest(el));
	lfq_consumer_fini(&run->c);
	lfq_seg_reclaim_sync(el);
	lfq_el_stats(run->q, &st);
	KUNIT_EXPECT_EQ(test, st.segments, 1ULL);
	KUNIT_EXPECT_EQ(test, st.shrinks, st.grows);
	/* After seg_idle_ms without growth: seg_min segments' memory. */
	KUNIT_EXPECT_TRUE(test,
			  lfq_el_poll(lfq_el_stats(run->q, &st)->bytes == rest,
				      3 * idle_ms + 5000));
	lfq_el_stats(run->q, &st);
	KUNIT_EXPECT_EQ(test, st.segments, 1ULL);
	KUNIT_EXPECT_EQ(test, st.pool, RACE_SEG_MIN - 1ULL);
	irq_work_sync(&run->q->wake_work);
}

static struct kunit_case lfq_elastic_rec_cases[] = {
	KUNIT_CASE(lfq_elastic_rec_geometry_test),
	KUNIT_CASE(lfq_elastic_rec_bounds_test),
	KUNIT_CASE(lfq_elastic_rec_out_of_order_test),
	KUNIT_CASE(lfq_elastic_rec_no_room_test),
	KUNIT_CASE(lfq_elastic_rec_seg_max_test),
	KUNIT_CASE(lfq_elastic_rec_lap_older_test),
	KUNIT_CASE(lfq_elastic_rec_lap_forged_test),
	KUNIT_CASE(lfq_elastic_rec_race_test),
	{}
};

static struct kunit_suite lfq_elastic_rec_suite = {
	.name = "lfq_elastic_rec",
	.test_cases = lfq_elastic_rec_cases,
};

kunit_test_suite(lfq_elastic_rec_suite);

MODULE_DESCRIPTION("KUnit tests for lfq's elastic record queues");
MODULE_LICENSE("GPL");
