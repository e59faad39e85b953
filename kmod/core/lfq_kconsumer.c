// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_kconsumer.c - the in-kernel consumer API: kernel code takes records
 * that processes produce (the userspace-to-kernel direction), in order,
 * zero-copy, from an SPSC or MPSC queue, and sleeps when it is empty.
 *
 * The producer side lives in user-writable pages: by HOSTILE MEMORY H1-H5
 * (proto/lfq_rules.h) a hostile process can feed garbage records but not
 * steer a kernel read outside the queue.
 */
#include <linux/bug.h>
#include <linux/export.h>

#include "lfq_kapi.h"
#include "lfq_queue.h"
#include "lfq_seg.h"
#include "lfq_wait.h"

/* The consumer's private index: the truth, whatever the shared page says. */
static u64 lfq_consumer_tail(const struct lfq_consumer *c)
{
	return c->q->hdr.type == LFQ_TYPE_MPSC ? c->mpsc.tail : c->spsc.tail;
}

/* Read @ring from where its consumer index stands. */
static void lfq_consumer_bind(struct lfq_consumer *c,
			      const struct lfq_ring_loc *ring)
{
	if (c->q->hdr.type == LFQ_TYPE_MPSC)
		lfq_mpsc_cons_init(&c->mpsc, ring);
	else
		lfq_spsc_cons_init(&c->spsc, ring);
}

/**
 * lfq_consumer_init() - start consuming @q where its consumer index stands.
 * @c:		the consumer, owned by the caller.
 * @q:		the queue (a reference held by the caller while @c is used):
 *		SPSC or MPSC. An MPMC queue has no kernel consumers yet: such
 *		a consumer finds it empty, frees nothing and never writes the
 *		shared claim index (its waits answer -EOPNOTSUPP).
 *
 * On an elastic queue the consumer starts in the oldest live segment,
 * which from then on is not retired under it; call lfq_consumer_fini()
 * when done.
 *
 * Context: any context for a fixed queue; process context for an
 * elastic one.
 */
void lfq_consumer_init(struct lfq_consumer *c, struct lfq_queue *q)
{
	WARN_ON_ONCE(q->hdr.type == LFQ_TYPE_MPMC);
	c->q = q;
	c->seg = q->el ? lfq_seg_consumer_start(q->el) : NULL;
	lfq_consumer_bind(c, c->seg ? &c->seg->ring : &q->ring);
}
EXPORT_SYMBOL_GPL(lfq_consumer_init);

/**
 * lfq_consumer_fini() - stop consuming: an elastic queue may retire the
 * segment the consumer was in.
 * @c:		the consumer.
 *
 * Context: any context but NMI.
 */
void lfq_consumer_fini(struct lfq_consumer *c)
{
	if (c->seg)
		lfq_seg_consumer_stop(c->q->el);
	c->seg = NULL;
}
EXPORT_SYMBOL_GPL(lfq_consumer_fini);

/* Peek in the ring being read, waking producers a skip freed space for. */
static const void *lfq_consumer_peek_ring(struct lfq_consumer *c, u32 want,
					  u32 *got)
{
	const void *span;
	int wake;

	if (unlikely(c->q->hdr.type == LFQ_TYPE_MPMC)) {
		*got = 0;
		return NULL;
	}
	if (c->q->hdr.type != LFQ_TYPE_MPSC)
		return lfq_spsc_peek(&c->spsc, want, got);
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
 * On an elastic queue a drained segment gives way to the next one.
 *
 * Context: any context but NMI; does not sleep.
 * Return: the first slot of the span, or NULL if none is ready.
 */
const void *lfq_consumer_peek(struct lfq_consumer *c, u32 want, u32 *got)
{
	const void *span;
	struct lfq_seg *n;

	for (;;) {
		span = lfq_consumer_peek_ring(c, want, got);
		if (span || !c->seg)
			return span;
		/* Empty: a segment drained to its seal gives way to the next. */
		if (!lfq_seg_drained(&c->seg->ring, lfq_consumer_tail(c)))
			return NULL;
		n = lfq_seg_consumer_next(c->q->el, c->seg);
		if (!n)
			return NULL;
		c->seg = n;
		lfq_consumer_bind(c, &n->ring);
	}
}
EXPORT_SYMBOL_GPL(lfq_consumer_peek);

/**
 * lfq_consumer_release() - free @n peeked slots; wake producers that sleep
 * for space.
 * @c:		the consumer.
 * @n:		slots to free (clamped to the last peek).
 *
 * Context: any context but NMI.
 */
void lfq_consumer_release(struct lfq_consumer *c, u32 n)
{
	int sleeper;

	if (unlikely(c->q->hdr.type == LFQ_TYPE_MPMC))
		return;		/* it never peeked anything */
	if (c->q->hdr.type == LFQ_TYPE_MPSC)
		sleeper = lfq_mpsc_release(&c->mpsc, n);
	else
		sleeper = lfq_spsc_release_check(&c->spsc, n);
	if (sleeper)
		lfq_queue_wake_producers(c->q);
}
EXPORT_SYMBOL_GPL(lfq_consumer_release);

/**
 * lfq_consumer_wait() - sleep until @min_count records are ready.
 * @c:		the consumer.
 * @min_count:	records wanted, 1..slot_count.
 * @timeout_ns:	< 0 forever, 0 check only, else a relative timeout.
 *
 * Producers see the need-wakeup flag this arms and wake the caller
 * (userspace ones with LFQ_IOC_WAKE). A kernel thread returns early when
 * kthread_stop() is called on it.
 *
 * Context: process context; sleeps.
 * Return: 0 when ready, -EINVAL for a bad @min_count, -EOPNOTSUPP on an
 * MPMC queue, -EAGAIN, -ETIMEDOUT or -EINTR as for LFQ_IOC_WAIT.
 */
int lfq_consumer_wait(struct lfq_consumer *c, u32 min_count, s64 timeout_ns)
{
	u32 available;

	if (!min_count || min_count > c->q->hdr.slot_count)
		return -EINVAL;
	if (unlikely(c->q->hdr.type == LFQ_TYPE_MPMC))
		return -EOPNOTSUPP;
	/*
	 * lfq_queue_wait() judges readiness by the shared tail, which a
	 * process may have rewritten: put ours back first, or a stale one
	 * could say "ready" to a peek that finds nothing, again and again.
	 * ORDERING kcons-tail.
	 */
	lfq_store_release(c->seg ? c->seg->ring.tail : c->q->ring.tail,
			  lfq_consumer_tail(c));
	return lfq_queue_wait(c->q, LFQ_WAIT_DATA, min_count, timeout_ns,
			      &available);
}
EXPORT_SYMBOL_GPL(lfq_consumer_wait);
