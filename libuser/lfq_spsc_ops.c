// SPDX-License-Identifier: MIT
/*
 * lfq_spsc_ops.c - liblfq's fast path for fixed SPSC queues: the
 * out-of-line operations are lfq_inline.h's inline ones (which count
 * full and empty events and wake a sleeping peer) on the handle's own
 * views. Chosen once per handle (lfq_bind_views()); no role or type check
 * runs here.
 */
#include <errno.h>

#include "lfq_handle.h"

static int lfq_spsc_op_reserve(struct lfq *q, uint32_t want, void **span)
{
	struct lfq_inline_prod ip = lfq_prod_view(q);

	if (want == 1) {	/* lfq_push(), and every batch of 1 */
		*span = lfq_inline_reserve_one(&ip);
		return *span ? 1 : -EAGAIN;
	}
	return lfq_inline_reserve(&ip, want, span);
}

static int lfq_spsc_op_commit(struct lfq *q, uint32_t n)
{
	struct lfq_inline_prod ip = lfq_prod_view(q);

	lfq_inline_commit(&ip, n);
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
	struct lfq_inline_cons ic = lfq_cons_view(q);

	if (want == 1) {	/* lfq_pop(), and every batch of 1 */
		*span = lfq_inline_peek_one(&ic);
		return *span ? 1 : -EAGAIN;
	}
	return lfq_inline_peek(&ic, want, span);
}

static int lfq_spsc_op_release(struct lfq *q, uint32_t n)
{
	struct lfq_inline_cons ic = lfq_cons_view(q);

	lfq_inline_release(&ic, n);
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
