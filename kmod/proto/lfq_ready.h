/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * lfq_ready.h - how ready a ring is for a waiter, for both queue types and
 * both sides (the kernel's WAIT/poll and liblfq's futex waits ask the same
 * question): readable or free slots, optionally arming the waiter's
 * need-wakeup flag first (the handshake in lfq_spsc.h and lfq_mpsc.h).
 */
#ifndef _LFQ_PROTO_READY_H
#define _LFQ_PROTO_READY_H

#include "lfq_mpsc.h"
#include "lfq_spsc.h"

/**
 * struct lfq_ring_ctl - the shared words of a ring a waiter looks at.
 * @prod:	the producer page.
 * @cons:	the consumer page.
 * @commit:	the commit words (MPSC only).
 * @type:	LFQ_TYPE_*.
 * @slot_count:	slots in the ring.
 */
struct lfq_ring_ctl {
	struct lfq_prod_ctl *prod;
	struct lfq_cons_ctl *cons;
	const __u64 *commit;
	__u32 type;
	__u32 slot_count;
};

/**
 * lfq_ready_data() - readable slots, arming need_data first if @arm.
 * @r:		the ring.
 * @max:	an MPSC ring is counted up to @max only (one commit word per
 *		slot is read); an SPSC count is exact.
 * @arm:	announce a sleep first (the caller is queued to be woken).
 *
 * Return: readable slots, at most slot_count.
 */
static inline __u32 lfq_ready_data(const struct lfq_ring_ctl *r, __u32 max,
				   int arm)
{
	__u32 mask = r->slot_count - 1;

	if (r->type == LFQ_TYPE_MPSC)
		return arm ? lfq_mpsc_arm_data_wait(r->cons, r->commit, mask,
						    max) :
			     lfq_mpsc_ready(r->commit, mask,
					    lfq_load_relaxed(&r->cons->tail),
					    max);
	return arm ? lfq_spsc_arm_data_wait(r->prod, r->cons, r->slot_count) :
		     lfq_spsc_readable(r->prod, r->cons, r->slot_count);
}

/**
 * lfq_ready_space() - free slots (reserved MPSC slots are in use), arming
 * need_space first if @arm.
 * @r:		the ring.
 * @arm:	announce a sleep first.
 *
 * Without @arm this is a snapshot for a readiness answer only: nothing is
 * read or written in the slots on its strength (a producer orders its own
 * writes with its own acquire of tail), so relaxed loads suffice.
 *
 * Return: free slots, at most slot_count.
 */
static inline __u32 lfq_ready_space(const struct lfq_ring_ctl *r, int arm)
{
	if (arm)
		return lfq_spsc_arm_space_wait(r->prod, r->cons, r->slot_count);
	return r->slot_count -
	       lfq_ring_count(lfq_load_relaxed(&r->prod->head),
			      lfq_load_relaxed(&r->cons->tail), r->slot_count);
}

#endif /* _LFQ_PROTO_READY_H */
