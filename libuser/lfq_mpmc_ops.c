// SPDX-License-Identifier: MIT
/*
 * lfq_mpmc_ops.c - liblfq's consumer fast path for MPMC queues: thin
 * wrappers over the shared protocol (kmod/proto/lfq_mpmc.h). A handle is
 * one consumer: its peek claims a run of committed slots, which the
 * handle holds until it has released all of them (a peek before that
 * returns what is still held), so it holds one claim at a time, as the
 * protocol asks. Producers are MPSC producers (lfq_mpsc_ops.c), whose
 * view checks the release words. Chosen once per handle
 * (lfq_bind_views()).
 */
#include <errno.h>

#include "lfq_handle.h"

/* The held claim's unreleased slots, from @want at most. */
static int lfq_mpmc_held(struct lfq *q, uint32_t want, const void **span)
{
	struct lfq_mpmc_view *m = &q->cons.mpmc;
	uint32_t left = m->take.count - m->done;

	*span = m->view.data +
		(uint64_t)((m->take.index + m->done) & m->view.mask) *
		m->view.slot_size;
	return (int)(want < left ? want : left);
}

static int lfq_mpmc_op_peek(struct lfq *q, uint32_t want, const void **span)
{
	struct lfq_mpmc_view *m = &q->cons.mpmc;
	struct lfq_mpmc_take none = { 0, 0 };
	uint64_t discarded = m->view.discarded;

	if (lfq_unlikely(m->take.count))
		return lfq_mpmc_held(q, want, span);
	*span = lfq_mpmc_claim(&m->view, want, &m->take);
	/* Discarded slots it released freed space a producer waits for. */
	if (lfq_unlikely(m->view.discarded != discarded) &&
	    lfq_mpmc_release(&m->view, &none) && q->wakeups)
		q->backend->wake(q, LFQ_WAKE_PRODUCER);
	if (lfq_likely(m->take.count)) {
		m->done = 0;
		return (int)m->take.count;
	}
	/* Every consumer counts here: an atomic increment. */
	__atomic_fetch_add(m->view.empty_events, 1, __ATOMIC_RELAXED);
	return -EAGAIN;
}

static int lfq_mpmc_op_release(struct lfq *q, uint32_t n)
{
	struct lfq_mpmc_view *m = &q->cons.mpmc;
	uint32_t left = m->take.count - m->done;
	struct lfq_mpmc_take t;

	if (n > left)
		n = left;
	if (!n)
		return 0;
	t.index = m->take.index + m->done;
	t.count = n;
	m->done += n;
	if (m->done == m->take.count)
		m->take.count = 0;
	if (lfq_unlikely(lfq_mpmc_release(&m->view, &t)) && q->wakeups)
		q->backend->wake(q, LFQ_WAKE_PRODUCER);
	return 0;
}

const struct lfq_cons_ops lfq_mpmc_cons_ops = {
	.peek		= lfq_mpmc_op_peek,
	.release	= lfq_mpmc_op_release,
};
