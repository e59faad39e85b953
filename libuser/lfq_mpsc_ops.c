// SPDX-License-Identifier: MIT
/*
 * lfq_mpsc_ops.c - liblfq's fast path for MPSC queues: thin wrappers over
 * the shared protocol (kmod/proto/lfq_mpsc.h). A handle holds at most one
 * reservation; committing fewer slots than reserved discards the rest, so
 * the consumer never waits on slots nobody will write. Chosen once per
 * handle (lfq_bind_views()).
 */
#include <errno.h>

#include "lfq_handle.h"

static int lfq_mpsc_op_reserve(struct lfq *q, uint32_t want, void **span)
{
	struct lfq_mpsc_prod *p = &q->prod.mpsc.view;

	/* An unfinished reservation would wedge the consumer. */
	if (lfq_unlikely(q->prod.mpsc.resv.count) &&
	    lfq_mpsc_commit_n(q, 0) && q->wakeups)
		q->backend->wake(q, LFQ_WAKE_CONSUMER);
	*span = lfq_mpsc_reserve(p, want, &q->prod.mpsc.resv);
	if (lfq_likely(*span))
		return (int)q->prod.mpsc.resv.count;
	__atomic_fetch_add(p->full_events, 1, __ATOMIC_RELAXED);
	return -EAGAIN;
}

static int lfq_mpsc_op_commit(struct lfq *q, uint32_t n)
{
	/* The MPSC commit always reports a sleeper: nothing to save. */
	if (lfq_unlikely(lfq_mpsc_commit_n(q, n)) && q->wakeups)
		q->backend->wake(q, LFQ_WAKE_CONSUMER);
	return 0;
}

static int lfq_mpsc_op_discard(struct lfq *q)
{
	if (q->prod.mpsc.resv.count && lfq_mpsc_commit_n(q, 0) && q->wakeups)
		q->backend->wake(q, LFQ_WAKE_CONSUMER);
	return 0;
}

static int lfq_mpsc_op_peek(struct lfq *q, uint32_t want, const void **span)
{
	struct lfq_mpsc_cons *c = &q->cons.mpsc;
	uint32_t got;
	int wake;

	*span = lfq_mpsc_peek_check(c, want, &got, &wake);
	/* Skipped discarded slots freed space a producer waits for. */
	if (lfq_unlikely(wake) && q->wakeups)
		q->backend->wake(q, LFQ_WAKE_PRODUCER);
	if (lfq_likely(got))
		return (int)got;
	/* Only this consumer writes empty_events: a plain increment. */
	lfq_store_relaxed(c->empty_events, *c->empty_events + 1);
	return -EAGAIN;
}

static int lfq_mpsc_op_release(struct lfq *q, uint32_t n)
{
	if (lfq_unlikely(lfq_mpsc_release(&q->cons.mpsc, n)) && q->wakeups)
		q->backend->wake(q, LFQ_WAKE_PRODUCER);
	return 0;
}

const struct lfq_prod_ops lfq_mpsc_prod_ops = {
	.reserve	= lfq_mpsc_op_reserve,
	.commit		= lfq_mpsc_op_commit,
	.discard	= lfq_mpsc_op_discard,
};

const struct lfq_cons_ops lfq_mpsc_cons_ops = {
	.peek		= lfq_mpsc_op_peek,
	.release	= lfq_mpsc_op_release,
};
