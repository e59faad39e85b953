// SPDX-License-Identifier: MIT
/*
 * lfq_inline.c - the out-of-line half of lfq_inline.h: handing out a
 * handle's SPSC views once their role and queue type are checked, and the
 * wakeup the inline commit and release call when a peer sleeps.
 */
#include <errno.h>

#include "lfq_handle.h"

int lfq_inline_producer(struct lfq *q, struct lfq_inline_prod *ip)
{
	if (!(q->role & LFQ_ROLE_PRODUCER))
		return -EPERM;
	/* Fixed SPSC only: elastic SPSC handles have the elastic ops. */
	if (q->pops != &lfq_spsc_prod_ops)
		return -EOPNOTSUPP;
	*ip = lfq_prod_view(q);
	return 0;
}

int lfq_inline_consumer(struct lfq *q, struct lfq_inline_cons *ic)
{
	if (!(q->role & LFQ_ROLE_CONSUMER))
		return -EPERM;
	if (q->cops != &lfq_spsc_cons_ops)
		return -EOPNOTSUPP;
	*ic = lfq_cons_view(q);
	return 0;
}

void lfq_inline_wake(struct lfq *q, uint32_t which)
{
	q->backend->wake(q, which);
}
