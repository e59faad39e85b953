// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_kconsumer.c - the in-kernel consumer API: kernel code takes records
 * that processes produce (the userspace-to-kernel direction), zero-copy,
 * in order from an SPSC or MPSC queue, or its share of them from an MPMC
 * queue whose other consumers may be processes; and sleeps when it is
 * empty. Record queues (LFQ_CREATE_RECORDS) have their own peek, release
 * and batch consume (lfq_consumer_rec_*()), in overwrite mode, on elastic
 * queues, and on MPMC ones (a record at a time, taken by the shared
 * claim: proto/lfq_rec_mpmc.h).
 *
 * The producer side, and an MPMC queue's claim index and release words,
 * live in user-writable pages: by HOSTILE MEMORY H1-H5
 * (proto/lfq_rules.h) a hostile process can feed garbage records, or
 * have a claim fail or records delivered twice, but not steer a kernel
 * read or write outside the queue, nor hold a kernel consumer in a loop.
 */
#include <linux/bug.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/minmax.h>
#include <linux/sched.h>

#include "lfq_cclaims.h"
#include "lfq_kapi.h"
#include "lfq_queue.h"
#include "lfq_seg.h"
#include "lfq_wait.h"

/*
 * Compare-and-swap attempts an MPMC claim makes before it answers "empty":
 * a process rewriting the claim index in a loop can make every one fail
 * (HOSTILE MEMORY H5); honest consumers make that rare.
 */
#define LFQ_KCONS_MPMC_TRIES	64

/* SPSC or MPSC: the consumer's private index, whatever the page says. */
static u64 lfq_consumer_tail(const struct lfq_consumer *c)
{
	if (c->q->ring.records)
		return c->rec.tail;
	return c->q->hdr.type == LFQ_TYPE_MPSC ? c->mpsc.tail : c->spsc.tail;
}

/* Read @ring from where its consumer index stands. */
static void lfq_consumer_bind(struct lfq_consumer *c,
			      const struct lfq_ring_loc *ring)
{
	struct lfq_rec_ring rr;

	if (c->q->ring.records) {
		lfq_rec_ring_init(&rr, ring);
		lfq_rec_cons_rebind(&c->rec, &rr);
	} else if (c->q->hdr.type == LFQ_TYPE_MPSC) {
		lfq_mpsc_cons_init(&c->mpsc, ring);
	} else {
		lfq_spsc_cons_init(&c->spsc, ring);
	}
}

/* An MPMC consumer: a claim record of its own, the view with its tries. */
static int lfq_consumer_init_mpmc(struct lfq_consumer *c, struct lfq_queue *q)
{
	struct lfq_mpsc_claim *rec = lfq_cclaim_kernel_get(q);
	struct lfq_rec_ring rr;

	if (IS_ERR(rec))
		return PTR_ERR(rec);
	c->q = q;
	c->seg = NULL;
	if (q->ring.records) {
		lfq_rec_ring_init(&rr, &q->ring);
		lfq_rec_mcons_init(&c->rmpmc, &rr, q->ring.claim);
		lfq_rec_mcons_set_claim(&c->rmpmc, rec);
		c->rmpmc.max_tries = LFQ_KCONS_MPMC_TRIES;
		return 0;
	}
	lfq_mpmc_cons_init(&c->mpmc.view, &q->ring);
	lfq_mpmc_cons_set_claim(&c->mpmc.view, rec);
	c->mpmc.view.max_tries = LFQ_KCONS_MPMC_TRIES;
	c->mpmc.hold = (struct lfq_mpmc_hold){};
	return 0;
}

/**
 * lfq_consumer_init() - start consuming @q.
 * @c:		the consumer, owned by the caller.
 * @q:		the queue (a reference held by the caller while @c is used).
 *
 * An SPSC or MPSC queue is read from where its consumer index stands; on
 * an elastic one the consumer starts in the oldest live segment, which
 * from then on is not retired under it. On an MPMC queue the consumer
 * claims its records as the other consumers do, and gets a claim record
 * of its own (the crash safety of process consumers must not release
 * what it holds). Call lfq_consumer_fini() when done.
 *
 * A record queue is read with lfq_consumer_rec_peek(), _release() and
 * _consume() instead of lfq_consumer_peek() and _release().
 *
 * Context: any context for an SPSC or MPSC queue that is not elastic;
 * process context for an elastic or an MPMC one.
 * Return: 0, or -ENOSPC when an MPMC queue has its limit of in-kernel
 * consumers (LFQ_MPMC_KCLAIMS).
 */
int lfq_consumer_init(struct lfq_consumer *c, struct lfq_queue *q)
{
	lfq_consumer_set_spin(c, LFQ_WAIT_SPINS_DEFAULT);
	if (q->hdr.type == LFQ_TYPE_MPMC)
		return lfq_consumer_init_mpmc(c, q);
	c->q = q;
	/* A record consumer's counts start here (lfq_consumer_bind()). */
	if (q->ring.records)
		c->rec = (struct lfq_rec_cons){};
	c->seg = q->el ? lfq_seg_consumer_start(q->el) : NULL;
	lfq_consumer_bind(c, c->seg ? &c->seg->ring : &q->ring);
	return 0;
}
EXPORT_SYMBOL_GPL(lfq_consumer_init);

/**
 * lfq_consumer_fini() - stop consuming: an elastic queue may retire the
 * segment the consumer was in; an MPMC consumer releases what it still
 * holds (its records are dropped, and counted in lfq_stats.lost) and
 * gives back its claim record.
 * @c:		the consumer.
 *
 * Context: any context but NMI for an SPSC or MPSC queue; process context
 * for an MPMC one.
 */
void lfq_consumer_fini(struct lfq_consumer *c)
{
	struct lfq_mpmc_hold *h = &c->mpmc.hold;

	if (c->q->ring.records && c->q->hdr.type == LFQ_TYPE_MPMC) {
		/* Held and never released: lost, as a dead consumer's. */
		if (c->rmpmc.held)
			atomic64_inc(&c->q->lost);
		if (lfq_rec_mpmc_release(&c->rmpmc))
			atomic64_inc(&c->q->torn);
		if (c->rmpmc.wake)
			lfq_queue_wake_producers(c->q);
		lfq_cclaim_kernel_put(c->q, c->rmpmc.claim);
		c->rmpmc.claim = NULL;
		return;
	}
	if (c->q->ring.records) {
		/* A record peeked stays in the ring; tail is given back. */
		c->rec.held = 0;
		lfq_rec_disown(&c->rec);
	} else if (c->q->hdr.type == LFQ_TYPE_MPMC) {
		/* Held and never released: lost, as a dead consumer's. */
		if (h->take.count)
			atomic64_add(h->take.count - h->done, &c->q->lost);
		if (lfq_mpmc_hold_release(&c->mpmc.view, h, U32_MAX))
			lfq_queue_wake_producers(c->q);
		if (c->mpmc.view.claim)
			lfq_cclaim_kernel_put(c->q, c->mpmc.view.claim);
		c->mpmc.view.claim = NULL;
		return;
	}
	if (c->seg)
		lfq_seg_consumer_stop(c->q->el);
	c->seg = NULL;
}
EXPORT_SYMBOL_GPL(lfq_consumer_fini);

/*
 * An elastic queue's consumer found nothing: if its segment is drained to
 * its seal, go on in the next one. Returns true if it moved.
 */
static bool lfq_consumer_next_seg(struct lfq_consumer *c)
{
	struct lfq_seg *n;

	if (!c->seg || !lfq_seg_drained(&c->seg->ring, lfq_consumer_tail(c)))
		return false;
	n = lfq_seg_consumer_next(c->q->el, c->seg);
	if (!n)
		return false;
	c->seg = n;
	lfq_consumer_bind(c, &n->ring);
	/* HOSTILE MEMORY: a record segment is new to us: read from its base. */
	if (c->q->ring.records)
		c->rec.tail = n->ring.base;
	return true;
}

/* Peek in the ring being read, waking producers a skip freed space for. */
static const void *lfq_consumer_peek_ring(struct lfq_consumer *c, u32 want,
					  u32 *got)
{
	const void *span;
	int wake;

	if (c->q->hdr.type == LFQ_TYPE_SPSC)
		return lfq_spsc_peek(&c->spsc, want, got);
	if (c->q->hdr.type == LFQ_TYPE_MPMC)
		span = lfq_mpmc_hold_peek(&c->mpmc.view, &c->mpmc.hold, want,
					  got, &wake);
	else
		span = lfq_mpsc_peek_check(&c->mpsc, want, got, &wake);
	/* Skipped discarded slots freed space a producer waits for. */
	if (wake)
		lfq_queue_wake_producers(c->q);
	return span;
}

/**
 * lfq_consumer_peek() - look at up to @want committed records.
 * @c:		the consumer.
 * @want:	slots wanted, at least 1.
 * @got:	slots in the span, 0..@want.
 *
 * The span is contiguous even across the ring's end. Its bytes live in
 * memory processes can write: copy before validating anything in them.
 * On an elastic queue a drained segment gives way to the next one. On an
 * MPMC queue the span is claimed, this consumer's alone, and held until
 * all of it is released: a peek before that returns what is still held.
 *
 * Context: any context but NMI; does not sleep.
 * Return: the first slot of the span, or NULL if none is ready.
 */
const void *lfq_consumer_peek(struct lfq_consumer *c, u32 want, u32 *got)
{
	const void *span;
	u32 moves = 0;

	*got = 0;
	if (c->q->ring.records)
		return NULL;	/* lfq_consumer_rec_peek() */
	/* HOSTILE MEMORY H5: seg_max moves per call at most. */
	do {
		span = lfq_consumer_peek_ring(c, want, got);
	} while (!span && moves++ < c->q->hdr.seg_max &&
		 lfq_consumer_next_seg(c));
	return span;
}
EXPORT_SYMBOL_GPL(lfq_consumer_peek);

/**
 * lfq_consumer_intact() - whether slot @k of the span the last peek
 * returned still holds the record peeked.
 * @c:		the consumer.
 * @k:		the slot, 0 for the span's first.
 *
 * Only an MPMC queue's records can change under their consumer: another
 * consumer that forges release words lets a producer of the next lap in
 * (lfq_mpmc_torn()); on an MPMC record queue, one that forges tail or a
 * release mark (lfq_rec_mpmc_intact(); @k is ignored: the record peeked
 * is the one). Call it after copying slot @k and before using the copy: a
 * copy made before it returns true is the record. The records of other
 * queues are the consumer's until it releases them (true).
 *
 * Context: any context but NMI.
 * Return: true if the slot is intact.
 */
bool lfq_consumer_intact(struct lfq_consumer *c, u32 k)
{
	if (c->q->hdr.type != LFQ_TYPE_MPMC)
		return true;
	if (c->q->ring.records)
		return lfq_rec_mpmc_intact(&c->rmpmc);
	return lfq_mpmc_hold_intact(&c->mpmc.view, &c->mpmc.hold, k);
}
EXPORT_SYMBOL_GPL(lfq_consumer_intact);

/**
 * lfq_consumer_release() - free @n peeked slots; wake producers that sleep
 * for space.
 * @c:		the consumer.
 * @n:		slots to free (clamped to the last peek; on an MPMC queue,
 *		to what is held).
 *
 * On an MPMC queue, slots found torn as they are released (see
 * lfq_consumer_intact()) are counted in lfq_stats.torn.
 *
 * Context: any context but NMI.
 */
void lfq_consumer_release(struct lfq_consumer *c, u32 n)
{
	struct lfq_mpmc_cons *v = &c->mpmc.view;
	int sleeper;
	u64 torn;

	if (c->q->ring.records)
		return;		/* lfq_consumer_rec_release() */
	if (c->q->hdr.type == LFQ_TYPE_MPMC) {
		torn = v->torn;
		sleeper = lfq_mpmc_hold_release(v, &c->mpmc.hold, n);
		if (unlikely(v->torn != torn))
			atomic64_add(v->torn - torn, &c->q->torn);
	} else if (c->q->hdr.type == LFQ_TYPE_MPSC) {
		sleeper = lfq_mpsc_release(&c->mpsc, n);
	} else {
		sleeper = lfq_spsc_release_check(&c->spsc, n);
	}
	if (sleeper)
		lfq_queue_wake_producers(c->q);
}
EXPORT_SYMBOL_GPL(lfq_consumer_release);

/**
 * lfq_consumer_set_spin() - choose how long lfq_consumer_wait() may spin
 * before it sleeps.
 * @c:		the consumer.
 * @spins:	the most readiness checks a wait makes after its first, each
 *		after a cpu_relax(), before it arms the need-wakeup flag (and
 *		on an asymmetric queue sends the heavy fence's IPIs) and
 *		sleeps; 0 sleeps at once; at most LFQ_WAIT_SPINS_KMAX.
 *		lfq_consumer_init() sets LFQ_WAIT_SPINS_DEFAULT.
 *
 * The spin adapts below @spins, starting from it, as liblfq's waits do
 * (lfq_spin_next()): doubled after a wait its spin satisfied, a quarter
 * off after one that slept, down to LFQ_WAIT_SPINS_FLOOR. A spin also
 * stops when the scheduler wants the CPU, and does not count against a
 * wait's timeout.
 *
 * Context: any; not during the consumer's own wait.
 */
void lfq_consumer_set_spin(struct lfq_consumer *c, u32 spins)
{
	c->spin_max = min(spins, LFQ_WAIT_SPINS_KMAX);
	c->spin_now = c->spin_max;
}
EXPORT_SYMBOL_GPL(lfq_consumer_set_spin);

/*
 * Before the wait arms the flag and, on an asymmetric queue, sends the
 * heavy fence's IPIs: spin on the ring, adaptively (lfq_spin_next()), and
 * not while the scheduler wants the CPU (HOSTILE MEMORY H5: at most
 * spin_max checks, however the shared indices move). True if it became
 * ready.
 */
static bool lfq_consumer_spin(struct lfq_consumer *c, u32 min_count)
{
	u32 now = min(c->spin_now, c->spin_max), available, i;

	if (lfq_queue_ready(c->q, LFQ_WAIT_DATA, min_count, false, &available))
		return true;
	for (i = 0; i < now && !need_resched(); i++) {
		cpu_relax();
		if (lfq_queue_ready(c->q, LFQ_WAIT_DATA, min_count, false,
				    &available)) {
			c->spin_now = lfq_spin_next(now, c->spin_max, 0);
			return true;
		}
	}
	c->spin_now = lfq_spin_next(now, c->spin_max, 1);
	return false;
}

/**
 * lfq_consumer_wait() - sleep until @min_count records are ready.
 * @c:		the consumer.
 * @min_count:	records wanted, 1..slot_count.
 * @timeout_ns:	< 0 forever, 0 check only, else a relative timeout.
 *
 * Spins first, after a first check, up to @c->spin_now more (adaptive:
 * lfq_consumer_set_spin()). Producers see the need-wakeup flag this then
 * arms and wake the caller (userspace ones with LFQ_IOC_WAKE). A kernel
 * thread returns early when kthread_stop() is called on it.
 *
 * On an MPMC queue "ready" counts the records no consumer has claimed:
 * another consumer may take them first, so a peek after may find none.
 *
 * Context: process context; sleeps.
 * Return: 0 when ready, -EINVAL for a bad @min_count, -EAGAIN, -ETIMEDOUT
 * or -EINTR as for LFQ_IOC_WAIT.
 */
int lfq_consumer_wait(struct lfq_consumer *c, u32 min_count, s64 timeout_ns)
{
	u32 available;

	if (!min_count || min_count > c->q->hdr.slot_count)
		return -EINVAL;
	/*
	 * HOSTILE MEMORY H5: a process moving an MPMC claim index can make
	 * every wait return at once and every take find nothing; a caller
	 * looping on the two still yields here.
	 */
	cond_resched();
	if (c->q->hdr.type == LFQ_TYPE_MPMC || c->q->ring.overwrite)
		goto wait;	/* the shared index is the truth */
	/*
	 * lfq_queue_wait() judges readiness by the shared tail, which a
	 * process may have rewritten: put ours back first, or a stale one
	 * could say "ready" to a peek that finds nothing, again and again.
	 * ORDERING kcons-tail.
	 */
	lfq_store_release(c->seg ? c->seg->ring.tail : c->q->ring.tail,
			  lfq_consumer_tail(c));
wait:
	if (timeout_ns && lfq_consumer_spin(c, min_count))
		return 0;
	return lfq_queue_wait(c->q, LFQ_WAIT_DATA, min_count, timeout_ns,
			      &available);
}
EXPORT_SYMBOL_GPL(lfq_consumer_wait);

/* After a record consumer's release or skip: wake producers asleep. */
static void lfq_consumer_rec_wake(struct lfq_consumer *c)
{
	bool wake;

	if (c->q->hdr.type == LFQ_TYPE_MPMC) {
		wake = c->rmpmc.wake;
		c->rmpmc.wake = 0;
	} else {
		wake = c->rec.wake;
		c->rec.wake = 0;
	}
	if (wake)
		lfq_queue_wake_producers(c->q);
}

/* An MPMC record queue: release what is held; count it if found torn. */
static void lfq_consumer_rec_give_back(struct lfq_consumer *c)
{
	if (lfq_rec_mpmc_release(&c->rmpmc))
		atomic64_inc(&c->q->torn);
	lfq_consumer_rec_wake(c);
}

/*
 * An MPMC record queue: the record this consumer takes (by
 * compare-and-swap of the shared claim index, discarded ones released on
 * the way: lfq_rec_mpmc_take()), or the one it holds.
 */
static const void *lfq_consumer_rec_take(struct lfq_consumer *c, u32 *len)
{
	const void *p = lfq_rec_mpmc_take(&c->rmpmc, len);

	lfq_consumer_rec_wake(c);
	return p;
}

/* An MPMC record queue: up to @max records, each taken, handed, released. */
static int lfq_consumer_rec_consume_mpmc(struct lfq_consumer *c, u32 max,
					 int (*fn)(void *ctx, const void *rec,
						   u32 len),
					 void *ctx)
{
	const void *p;
	int n = 0, stop = 0;
	u32 len;

	while ((u32)n < max && !stop &&
	       (p = lfq_consumer_rec_take(c, &len))) {
		stop = fn(ctx, p, len);
		lfq_consumer_rec_give_back(c);
		n++;
	}
	return n;
}

/**
 * lfq_consumer_rec_peek() - the next record of a record queue, discarded
 * ones skipped.
 * @c:		the consumer (lfq_consumer_init() on a record queue).
 * @len:	set to the record's payload bytes.
 *
 * The record stays until lfq_consumer_rec_release(); a peek before that
 * returns it again. Its length was checked against the queue's limit,
 * but its bytes live in memory processes can write: copy before
 * validating anything in them. In overwrite mode the consumer owns the
 * queue's tail from here to the release: producers do not overwrite the
 * record meanwhile (they drop). On an MPMC queue the record is taken,
 * this consumer's alone until its release, unless another consumer
 * forges words (see lfq_consumer_intact()).
 *
 * Context: any context but NMI; does not sleep.
 * Return: the payload (contiguous), or NULL if no record is ready (or a
 * forged header stops the consumer there) or @c is not on a record queue.
 */
const void *lfq_consumer_rec_peek(struct lfq_consumer *c, u32 *len)
{
	const void *p;
	u32 moves = 0;

	*len = 0;
	if (!c->q->ring.records)
		return NULL;
	if (c->q->hdr.type == LFQ_TYPE_MPMC)
		return lfq_consumer_rec_take(c, len);
	/* HOSTILE MEMORY H5: seg_max moves per call at most. */
	do {
		p = lfq_rec_peek(&c->rec, len);
		lfq_consumer_rec_wake(c);
	} while (!p && moves++ < c->q->hdr.seg_max &&
		 lfq_consumer_next_seg(c));
	return p;
}
EXPORT_SYMBOL_GPL(lfq_consumer_rec_peek);

/**
 * lfq_consumer_rec_release() - free the record lfq_consumer_rec_peek()
 * returned (its size as the peek found it); wake producers that sleep
 * for space.
 * @c:		the consumer.
 *
 * On an MPMC queue a record found torn (lfq_consumer_intact()) is dropped
 * without a write and counted in lfq_stats.torn.
 *
 * Context: any context but NMI.
 */
void lfq_consumer_rec_release(struct lfq_consumer *c)
{
	if (!c->q->ring.records)
		return;
	if (c->q->hdr.type == LFQ_TYPE_MPMC) {
		lfq_consumer_rec_give_back(c);
	} else {
		lfq_rec_release(&c->rec);
		lfq_consumer_rec_wake(c);
	}
}
EXPORT_SYMBOL_GPL(lfq_consumer_rec_release);

/**
 * lfq_consumer_rec_consume() - hand up to @max records to @fn and free
 * them as one run (headers read once, one store of the tail).
 * @c:		the consumer.
 * @max:	records wanted, at least 1.
 * @fn:		called for each record in order, with its payload (in
 *		memory processes can write: copy before validating) and
 *		length; non-zero stops after that record (the rest stays).
 * @ctx:	passed to @fn.
 *
 * A record peeked and not released is the run's first. On an MPMC queue
 * each record is taken, handed to @fn and released in turn.
 *
 * Context: any context but NMI (as @fn allows).
 * Return: records handed to @fn, -EINVAL for a @max of 0 or no @fn or
 * a queue that is not a record queue.
 */
int lfq_consumer_rec_consume(struct lfq_consumer *c, u32 max,
			     int (*fn)(void *ctx, const void *rec, u32 len),
			     void *ctx)
{
	struct lfq_rec_batch b;
	u32 moves = 0;
	int n;

	if (!c->q->ring.records || !max || !fn)
		return -EINVAL;
	if (c->q->hdr.type == LFQ_TYPE_MPMC)
		return lfq_consumer_rec_consume_mpmc(c, max, fn, ctx);
	c->rec.held = 0;
	for (;;) {
		if (lfq_rec_peek_batch(&c->rec, max, &b))
			break;
		/* Discarded records only, if any; then the next segment. */
		lfq_rec_release_batch(&c->rec, &b);
		lfq_consumer_rec_wake(c);
		/* HOSTILE MEMORY H5: seg_max moves per call at most. */
		if (moves++ >= c->q->hdr.seg_max || !lfq_consumer_next_seg(c))
			return 0;
	}
	n = lfq_rec_batch_hand(&b, fn, ctx);
	lfq_rec_release_batch(&c->rec, &b);
	lfq_consumer_rec_wake(c);
	return n;
}
EXPORT_SYMBOL_GPL(lfq_consumer_rec_consume);
