// SPDX-License-Identifier: MIT
/*
 * lfq_inline.c - the out-of-line half of lfq_inline.h: handing out a
 * handle's SPSC views once their role and queue type are checked, and the
 * wakeup the inline commit and release call when a peer sleeps; and the
 * layout programs built with lfq_inline.h depend on, pinned.
 */
#include <errno.h>
#include <stddef.h>

#include "lfq_handle.h"

/*
 * What programs built with lfq_inline.h compiled in (LP64): the layout of
 * the views and of the protocol structs they point to. A change here
 * breaks them, and needs a new soname (liblfq.so.N) rather than an edit
 * of these lines.
 */
#if defined(__LP64__)
#define LFQ_ABI(s, f, off) \
	_Static_assert(offsetof(s, f) == (off), #s "." #f ": liblfq ABI")
_Static_assert(sizeof(struct lfq_spsc_prod) == 72, "lfq_spsc_prod: liblfq ABI");
LFQ_ABI(struct lfq_spsc_prod, head_w, 0);
LFQ_ABI(struct lfq_spsc_prod, tail_w, 8);
LFQ_ABI(struct lfq_spsc_prod, sleeps, 16);
LFQ_ABI(struct lfq_spsc_prod, full_events, 24);
LFQ_ABI(struct lfq_spsc_prod, data, 32);
LFQ_ABI(struct lfq_spsc_prod, head, 40);
LFQ_ABI(struct lfq_spsc_prod, cached_tail, 48);
LFQ_ABI(struct lfq_spsc_prod, reserved, 56);
LFQ_ABI(struct lfq_spsc_prod, slot_size, 60);
LFQ_ABI(struct lfq_spsc_prod, mask, 64);
LFQ_ABI(struct lfq_spsc_prod, light, 68);	/* was padding: 0 in 0.3 */
_Static_assert(sizeof(struct lfq_spsc_cons) == 80, "lfq_spsc_cons: liblfq ABI");
LFQ_ABI(struct lfq_spsc_cons, tail_w, 0);
LFQ_ABI(struct lfq_spsc_cons, head_w, 8);
LFQ_ABI(struct lfq_spsc_cons, sleeps, 16);
LFQ_ABI(struct lfq_spsc_cons, empty_events, 24);
LFQ_ABI(struct lfq_spsc_cons, data, 32);
LFQ_ABI(struct lfq_spsc_cons, index_mask, 40);
LFQ_ABI(struct lfq_spsc_cons, tail, 48);
LFQ_ABI(struct lfq_spsc_cons, cached_head, 56);
LFQ_ABI(struct lfq_spsc_cons, peeked, 64);
LFQ_ABI(struct lfq_spsc_cons, slot_size, 68);
LFQ_ABI(struct lfq_spsc_cons, mask, 72);
LFQ_ABI(struct lfq_spsc_cons, light, 76);	/* was padding: 0 in 0.3 */
_Static_assert(sizeof(struct lfq_inline_prod) == 24, "lfq_inline_prod: liblfq ABI");
LFQ_ABI(struct lfq_inline_prod, p, 0);
LFQ_ABI(struct lfq_inline_prod, wakeups, 8);
LFQ_ABI(struct lfq_inline_prod, q, 16);
_Static_assert(sizeof(struct lfq_inline_cons) == 24, "lfq_inline_cons: liblfq ABI");
LFQ_ABI(struct lfq_inline_cons, c, 0);
LFQ_ABI(struct lfq_inline_cons, wakeups, 8);
LFQ_ABI(struct lfq_inline_cons, q, 16);
#endif

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
