// SPDX-License-Identifier: MIT
/*
 * lfq_spsc_ops.c - liblfq's fast path for SPSC queues: thin wrappers over
 * the shared protocol (kmod/proto/lfq_spsc.h) that count full and empty
 * events and wake a sleeping peer. Chosen once per handle
 * (lfq_bind_views()); no role or type check runs here.
 */
#include <errno.h>

#include "lfq_handle.h"

static int lfq_spsc_op_reserve(struct lfq *q, uint32_t want, void **span)
{
	struct lfq_spsc_prod *p = &q->prod.spsc;
	uint32_t got;

	*span = lfq_spsc_reserve(p, want, &got);
	if (lfq_likely(got))
		return (int)got;
	/* Only this producer writes full_events: a plain increment. */
	lfq_store_relaxed(p->full_events, *p->full_events + 1);
	return -EAGAIN;
}

static int lfq_spsc_op_commit(struct lfq *q, uint32_t n)
{
	if (!q->wakeups)
		lfq_spsc_commit(&q->prod.spsc, n);
	else if (lfq_unlikely(lfq_spsc_commit_check(&q->prod.spsc, n)))
		q->backend->wake(q, LFQ_WAKE_CONSUMER);
	return 0;
}

static int lfq_spsc_op_discard(struct lfq *q)
{
	/* Nothing was published: forgetting the reservation is enough. */
	q->prod.spsc.reserved = 0;
	return 0;
}

static int lfq_spsc_op_peek(struct lfq *q, uint32_t want, const void **span)
{
	struct lfq_spsc_cons *c = &q->cons.spsc;
	uint32_t got;

	*span = lfq_spsc_peek(c, want, &got);
	if (lfq_likely(got))
		return (int)got;
	/* Only this consumer writes empty_events: a plain increment. */
	lfq_store_relaxed(c->empty_events, *c->empty_events + 1);
	return -EAGAIN;
}

static int lfq_spsc_op_release(struct lfq *q, uint32_t n)
{
	if (!q->wakeups)
		lfq_spsc_release(&q->cons.spsc, n);
	else if (lfq_unlikely(lfq_spsc_release_check(&q->cons.spsc, n)))
		q->backend->wake(q, LFQ_WAKE_PRODUCER);
	return 0;
}

const struct lfq_prod_ops lfq_spsc_prod_ops = {
	.reserve	= lfq_spsc_op_reserve,
	.commit		= lfq_spsc_op_commit,
	.discard	= lfq_spsc_op_discard,
};

const struct lfq_cons_ops lfq_spsc_cons_ops = {
	.peek		= lfq_spsc_op_peek,
	.release	= lfq_spsc_op_release,
};
