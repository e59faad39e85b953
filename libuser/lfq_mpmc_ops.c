// SPDX-License-Identifier: MIT
/*
 * lfq_mpmc_ops.c - liblfq's consumer fast path for MPMC queues: thin
 * wrappers over the shared protocol (kmod/proto/lfq_mpmc.h). A handle is
 * one consumer: its peek claims a run of committed slots, which the
 * handle holds until it has released all of them (a peek before that
 * returns what is still held: struct lfq_mpmc_hold), so it holds one
 * claim at a time, as the protocol asks. Producers are MPSC producers
 * (lfq_mpsc_ops.c), whose view checks the release words. Chosen once per
 * handle (lfq_bind_views()).
 */
#include <errno.h>

#include "lfq_handle.h"

static int lfq_mpmc_op_peek(struct lfq *q, uint32_t want, const void **span)
{
	struct lfq_mpmc_view *m = &q->cons.mpmc;
	uint32_t got;
	int wake;

	*span = lfq_mpmc_hold_peek(&m->view, &m->hold, want, &got, &wake);
	if (lfq_unlikely(wake) && q->wakeups)
		q->backend->wake(q, LFQ_WAKE_PRODUCER);
	if (lfq_likely(got))
		return (int)got;
	/* Every consumer counts here: an atomic increment. */
	__atomic_fetch_add(m->view.empty_events, 1, __ATOMIC_RELAXED);
	return -EAGAIN;
}

/*
 * Slots found torn as they are released (lfq_mpmc_torn(): overwritten
 * while this handle held them, another consumer having forged their
 * release words) are counted in the shared lfq_cons_ctl.torn, and the
 * caller hears -ESTALE: what it read of them is not their records.
 */
static int lfq_mpmc_op_release(struct lfq *q, uint32_t n)
{
	struct lfq_mpmc_view *m = &q->cons.mpmc;
	uint64_t torn = m->view.torn;

	if (lfq_unlikely(lfq_mpmc_hold_release(&m->view, &m->hold, n)) &&
	    q->wakeups)
		q->backend->wake(q, LFQ_WAKE_PRODUCER);
	if (lfq_likely(m->view.torn == torn))
		return 0;
	__atomic_fetch_add(&q->ring.cons->torn, m->view.torn - torn,
			   __ATOMIC_RELAXED);
	return -ESTALE;
}

const struct lfq_cons_ops lfq_mpmc_cons_ops = {
	.peek		= lfq_mpmc_op_peek,
	.release	= lfq_mpmc_op_release,
};
