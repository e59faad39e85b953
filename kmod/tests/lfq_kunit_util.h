/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_kunit_util.h - the fixtures the KUnit suites of kmod/tests share.
 * Every suite is a module of its own that links only against lfq.ko's
 * exported symbols, so everything here is static inline.
 *
 * Both fixtures run the protocol on a real queue made by
 * lfq_queue_create() (vmap'd, slot area mapped twice back to back) and
 * build every view from its struct lfq_ring_loc, q->ring, as the kernel
 * does: struct lfq_kt for SPSC queues (lfq_kt_*), struct lfq_mt for MPSC
 * queues (lfq_mt_*). Fixtures and queues are test-managed: they are freed
 * and put when the test ends, so a failed assertion leaks nothing.
 *
 * Also here: the shared words of a queue as a peer reads them
 * (lfq_shared_*), the span check every reserve and peek is held to
 * (lfq_span_ok()), a deterministic random source, and elastic queues'
 * fixtures (lfq_kunit_elastic(), lfq_el_*, lfq_kunit_seg_idle_ms()),
 * and a step of a record queue's in-kernel consumer (lfq_kunit_rec_take()).
 * The self-NMIs of the suites that produce in NMI context are in
 * lfq_kunit_nmi.h.
 */
#ifndef _LFQ_TESTS_KUNIT_UTIL_H
#define _LFQ_TESTS_KUNIT_UTIL_H

#include <kunit/test.h>
#include <linux/compiler.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/types.h>

#include "lfq.h"
#include "lfq_ring.h"
#include "core/lfq_kapi.h"
#include "core/lfq_queue.h"
#include "core/lfq_seg.h"
#include "core/lfq_wait.h"
#include "proto/lfq_mpsc.h"
#include "proto/lfq_spsc.h"

/* ---------------------------------------------------------------------- */
/* Any queue                                                               */
/* ---------------------------------------------------------------------- */

static inline void lfq_kunit_queue_put(struct kunit_resource *res)
{
	lfq_queue_put(res->data);
}

/* A fixed queue's geometry, as a pointer to a compound literal. */
#define LFQ_GEO(t, size, count)						\
	(&(struct lfq_geometry){ .type = (t), .slot_size = (size),	\
				 .slot_count = (count) })

/* An elastic queue's geometry (@fl: its flags), likewise. */
#define LFQ_EL_GEO(t, sz, n, fl, lo, hi)				\
	(&(struct lfq_geometry){ .type = (t), .flags = (fl),		\
				 .slot_size = (sz), .slot_count = (n),	\
				 .seg_min = (lo), .seg_max = (hi) })

/*
 * Whether lfq_queue_create() takes the elastic geometry LFQ_EL_GEO() makes
 * of these arguments: 0 if it does (the queue is put at once), else its
 * error.
 */
static inline int lfq_el_create(u32 type, u32 slot_size, u32 slot_count,
				u32 flags, u32 seg_min, u32 seg_max)
{
	struct lfq_queue *q;

	q = lfq_queue_create(LFQ_EL_GEO(type, slot_size, slot_count, flags,
					seg_min, seg_max));
	if (IS_ERR(q))
		return PTR_ERR(q);
	lfq_queue_put(q);
	return 0;
}

/*
 * A new queue, or the test ends here. It is put when the test ends,
 * whether it passed or not: callers never put it themselves.
 */
static inline struct lfq_queue *lfq_kunit_queue(struct kunit *test, u32 type,
						u32 slot_size, u32 slot_count)
{
	struct lfq_geometry params = {
		.type = type,
		.slot_size = slot_size,
		.slot_count = slot_count,
	};
	struct lfq_queue *q = lfq_queue_create(&params);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, q);
	if (!kunit_alloc_resource(test, NULL, lfq_kunit_queue_put, GFP_KERNEL,
				  q)) {
		lfq_queue_put(q);
		KUNIT_ASSERT_FAILURE(test, "no memory to track the queue");
	}
	return q;
}

/* The shared indices and flags, as a peer would read them. */
static inline u64 lfq_shared_head(const struct lfq_queue *q)
{
	return READ_ONCE(q->ring.prod->head);
}

static inline u64 lfq_shared_tail(const struct lfq_queue *q)
{
	return READ_ONCE(q->ring.cons->tail);
}

static inline u32 lfq_shared_need_data(const struct lfq_queue *q)
{
	return READ_ONCE(*q->ring.need_data);
}

static inline u32 lfq_shared_need_space(const struct lfq_queue *q)
{
	return READ_ONCE(*q->ring.need_space);
}

/*
 * A span handed out by reserve/peek lies inside the double mapping of
 * @q's slot area: it starts on a slot of the first copy and its @got
 * slots end before the second copy does. An empty grant has no span.
 */
static inline bool lfq_span_ok(const struct lfq_queue *q, const void *ptr,
			       u32 got)
{
	const unsigned char *s = ptr, *data = q->ring.data;
	u64 size = q->layout.data_size, off;

	if (!got)
		return !ptr;
	if (!ptr || got > q->ring.slot_count || s < data)
		return false;
	off = s - data;
	return off < size && off % q->ring.slot_size == 0 &&
	       off + (u64)got * q->ring.slot_size <= 2 * size;
}

/* xorshift64: deterministic "random" (and hostile) values. */
static inline u64 lfq_kunit_rand(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---------------------------------------------------------------------- */
/* SPSC fixture                                                            */
/* ---------------------------------------------------------------------- */

/**
 * struct lfq_kt - per-test fixture of the SPSC suites.
 * @q:		the queue under test.
 * @p:		the producer handle on @q.
 * @c:		the consumer handle on @q.
 * @data:	first copy of @q's slot area.
 * @data_size:	bytes of one copy.
 * @n:		slot_count.
 * @sz:		slot_size.
 */
struct lfq_kt {
	struct lfq_queue *q;
	struct lfq_spsc_prod p;
	struct lfq_spsc_cons c;
	unsigned char *data;
	u64 data_size;
	u32 n;
	u32 sz;
};

/* (Re)bind both handles: they resume at the indices found in the ring. */
static inline void lfq_kt_bind(struct lfq_kt *kt)
{
	lfq_spsc_prod_init(&kt->p, &kt->q->ring);
	lfq_spsc_cons_init(&kt->c, &kt->q->ring);
}

/* A new SPSC queue of @slot_count slots of @slot_size, both ends bound. */
static inline struct lfq_kt *lfq_kt_open(struct kunit *test, u32 slot_size,
					 u32 slot_count)
{
	struct lfq_kt *kt = kunit_kzalloc(test, sizeof(*kt), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, kt);
	kt->q = lfq_kunit_queue(test, LFQ_TYPE_SPSC, slot_size, slot_count);
	kt->n = slot_count;
	kt->sz = slot_size;
	kt->data = kt->q->ring.data;
	kt->data_size = kt->q->layout.data_size;
	lfq_kt_bind(kt);
	return kt;
}

/* Slots of 16 bytes or more: the sequence first, its complement last. */
static inline void lfq_kt_put_seq(struct lfq_kt *kt, void *slot, u64 seq)
{
	u64 *w = slot;

	w[0] = seq;
	w[kt->sz / 8 - 1] = ~seq;
}

static inline bool lfq_kt_push(struct lfq_kt *kt, u64 seq)
{
	void *s;
	u32 got;

	s = lfq_spsc_reserve(&kt->p, 1, &got);
	if (!s)
		return false;
	memset(s, 0, kt->sz);
	lfq_kt_put_seq(kt, s, seq);
	lfq_spsc_commit(&kt->p, got);
	return true;
}

/* Pops one slot; *seq is its first word, *check its last word. */
static inline bool lfq_kt_pop(struct lfq_kt *kt, u64 *seq, u64 *check)
{
	const u64 *r;
	u32 got;

	r = lfq_spsc_peek(&kt->c, 1, &got);
	if (!r)
		return false;
	*seq = r[0];
	*check = r[kt->sz / 8 - 1];
	lfq_spsc_release(&kt->c, got);
	return true;
}

/* ---------------------------------------------------------------------- */
/* MPSC fixture                                                            */
/* ---------------------------------------------------------------------- */

/**
 * struct lfq_mt - per-test fixture of the MPSC suites.
 * @q:		the queue under test.
 * @prod:	@q's shared producer page (q->ring.prod), for hostile writes.
 * @cons:	@q's shared consumer page (q->ring.cons).
 * @commit:	@q's shared commit words (q->ring.commit), one per slot.
 * @p:		a producer view of the ring (each producing thread has its
 *		own: it caches tail).
 * @c:		the consumer handle.
 * @data:	first copy of @q's slot area.
 * @data_size:	bytes of one copy.
 * @n:		slot_count.
 * @sz:		slot_size.
 */
struct lfq_mt {
	struct lfq_queue *q;
	struct lfq_prod_ctl *prod;
	struct lfq_cons_ctl *cons;
	u64 *commit;
	struct lfq_mpsc_prod p;
	struct lfq_mpsc_cons c;
	unsigned char *data;
	u64 data_size;
	u32 n;
	u32 sz;
};

/* Publish the lap before index @at: commit words of @at - n .. @at - 1. */
static inline void lfq_mt_lap_done(struct lfq_mt *mt, u64 at)
{
	u64 i;

	for (i = at - mt->n; i != at; i++)
		WRITE_ONCE(mt->commit[i & (mt->n - 1)], i + 1);
}

/*
 * A new MPSC queue of @slot_count slots whose indices all stand at @start,
 * with a producer view and the consumer handle bound to it.
 */
static inline struct lfq_mt *lfq_mt_open(struct kunit *test, u32 slot_size,
					 u32 slot_count, u64 start)
{
	struct lfq_mt *mt = kunit_kzalloc(test, sizeof(*mt), GFP_KERNEL);
	struct lfq_queue *q;

	KUNIT_ASSERT_NOT_NULL(test, mt);
	q = lfq_kunit_queue(test, LFQ_TYPE_MPSC, slot_size, slot_count);
	mt->q = q;
	mt->prod = q->ring.prod;
	mt->cons = q->ring.cons;
	mt->commit = q->ring.commit;
	mt->data = q->ring.data;
	mt->data_size = q->layout.data_size;
	mt->n = slot_count;
	mt->sz = slot_size;
	KUNIT_ASSERT_EQ(test, mt->data_size, (u64)slot_size * slot_count);
	KUNIT_ASSERT_EQ(test, mt->data_size % PAGE_SIZE, 0ULL);

	/*
	 * The lap before @start is published, as in a ring that ran there.
	 * At 0 the zeroed words already say so, as in a new queue.
	 */
	if (start)
		lfq_mt_lap_done(mt, start);
	WRITE_ONCE(mt->prod->head, start);
	WRITE_ONCE(mt->cons->tail, start);
	lfq_mpsc_prod_init(&mt->p, &q->ring);
	lfq_mpsc_cons_init(&mt->c, &q->ring);
	return mt;
}

/* The commit word of @index, as a peer would read it. */
static inline u64 lfq_mt_word(const struct lfq_mt *mt, u64 index)
{
	return READ_ONCE(mt->commit[index & (mt->n - 1)]);
}

static inline void lfq_mt_set_word(struct lfq_mt *mt, u64 index, u64 v)
{
	WRITE_ONCE(mt->commit[index & (mt->n - 1)], v);
}

/* Slot @index in the first copy of the slot area. */
static inline unsigned char *lfq_mt_slot(const struct lfq_mt *mt, u64 index)
{
	return mt->data + (index & (mt->n - 1)) * mt->sz;
}

static inline u32 lfq_mt_ready(const struct lfq_mt *mt, u64 tail, u32 max)
{
	return lfq_mpsc_ready(mt->commit, mt->n - 1, tail, max);
}

/* Fill @count slots from @span with the records of indices @index... */
static inline void lfq_mt_fill(const struct lfq_mt *mt, void *span, u64 index,
			       u32 count)
{
	unsigned char *s = span;
	u32 i;

	for (i = 0; i < count; i++, index++, s += mt->sz) {
		u64 *w = (u64 *)s;

		memset(s, index & 0xff, mt->sz);
		w[0] = index;
		w[mt->sz / 8 - 1] = ~index;
	}
}

/* The record of @index: first word, last word and a byte in between. */
static inline bool lfq_mt_rec_ok(const struct lfq_mt *mt, const void *slot,
				 u64 index)
{
	const u64 *w = slot;

	return w[0] == index && w[mt->sz / 8 - 1] == ~index &&
	       ((const u8 *)slot)[8] == (index & 0xff);
}

/* Reserve up to @want slots through @p, fill them; NULL when full. */
static inline void *lfq_mt_reserve(struct lfq_mt *mt, struct lfq_mpsc_prod *p,
				   u32 want, struct lfq_mpsc_resv *r)
{
	void *w = lfq_mpsc_reserve(p, want, r);

	if (w)
		lfq_mt_fill(mt, w, r->index, r->count);
	return w;
}

/* Reserve, fill and commit up to @want slots; returns the count. */
static inline u32 lfq_mt_push(struct lfq_mt *mt, u32 want)
{
	struct lfq_mpsc_resv r;

	if (!lfq_mt_reserve(mt, &mt->p, want, &r))
		return 0;
	lfq_mpsc_commit(&mt->p, &r);
	return r.count;
}

/*
 * Peek up to @want slots, check they hold the records of their indices,
 * release them. Returns the count, or U32_MAX on a bad record.
 */
static inline u32 lfq_mt_pop(struct lfq_mt *mt, u32 want)
{
	const unsigned char *s;
	u32 got, i;

	s = lfq_mpsc_peek(&mt->c, want, &got);
	if (!lfq_span_ok(mt->q, s, got))
		return U32_MAX;
	for (i = 0; i < got; i++)
		if (!lfq_mt_rec_ok(mt, s + (size_t)i * mt->sz, mt->c.tail + i))
			return U32_MAX;
	lfq_mpsc_release(&mt->c, got);
	return got;
}

/* ---------------------------------------------------------------------- */
/* Elastic queues                                                          */
/* ---------------------------------------------------------------------- */

/*
 * A new queue of any geometry @g, or the test ends here; put when the
 * test ends, as lfq_kunit_queue()'s.
 */
static inline struct lfq_queue *lfq_kunit_queue_geo(struct kunit *test,
						    const struct lfq_geometry *g)
{
	struct lfq_queue *q = lfq_queue_create(g);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, q);
	if (!kunit_alloc_resource(test, NULL, lfq_kunit_queue_put, GFP_KERNEL,
				  q)) {
		lfq_queue_put(q);
		KUNIT_ASSERT_FAILURE(test, "no memory to track the queue");
	}
	return q;
}

/*
 * A new elastic queue (LFQ_CREATE_ELASTIC): segments of @slot_count slots
 * of @slot_size, @seg_min of them kept at rest, @seg_max at most. It
 * starts with one live segment and @seg_min - 1 spares (q->el).
 */
static inline struct lfq_queue *lfq_kunit_elastic(struct kunit *test,
						  u32 type, u32 slot_size,
						  u32 slot_count, u32 seg_min,
						  u32 seg_max)
{
	struct lfq_geometry g = {
		.type = type,
		.flags = LFQ_CREATE_ELASTIC,
		.slot_size = slot_size,
		.slot_count = slot_count,
		.seg_min = seg_min,
		.seg_max = seg_max,
	};
	struct lfq_queue *q = lfq_kunit_queue_geo(test, &g);

	KUNIT_ASSERT_NOT_NULL(test, q->el);
	return q;
}

/*
 * seg_idle_ms, as lfq.ko's parameter says (1000, the default, if
 * unreadable): how long an elastic queue keeps its spares after it last
 * grew.
 */
static inline unsigned int lfq_kunit_seg_idle_ms(struct kunit *test)
{
	char buf[16] = "";
	unsigned int v = 1000;
	struct file *f;
	loff_t pos = 0;

	f = filp_open("/sys/module/lfq/parameters/seg_idle_ms", O_RDONLY, 0);
	if (IS_ERR(f)) {
		kunit_info(test, "seg_idle_ms unreadable, taking 1000");
		return v;
	}
	if (kernel_read(f, buf, sizeof(buf) - 1, &pos) <= 0 ||
	    kstrtouint(strim(buf), 10, &v))
		v = 1000;
	filp_close(f, NULL);
	return v;
}

/*
 * The record of global index @index in a slot of @slot_size bytes (16 or
 * more): the index first, its complement last, its low byte in between
 * (checked from 24 bytes on: a 16-byte slot has nothing in between).
 */
static inline void lfq_rec_fill(void *slot, u32 slot_size, u64 index)
{
	u64 *w = slot;

	memset(slot, index & 0xff, slot_size);
	w[0] = index;
	w[slot_size / 8 - 1] = ~index;
}

static inline bool lfq_rec_ok(const void *slot, u32 slot_size, u64 index)
{
	const u64 *w = slot;

	return w[0] == index && w[slot_size / 8 - 1] == ~index &&
	       (slot_size < 24 || ((const u8 *)slot)[8] == (index & 0xff));
}

/*
 * The helpers below use core/lfq_seg.h's exports for KUnit: a suite that
 * calls them has MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING).
 */

/* A queue's counters (lfq_queue_stats()), read into @st. */
static inline struct lfq_stats *lfq_el_stats(struct lfq_queue *q,
					     struct lfq_stats *st)
{
	lfq_queue_stats(q, st);
	return st;
}

/* Frame @frame's state in the segment table (LFQ_SEG_*). */
static inline u32 lfq_el_state(const struct lfq_elastic *el, u32 frame)
{
	return READ_ONCE(el->meta[frame].state);
}

/*
 * The producers' segment. Outside the RCU section only while it cannot
 * be retired (it is the newest), or for its frame.
 */
static inline struct lfq_seg *lfq_el_pseg(struct lfq_elastic *el)
{
	struct lfq_seg *s;

	rcu_read_lock();
	s = lfq_seg_producer(el);
	rcu_read_unlock();
	return s;
}

/*
 * One reservation of up to @want slots with the in-kernel API, holding the
 * records of their indices, committed: the count, 0 for a drop.
 */
static inline u32 lfq_el_push(struct lfq_queue *q, u32 want)
{
	u32 sz = q->hdr.slot_size, i;
	struct lfq_mpsc_resv r;
	u8 *s = lfq_queue_reserve(q, want, &r);

	if (!s)
		return 0;
	for (i = 0; i < r.count; i++)
		lfq_rec_fill(s + (size_t)i * sz, sz, r.index + i);
	lfq_queue_commit(q, &r);
	return r.count;
}

/* A span the consumer got lies in its segment's double-mapped slots. */
static inline bool lfq_el_span_ok(const struct lfq_seg *s, const void *p,
				  u32 got)
{
	const u8 *d = s->ring.data, *b = p;
	u64 size = (u64)s->ring.slot_count * s->ring.slot_size;

	if (!got)
		return !p;
	return b >= d && b < d + size && (b - d) % s->ring.slot_size == 0 &&
	       got <= s->ring.slot_count &&
	       (b - d) + (u64)got * s->ring.slot_size <= 2 * size;
}

/*
 * The in-kernel consumer @c peeks up to @want records and checks them
 * against their indices from @next on: the count (0: none ready), or
 * U32_MAX on a wrong record or span. Releases what it got.
 */
static inline u32 lfq_el_pop(struct lfq_consumer *c, u32 want, u64 next)
{
	u32 sz = c->q->hdr.slot_size, got, i;
	const u8 *in = lfq_consumer_peek(c, want, &got);

	if (!in)
		return 0;
	if (!lfq_el_span_ok(c->seg, in, got))
		return U32_MAX;
	for (i = 0; i < got; i++)
		if (!lfq_rec_ok(in + (size_t)i * sz, sz, next + i))
			return U32_MAX;
	lfq_consumer_release(c, got);
	return got;
}

/* @c reads every ready record, in order from *@next; false on a wrong one. */
static inline bool lfq_el_drain(struct lfq_consumer *c, u64 *next)
{
	u32 n;

	while ((n = lfq_el_pop(c, c->q->hdr.slot_count, *next)) != 0) {
		if (n == U32_MAX)
			return false;
		*next += n;
	}
	return true;
}

/* Poll @cond every 5-10 ms for up to @ms (process context); its last value. */
#define lfq_el_poll(cond, ms) ({					\
	unsigned long __end = jiffies + msecs_to_jiffies(ms);		\
	bool __ok;							\
									\
	while (!(__ok = (cond)) && time_before(jiffies, __end))	\
		usleep_range(5000, 10000);				\
	__ok;								\
})

/* ---------------------------------------------------------------------- */
/* Record queues' in-kernel consumer                                       */
/* ---------------------------------------------------------------------- */

/*
 * One step of the in-kernel consumer @c of a record queue: a peek and
 * release at an odd @step, a run of up to 1 + @step % 16
 * (lfq_consumer_rec_consume()) at an even one, alternately; @check sees
 * every record taken, with @ctx. Return: records taken, 0 for none; a
 * run that failed counts in *@bad.
 */
static inline int
lfq_kunit_rec_take(struct lfq_consumer *c, u64 step,
		   int (*check)(void *ctx, const void *rec, u32 len),
		   void *ctx, u64 *bad)
{
	const void *rec;
	u32 len;
	int n;

	if (step & 1) {
		rec = lfq_consumer_rec_peek(c, &len);
		if (!rec)
			return 0;
		check(ctx, rec, len);
		lfq_consumer_rec_release(c);
		return 1;
	}
	n = lfq_consumer_rec_consume(c, 1 + step % 16, check, ctx);
	if (n < 0)
		(*bad)++;
	return max(n, 0);
}

/* A pool thread is done: say so, then wait for kthread_stop(). */
static inline int lfq_kunit_pool_exit(struct completion *done)
{
	complete(done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

#define LFQ_KUNIT_POOL_MAX	8

/*
 * Run a pool of @n (at most LFQ_KUNIT_POOL_MAX) test kthreads: thread k
 * runs @first (k < @nfirst) or @rest on (char *)@args + k * @stride, and
 * ends with lfq_kunit_pool_exit(&@done[k]) (initialised here). Each is
 * waited for up to @timeout, then every thread started is stopped before
 * this returns: none outlives the memory the test frees. Return: threads
 * started; *@finished: those done within @timeout.
 */
static inline int lfq_kunit_pool(int n, int nfirst, int (*first)(void *),
				 int (*rest)(void *), void *args,
				 size_t stride, struct completion *done,
				 unsigned long timeout, int *finished)
{
	struct task_struct *t[LFQ_KUNIT_POOL_MAX] = {};
	int k, started = 0;

	*finished = 0;
	for (k = 0; k < n && k < LFQ_KUNIT_POOL_MAX; k++)
		init_completion(&done[k]);
	for (k = 0; k < n && k < LFQ_KUNIT_POOL_MAX; k++) {
		t[k] = kthread_create(k < nfirst ? first : rest,
				      (char *)args + k * stride,
				      "lfq-kunit/%d", k);
		if (IS_ERR(t[k]))
			break;
		get_task_struct(t[k]);
		wake_up_process(t[k]);
		started++;
	}
	for (k = 0; k < started; k++)
		*finished += !!wait_for_completion_timeout(&done[k], timeout);
	for (k = 0; k < started; k++) {
		kthread_stop(t[k]);
		put_task_struct(t[k]);
	}
	return started;
}

#endif /* _LFQ_TESTS_KUNIT_UTIL_H */
