// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_rec_ow_kunit.c - KUnit suite lfq_rec_ow: record queues in overwrite
 * mode (LFQ_CREATE_OVERWRITE, the flight recorder) in the kernel. Kernel
 * producers never fail for lack of space: over many laps the oldest
 * records go, counted, and the ring holds the newest, whole; a record the
 * consumer holds is never overwritten (producers drop at it); races of
 * kernel threads and a hardirq timer overwriting while a consumer takes
 * records one by one and in runs and snapshots copy them: every record is
 * delivered or overwritten, never both, never torn. The kernel's repairs
 * (kmod/core/lfq_rec_ow.c): the overwrite of a producer that died in it
 * is finished, a released consumer's held records go back. The in-kernel
 * consumer holds tail from its peek to its release. A large record takes
 * as many small ones as it needs. NMI producers: the suite lfq_rec_nmi,
 * and tests/vm/rec_ow_sources.c (SYNTH with LFQ_SOURCE_SYNTH_NMI).
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched/task.h>

#include "core/lfq_rec_ow.h"
#include "lfq_kunit_util.h"
#include "proto/lfq_rec.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define OW_RING		4096u

static struct lfq_queue *ow_queue(struct kunit *test, u32 bytes)
{
	struct lfq_geometry g = {
		.type = LFQ_TYPE_MPSC,
		.flags = LFQ_CREATE_RECORDS | LFQ_CREATE_OVERWRITE,
		.slot_size = 1, .slot_count = bytes,
	};

	return lfq_kunit_queue_geo(test, &g);
}

static void ow_cons(struct lfq_queue *q, struct lfq_rec_cons *c)
{
	struct lfq_rec_ring rr;

	lfq_rec_ring_init(&rr, &q->ring);
	lfq_rec_cons_init(c, &rr);
}

/* A record of id @id: its id, then bytes derived from it. */
static u32 ow_len(u64 id)
{
	return 8 + (u32)((id * 2654435761u) % 120);
}

static void ow_fill(u8 *p, u32 len, u64 id)
{
	u32 i;

	memcpy(p, &id, 8);
	for (i = 8; i < len; i++)
		p[i] = (u8)(id * 131 + i * 7);
}

/* The id of a whole record, or U64_MAX. */
static u64 ow_check(const u8 *p, u32 len)
{
	u64 id;
	u32 i;

	if (len < 8)
		return U64_MAX;
	memcpy(&id, p, 8);
	if ((id & ((1ull << 40) - 1)) > (1ull << 32) ||
	    len != ow_len(id))
		return U64_MAX;
	for (i = 8; i < len; i++)
		if (p[i] != (u8)(id * 131 + i * 7))
			return U64_MAX;
	return id;
}

static bool ow_put(struct lfq_queue *q, u64 id)
{
	struct lfq_rec_kresv r;
	u32 len = ow_len(id);
	u8 *p = lfq_queue_rec_reserve(q, len, &r);

	if (!p)
		return false;
	ow_fill(p, len, id);
	lfq_queue_rec_commit(q, &r);
	return true;
}

/*
 * Snapshot @q's ring: records whole, in order per producer (the id's top
 * bits); returns the count, *@last the newest id copied.
 */
static u32 ow_snapshot(struct lfq_queue *q, u64 *last, u64 *bad)
{
	static u8 buf[OW_RING];
	u64 h, id, next[4] = { 0 };
	struct lfq_rec_ring rr;
	struct lfq_rec_snap s;
	const void *src;
	u32 n = 0, len, who;

	*last = 0;
	lfq_rec_ring_init(&rr, &q->ring);
	lfq_rec_snap_init(&s, &rr);
	while ((src = lfq_rec_snap_next(&s, &h)) || s.paused) {
		if (!src)
			continue;
		len = (u32)(h & LFQ_REC_LEN_MASK);
		lfq_rec_snap_copy(buf, src, len);
		if (!lfq_rec_snap_check(&s, h))
			continue;
		id = ow_check(buf, len);
		who = (u32)(id >> 40);
		if (id == U64_MAX || who >= 4 ||
		    (id & ((1ull << 40) - 1)) < next[who]) {
			(*bad)++;
			continue;
		}
		next[who] = (id & ((1ull << 40) - 1)) + 1;
		*last = id;
		n++;
	}
	return n;
}

/*
 * A ring full of the smallest records, then one of the largest: it takes
 * as many as it needs (64 here, past a kernel producer's
 * LFQ_KAPI_MAX_TRIES), is not refused, and arrives whole.
 */
static void lfq_rec_ow_many_test(struct kunit *test)
{
	struct lfq_queue *q = ow_queue(test, OW_RING);
	u32 max = lfq_rec_max_len(OW_RING), len, i;
	struct lfq_rec_kresv r;
	struct lfq_rec_cons c;
	struct lfq_stats st;
	const u8 *p;
	u8 *w;

	ow_cons(q, &c);
	for (i = 0; i < OW_RING / 16; i++) {
		w = lfq_queue_rec_reserve(q, 1 + i % 8, &r);
		KUNIT_ASSERT_NOT_NULL(test, w);
		memset(w, 0x11, 1 + i % 8);
		lfq_queue_rec_commit(q, &r);
	}
	w = lfq_queue_rec_reserve(q, max, &r);
	KUNIT_ASSERT_NOT_NULL(test, w);
	memset(w, 0x77, max);
	lfq_queue_rec_commit(q, &r);
	lfq_queue_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.dropped, 0);
	KUNIT_EXPECT_EQ(test, st.overwritten, (u64)lfq_rec_size(max) / 16);
	/* The small records left, then the large one. */
	while ((p = lfq_rec_peek(&c, &len)) && len <= 8)
		lfq_rec_release(&c);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, len, max);
	KUNIT_EXPECT_EQ(test, p[0], 0x77);
	KUNIT_EXPECT_EQ(test, p[max - 1], 0x77);
	lfq_rec_release(&c);
}

/* 50 laps from one producer: none refused, the newest kept, counted. */
static void lfq_rec_ow_wrap_test(struct kunit *test)
{
	struct lfq_queue *q = ow_queue(test, OW_RING);
	u64 i, n = 50 * OW_RING / 72, id, first = U64_MAX, last = 0;
	u64 got = 0, bad = 0, snap_last;
	struct lfq_rec_cons c;
	struct lfq_stats st;
	const u8 *p;
	u32 len, snap;

	ow_cons(q, &c);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_TRUE(test, ow_put(q, i));
	lfq_queue_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.dropped, 0);
	snap = ow_snapshot(q, &snap_last, &bad);
	while ((p = lfq_rec_peek(&c, &len))) {
		id = ow_check(p, len);
		if (id == U64_MAX || (got && id != last + 1))
			bad++;
		if (first == U64_MAX)
			first = id;
		last = id;
		got++;
		lfq_rec_release(&c);
	}
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, last, n - 1);
	KUNIT_EXPECT_EQ(test, first, n - got);
	KUNIT_EXPECT_EQ(test, st.overwritten + got, n);
	KUNIT_EXPECT_EQ(test, snap, got);
	KUNIT_EXPECT_EQ(test, snap_last, n - 1);
	KUNIT_EXPECT_GT(test, got, OW_RING / 136);
}

/* A held record is never overwritten; producers drop at it meanwhile. */
static void lfq_rec_ow_held_test(struct kunit *test)
{
	struct lfq_queue *q = ow_queue(test, OW_RING);
	struct lfq_rec_cons c;
	struct lfq_stats st;
	u64 i, fails = 0;
	const u8 *p;
	u32 len;

	ow_cons(q, &c);
	for (i = 0; i < 2 * OW_RING / 72; i++)
		KUNIT_ASSERT_TRUE(test, ow_put(q, i));
	p = lfq_rec_peek(&c, &len);
	KUNIT_ASSERT_NOT_NULL(test, p);
	for (; i < 6 * OW_RING / 72; i++)
		fails += !ow_put(q, i);
	KUNIT_EXPECT_GT(test, fails, 0);
	KUNIT_EXPECT_NE(test, ow_check(p, len), U64_MAX);
	lfq_queue_stats(q, &st);
	KUNIT_EXPECT_EQ(test, st.dropped, fails);
	lfq_rec_release(&c);
	for (fails = 0; i < 8 * OW_RING / 72; i++)
		fails += !ow_put(q, i);
	KUNIT_EXPECT_EQ(test, fails, 0);
}

/* ---------------------------------------------------------------------- */

#define OW_THREADS	2
#define OW_PER		20000u
#define OW_TIMER	(OW_THREADS)

/**
 * struct ow_mt - kernel threads and a hardirq timer overwriting at once.
 * @q:		the queue.
 * @timer:	the hardirq producer.
 * @seq:	each producer's next sequence number (committed or dropped).
 * @done:	producers finished.
 * @drops:	reservations refused.
 * @c:		the consumer's view (off the stack: KASAN's frames are big).
 * @b:		its runs.
 * @st:		the queue's counters at the end.
 */
struct ow_mt {
	struct lfq_queue *q;
	struct hrtimer timer;
	u64 seq[OW_THREADS + 1];
	atomic_t done;
	atomic64_t drops;
	struct lfq_rec_cons c;
	struct lfq_rec_batch b;
	struct lfq_stats st;
};

static void ow_mt_put(struct ow_mt *m, u32 who)
{
	u64 id = (u64)who << 40 | m->seq[who];

	if (!ow_put(m->q, id))
		atomic64_inc(&m->drops);
	m->seq[who]++;
}

static enum hrtimer_restart ow_mt_timer(struct hrtimer *t)
{
	struct ow_mt *m = container_of(t, struct ow_mt, timer);
	int i;

	for (i = 0; i < 8 && m->seq[OW_TIMER] < OW_PER; i++)
		ow_mt_put(m, OW_TIMER);
	if (m->seq[OW_TIMER] >= OW_PER) {
		atomic_inc(&m->done);
		return HRTIMER_NORESTART;
	}
	hrtimer_forward_now(t, ns_to_ktime(20000));
	return HRTIMER_RESTART;
}

struct ow_mt_thread {
	struct ow_mt *m;
	u32 who;
};

static int ow_mt_thread(void *arg)
{
	struct ow_mt_thread *t = arg;

	while (t->m->seq[t->who] < OW_PER) {
		ow_mt_put(t->m, t->who);
		if (!(t->m->seq[t->who] & 63))
			cond_resched();
	}
	atomic_inc(&t->m->done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/* A consumed record: whole, and after the producer's previous one. */
static void ow_take(u64 *next, u64 *bad, const u8 *p, u32 len)
{
	u64 id = ow_check(p, len);
	u32 who = (u32)(id >> 40);

	if (id == U64_MAX || who > OW_TIMER ||
	    (id & ((1ull << 40) - 1)) < next[who]) {
		(*bad)++;
		return;
	}
	next[who] = (id & ((1ull << 40) - 1)) + 1;
}

/*
 * Producers in two kernel threads and a hardirq timer overwrite a small
 * ring while the test takes records one at a time and in runs, and takes
 * snapshots: every record delivered is whole and in order per producer,
 * and committed = delivered + overwritten.
 */
static void lfq_rec_ow_races_test(struct kunit *test)
{
	struct ow_mt *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	struct ow_mt_thread th[OW_THREADS];
	struct task_struct *task[OW_THREADS];
	u64 next[OW_TIMER + 1] = { 0 }, got = 0, bad = 0, snaps = 0, last;
	u64 snap_bad = 0;
	unsigned long deadline = jiffies + 120 * HZ;
	u64 total = (OW_THREADS + 1) * (u64)OW_PER, round = 0, off;
	struct lfq_rec_batch *b;
	struct lfq_rec_cons *c;
	struct lfq_stats *st;
	const u8 *p;
	u32 len, i;

	KUNIT_ASSERT_NOT_NULL(test, m);
	b = &m->b;
	c = &m->c;
	st = &m->st;
	m->q = ow_queue(test, OW_RING);
	ow_cons(m->q, c);
	hrtimer_init(&m->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	m->timer.function = ow_mt_timer;
	for (i = 0; i < OW_THREADS; i++) {
		th[i] = (struct ow_mt_thread){ m, i };
		task[i] = kthread_run(ow_mt_thread, &th[i], "lfq-ow-%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task[i]));
		get_task_struct(task[i]);
	}
	hrtimer_start(&m->timer, ns_to_ktime(20000), HRTIMER_MODE_REL_HARD);
	while (time_before(jiffies, deadline)) {
		bool done = atomic_read(&m->done) == OW_THREADS + 1;

		if (round++ & 1) {
			p = lfq_rec_peek(c, &len);
			if (p) {
				ow_take(next, &bad, p, len);
				got++;
				lfq_rec_release(c);
			}
		} else if (lfq_rec_peek_batch(c, 1 + round % 8, b)) {
			off = 0;
			while ((p = lfq_rec_batch_next(b, &off, &len))) {
				ow_take(next, &bad, p, len);
				got++;
				/* Some runs cut short: the rest goes back. */
				if (round % 5 == 0) {
					lfq_rec_batch_cut(b, off);
					break;
				}
			}
			lfq_rec_release_batch(c, b);
		} else {
			lfq_rec_release_batch(c, b);
			if (done)
				break;
		}
		if (!(round % 16)) {
			ow_snapshot(m->q, &last, &snap_bad);
			snaps++;
		}
		cond_resched();
	}
	hrtimer_cancel(&m->timer);
	for (i = 0; i < OW_THREADS; i++) {
		kthread_stop(task[i]);
		put_task_struct(task[i]);
	}
	lfq_queue_stats(m->q, st);
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, snap_bad, 0);
	KUNIT_EXPECT_EQ(test, c->corrupt, 0);
	KUNIT_EXPECT_EQ(test, got + st->overwritten +
			(u64)atomic64_read(&m->drops), total);
	KUNIT_EXPECT_GT(test, st->overwritten, 0);
	/* Honest producers: the lap guard never refused one. */
	KUNIT_EXPECT_EQ(test, atomic64_read(&m->q->lap_refused), 0);
	kunit_info(test, "%llu delivered, %llu overwritten, %lld dropped, %llu snapshots",
		   got, st->overwritten, (s64)atomic64_read(&m->drops), snaps);
}

/* ---------------------------------------------------------------------- */

/* The ownership of tail a gone taker left: what it did is finished. */
static void lfq_rec_ow_finish_test(struct kunit *test)
{
	struct lfq_queue *q = ow_queue(test, OW_RING);
	u64 t, h, i, n = 0;
	u32 need;

	for (i = 0; i < 2 * OW_RING / 72; i++)
		KUNIT_ASSERT_TRUE(test, ow_put(q, i));
	/* Nobody owns tail: nothing to finish. */
	t = READ_ONCE(*q->ring.tail);
	KUNIT_EXPECT_FALSE(test, lfq_rec_ow_finish(&q->ring, t, &n));
	/* A producer that died owning tail: its record is overwritten. */
	h = READ_ONCE(*lfq_rec_hdr_at(&q->ring, t));
	need = lfq_rec_size((u32)(h & LFQ_REC_LEN_MASK));
	WRITE_ONCE(*q->ring.tail, t | LFQ_REC_TAIL_RECLAIM);
	KUNIT_EXPECT_FALSE(test, lfq_rec_ow_finish(&q->ring, t, &n));
	KUNIT_EXPECT_TRUE(test, lfq_rec_ow_finish(&q->ring,
						  t | LFQ_REC_TAIL_RECLAIM, &n));
	KUNIT_EXPECT_EQ(test, READ_ONCE(*q->ring.tail), t + need);
	KUNIT_EXPECT_EQ(test, n, 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*(u64 *)(q->ring.data +
						  ((t + 8) & (OW_RING - 1)))), 0);
	/* A consumer that died in the release of two records: finished. */
	t = READ_ONCE(*q->ring.tail);
	h = READ_ONCE(*lfq_rec_hdr_at(&q->ring, t));
	need = lfq_rec_size((u32)(h & LFQ_REC_LEN_MASK));
	WRITE_ONCE(*lfq_rec_hdr_at(&q->ring, t), h | LFQ_REC_RELEASED);
	h = READ_ONCE(*lfq_rec_hdr_at(&q->ring, t + need));
	WRITE_ONCE(*lfq_rec_hdr_at(&q->ring, t + need), h | LFQ_REC_RELEASED);
	need += lfq_rec_size((u32)(h & LFQ_REC_LEN_MASK));
	WRITE_ONCE(*q->ring.tail, t | LFQ_REC_TAIL_HELD);
	KUNIT_EXPECT_TRUE(test, lfq_rec_ow_finish(&q->ring,
						  t | LFQ_REC_TAIL_HELD, &n));
	KUNIT_EXPECT_EQ(test, READ_ONCE(*q->ring.tail), t + need);
	KUNIT_EXPECT_EQ(test, n, 1);
	/* A producer that died owning tail over a record being written. */
	t = READ_ONCE(*q->ring.tail);
	h = READ_ONCE(*lfq_rec_hdr_at(&q->ring, t));
	WRITE_ONCE(*lfq_rec_hdr_at(&q->ring, t), 0);
	WRITE_ONCE(*q->ring.tail, t | LFQ_REC_TAIL_RECLAIM);
	KUNIT_EXPECT_TRUE(test, lfq_rec_ow_finish(&q->ring,
						  t | LFQ_REC_TAIL_RECLAIM, &n));
	KUNIT_EXPECT_EQ(test, READ_ONCE(*q->ring.tail), t);
	WRITE_ONCE(*lfq_rec_hdr_at(&q->ring, t), h);
	/* Producers overwrite again. */
	for (i = 0; i < OW_RING / 72; i++)
		KUNIT_EXPECT_TRUE(test, ow_put(q, 1000 + i));
}

/* A released consumer's held records go back to the ring. */
static void lfq_rec_ow_consumer_gone_test(struct kunit *test)
{
	struct lfq_queue *q = ow_queue(test, OW_RING);
	struct lfq_rec_cons c, c2;
	struct lfq_rec_batch b;
	u64 i, id0, off = 0;
	const u8 *p;
	u32 len;

	ow_cons(q, &c);
	for (i = 0; i < 2 * OW_RING / 72; i++)
		KUNIT_ASSERT_TRUE(test, ow_put(q, i));
	KUNIT_ASSERT_EQ(test, lfq_rec_peek_batch(&c, 3, &b), 3);
	p = lfq_rec_batch_next(&b, &off, &len);
	KUNIT_ASSERT_NOT_NULL(test, p);
	id0 = ow_check(p, len);
	/* Held: producers drop at them. */
	KUNIT_EXPECT_FALSE(test, ow_put(q, 5000));
	lfq_rec_ow_released(q, LFQ_ROLE_CONSUMER);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(*q->ring.tail) & LFQ_REC_TAIL_BITS);
	/* The next consumer gets the first of them again. */
	ow_cons(q, &c2);
	p = lfq_rec_peek(&c2, &len);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, ow_check(p, len), id0);
	lfq_rec_release(&c2);
	/* And producers overwrite the rest. */
	KUNIT_EXPECT_TRUE(test, ow_put(q, 5001));
	KUNIT_EXPECT_TRUE(test, ow_put(q, 5002));
}

/*
 * The in-kernel consumer in overwrite mode: a peeked record holds tail
 * (producers drop), its release and lfq_consumer_fini() give it back.
 */
static void lfq_rec_ow_kconsumer_test(struct kunit *test)
{
	struct lfq_queue *q = ow_queue(test, OW_RING);
	struct lfq_consumer *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	u64 i, id, fails = 0;
	const u8 *p;
	u32 len;

	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_EQ(test, lfq_consumer_init(c, q), 0);
	for (i = 0; i < 3 * OW_RING / 72; i++)
		KUNIT_ASSERT_TRUE(test, ow_put(q, i));
	p = lfq_consumer_rec_peek(c, &len);
	KUNIT_ASSERT_NOT_NULL(test, p);
	id = ow_check(p, len);
	KUNIT_EXPECT_NE(test, id, U64_MAX);
	/* The ring fills up to the held record, then producers drop. */
	for (i = 0; i < OW_RING / 16; i++)
		fails += !ow_put(q, 9000 + i);
	KUNIT_EXPECT_GT(test, fails, 0);
	KUNIT_EXPECT_EQ(test, ow_check(p, len), id);
	lfq_consumer_rec_release(c);
	KUNIT_EXPECT_TRUE(test, ow_put(q, 20000));
	/* Held again, then the consumer goes: tail comes back. */
	KUNIT_ASSERT_NOT_NULL(test, lfq_consumer_rec_peek(c, &len));
	for (i = 0, fails = 0; i < OW_RING / 16; i++)
		fails += !ow_put(q, 20001 + i);
	KUNIT_EXPECT_GT(test, fails, 0);
	lfq_consumer_fini(c);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(*q->ring.tail) & LFQ_REC_TAIL_BITS);
	for (i = 0, fails = 0; i < OW_RING / 16; i++)
		fails += !ow_put(q, 30000 + i);
	KUNIT_EXPECT_EQ(test, fails, 0);
}

static struct kunit_case lfq_rec_ow_cases[] = {
	KUNIT_CASE(lfq_rec_ow_wrap_test),
	KUNIT_CASE(lfq_rec_ow_many_test),
	KUNIT_CASE(lfq_rec_ow_held_test),
	KUNIT_CASE(lfq_rec_ow_races_test),
	KUNIT_CASE(lfq_rec_ow_finish_test),
	KUNIT_CASE(lfq_rec_ow_consumer_gone_test),
	KUNIT_CASE(lfq_rec_ow_kconsumer_test),
	{}
};

static struct kunit_suite lfq_rec_ow_suite = {
	.name = "lfq_rec_ow",
	.test_cases = lfq_rec_ow_cases,
};

kunit_test_suite(lfq_rec_ow_suite);

MODULE_DESCRIPTION("KUnit tests for lfq record queues in overwrite mode");
MODULE_LICENSE("GPL");
