// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_kapi.c - the in-kernel producer API. Kernel code in any context
 * (process, softirq, hardirq, NMI) reserves slots in an MPSC queue,
 * writes them and commits or discards them, alongside userspace producers
 * of the same ring. A full ring fails the reservation and counts a drop:
 * kernel producers never wait. A sleeping consumer is woken through
 * irq_work, which is safe from every one of those contexts.
 *
 * The ring's control words live in user-writable pages: HOSTILE MEMORY
 * H1-H6 (proto/lfq_rules.h) keep every kernel write inside the queue and
 * off slots another producer is still writing.
 */
#include <linux/export.h>
#include <linux/irq_work.h>

#include "lfq_claims.h"
#include "lfq_kapi.h"
#include "lfq_queue.h"

/*
 * Reservation attempts a kernel producer makes before dropping the record
 * (HOSTILE MEMORY H5): legitimate contention resolves in a few; a process
 * rewriting head in a loop must not keep a producer in hardirq or NMI
 * context spinning.
 */
#define LFQ_KAPI_MAX_TRIES	64

/* A producer view on the stack: no state shared between contexts. */
static void lfq_kapi_view(struct lfq_queue *q, struct lfq_mpsc_prod *p)
{
	lfq_mpsc_prod_init(p, &q->ring);
	lfq_mpsc_prod_set_max_tries(p, LFQ_KAPI_MAX_TRIES);
}

/**
 * lfq_queue_reserve() - reserve up to @want consecutive slots.
 * @q:		an MPSC queue (a reference held by the caller).
 * @want:	slots wanted, at least 1.
 * @r:		the reservation, to pass to lfq_queue_commit() or
 *		lfq_queue_discard() from any context.
 *
 * Lock-free and allocation-free. The span is contiguous even across the
 * ring's end (the slot area is mapped twice).
 *
 * Context: any, NMI included.
 * Return: the first slot of @r->count writable slots, or NULL (and a drop
 * counted) if the ring is full, @q is not an MPSC queue, the shared
 * head kept changing under LFQ_KAPI_MAX_TRIES attempts, or more kernel
 * reservations than the queue has kernel claims are in flight.
 */
void *lfq_queue_reserve(struct lfq_queue *q, u32 want,
			struct lfq_mpsc_resv *r)
{
	struct lfq_mpsc_prod p;
	void *span;

	r->count = 0;
	if (unlikely(q->hdr.type != LFQ_TYPE_MPSC || !want))
		return NULL;
	lfq_kapi_view(q, &p);
	/* A claim, so the orphan scan leaves our slots alone. */
	if (unlikely(!lfq_kclaim_get(q, &p, r))) {
		atomic64_inc(&q->dropped);
		return NULL;
	}
	span = lfq_mpsc_reserve(&p, want, r);
	if (unlikely(!span)) {
		lfq_kclaim_put(q, r);
		atomic64_inc(&q->dropped);
	}
	return span;
}
EXPORT_SYMBOL_GPL(lfq_queue_reserve);

/* Commit or discard @r, then wake a sleeping consumer through irq_work. */
static void lfq_kapi_publish(struct lfq_queue *q,
			     const struct lfq_mpsc_resv *r, bool keep)
{
	struct lfq_mpsc_prod p;
	bool wake;

	if (!r->count)
		return;
	lfq_kapi_view(q, &p);
	wake = keep ? lfq_mpsc_commit(&p, r) : lfq_mpsc_discard(&p, r);
	lfq_kclaim_put(q, r);
	if (wake)
		irq_work_queue(&q->wake_work);
}

/**
 * lfq_queue_commit() - publish a reservation made by lfq_queue_reserve().
 * @q:		the queue.
 * @r:		the reservation, all of its slots written.
 *
 * Context: any, NMI included.
 */
void lfq_queue_commit(struct lfq_queue *q, const struct lfq_mpsc_resv *r)
{
	lfq_kapi_publish(q, r, true);
}
EXPORT_SYMBOL_GPL(lfq_queue_commit);

/**
 * lfq_queue_discard() - give a reservation up; the consumer skips its
 * slots and counts them.
 * @q:		the queue.
 * @r:		the reservation.
 *
 * Context: any, NMI included.
 */
void lfq_queue_discard(struct lfq_queue *q, const struct lfq_mpsc_resv *r)
{
	lfq_kapi_publish(q, r, false);
}
EXPORT_SYMBOL_GPL(lfq_queue_discard);
