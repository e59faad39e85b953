/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * lfq_ready.h - how ready a ring is for a waiter, for both queue types and
 * both sides (the kernel's WAIT/poll and liblfq's futex waits ask the same
 * question): readable or free slots, optionally arming the waiter's
 * need-wakeup flag first (ORDERING wake-data, wake-space in lfq_rules.h);
 * and how long a waiter spins on that question before it sleeps.
 */
#ifndef _LFQ_PROTO_READY_H
#define _LFQ_PROTO_READY_H

#include "lfq.h"
#include "lfq_mpsc.h"
#include "lfq_rec.h"
#include "lfq_spsc.h"

/**
 * lfq_rec_ready_data() - whether a record queue has a record (committed
 * or discarded) at its tail (an MPMC one: at its claim index, where the
 * next take starts): 1 or 0, arming need_data first if @arm.
 * @r:		the ring (@r->records).
 * @arm:	as lfq_ready_data()'s; a record queue's waiter waits for one
 *		record, whatever it asks.
 *
 * A forged header at the tail reads as "none": the consumer would only
 * stop there (HOSTILE MEMORY), so its waiter sleeps until a commit (on
 * an MPMC ring, or until claim moves).
 *
 * Return: 1 or 0.
 */
static inline __u32 lfq_rec_ready_data(const struct lfq_ring_loc *r,
				       __u32 arm)
{
	__u64 size = r->slot_count, tail, h, *w;
	int st;

	if (arm)
		lfq_arm_flag(r->need_data, 1);
	/* HOSTILE MEMORY: records start 8-aligned, whatever the page says. */
	tail = lfq_load_relaxed(r->claim ? r->claim : r->tail) & ~7ull;
	/*
	 * ORDERING wake-data: after the barrier lfq_arm_flag() ends with,
	 * pairs with the producer's one after its header (lfq_rec_publish()).
	 */
	w = (__u64 *)(r->data + (tail & (size - 1)));
	/* MPMC: an acquire, so that the re-read of claim below stays after. */
	h = r->claim ? lfq_load_acquire_after_mb(w) : lfq_load_after_mb(w);
	st = lfq_rec_hdr_state(h, tail, lfq_rec_order(size),
			       lfq_rec_max_len(size));
	/*
	 * MPMC: nothing to take at the claim read, but other consumers move
	 * claim and wake nobody: the record there may have been taken (and
	 * released) after a commit behind it that saw no sleeper yet. Ready
	 * if claim moved since (a spurious wakeup at worst;
	 * tests/model/rec_mpmc_wake.pml). ORDERING rec-mpmc-claim: after
	 * the header's load.
	 */
	if (r->claim && (st <= 0 || (h & LFQ_REC_RELEASED)))
		return (lfq_load_acquire(r->claim) & ~7ull) != tail;
	return st > 0;
}

/**
 * lfq_ready_want() - what a waiter for @min_count waits for: a record
 * queue's data waiter for one record (lfq_rec_ready_data() counts no
 * further), every other waiter for @min_count.
 * @r:		the ring.
 * @data:	waiting for data (else for space).
 * @min_count:	what the waiter asked for.
 *
 * Return: the count to wait for.
 */
static inline __u32 lfq_ready_want(const struct lfq_ring_loc *r, int data,
				   __u32 min_count)
{
	return data && r->records ? 1 : min_count;
}

/**
 * lfq_ready_data() - readable slots, arming need_data first if @arm.
 * @r:		the ring.
 * @max:	an MPSC ring is counted up to @max only (one commit word per
 *		slot is read); an SPSC count is exact.
 * @arm:	0, or announce a sleep first (the caller is queued to be
 *		woken) for @arm slots: the flag's count (lfq_arm_flag()),
 *		the waiter's min_count, or 1 to be woken by any commit.
 *
 * Return: readable slots, at most slot_count.
 */
static inline __u32 lfq_ready_data(const struct lfq_ring_loc *r, __u32 max,
				   __u32 arm)
{
	if (r->records)
		return lfq_rec_ready_data(r, arm);
	if (lfq_type_committed(r->type))
		return arm ? lfq_mpsc_arm_data_wait(r, max, arm) :
			     lfq_mpsc_ready(r->commit, r->slot_count - 1,
					    lfq_load_relaxed(r->tail),
					    max);
	return arm ? lfq_spsc_arm_data_wait(r, arm) : lfq_spsc_readable(r);
}

/**
 * lfq_ready_space() - free slots (reserved MPSC slots are in use), arming
 * need_space first if @arm.
 * @r:		the ring.
 * @max:	an MPSC ring is counted up to @max only: of the slots its
 *		indices say are free, the leading ones a producer could
 *		reserve (lfq_mpsc_laps_done(): their previous lap is
 *		committed). With an honest consumer that is all of them;
 *		with one that forged its tail past a slot still being
 *		written, it is fewer, and the waiter sleeps instead of
 *		spinning between "free" here and "full" from the reserve.
 *		An SPSC count is exact.
 * @arm:	0, or announce a sleep first, for @arm free slots (as
 *		lfq_ready_data()).
 *
 * The lap check needs no wakeup of its own: an honest consumer releases
 * only slots whose commit is done, so its release that frees a slot
 * (and wakes the waiter) also makes that slot's lap done. On an MPMC
 * ring the release words are checked too: the consumers' releases are
 * what free slots there, and each wakes the waiter (lfq_mpmc_release()).
 *
 * Return: free slots, at most slot_count; for MPSC, reservable slots, at
 * most @max.
 */
static inline __u32 lfq_ready_space(const struct lfq_ring_loc *r, __u32 max,
				    __u32 arm)
{
	__u32 n = arm ? lfq_arm_space_wait(r, arm) : lfq_free_slots(r);
	__u64 head;

	/* A record queue: free bytes (a slot is a byte). */
	if (!lfq_type_committed(r->type) || r->records)
		return n;
	if (n > max)
		n = max;
	head = lfq_loc_index(r, lfq_load_relaxed(r->head));
	n = lfq_mpsc_laps_done(r->commit, r->slot_count - 1, r->segment,
			       r->base, head, n);
	/* An MPMC ring: and released (lfq_mpsc_lap_free()). */
	if (r->release)
		n = lfq_mpsc_laps_done(r->release, r->slot_count - 1,
				       r->segment, r->base, head, n);
	return n;
}

/*
 * The adaptive spin of a waiter before it arms its flag and sleeps
 * (liblfq's waits; the kernel's consumers). Sleeping is what costs: the
 * arming, on an asymmetric queue the heavy fence (membarrier(2), or the
 * module's IPIs to every CPU), the sleep and the peer's wakeup. A waiter
 * spins up to LFQ_WAIT_SPINS_DEFAULT readiness checks (or its setting),
 * and adapts below that.
 */
#define LFQ_WAIT_SPINS_DEFAULT	256
#define LFQ_WAIT_SPINS_FLOOR	16	/* the least it adapts to */
#define LFQ_WAIT_SPINS_KMAX	65536u	/* a kernel consumer's most */

/**
 * lfq_spin_next() - the spin of a waiter's next wait.
 * @now:	the spin this wait had.
 * @max:	the setting: the most it may have (0: never spin).
 * @slept:	the spin did not find the ring ready: the waiter slept.
 *
 * A wait its spin satisfied doubles the next one's, up to @max; one that
 * slept takes a quarter off it, down to the floor (@max if lower). Waits
 * keep spinning while about 3 in 10 or more succeed in the spin
 * (2^0.29 * 0.75^0.71 = 1); where the peer is idle, or cannot run while
 * the waiter spins (one CPU), a sleep costs a floor's worth of checks,
 * and the floor keeps probing for a peer that became busy again.
 *
 * Return: the next wait's spin, 0..@max.
 */
static inline __u32 lfq_spin_next(__u32 now, __u32 max, int slept)
{
	__u32 floor = max < LFQ_WAIT_SPINS_FLOOR ? max : LFQ_WAIT_SPINS_FLOOR;

	if (now > max)
		return max;
	if (slept)
		return now - now / 4 > floor ? now - now / 4 : floor;
	return now < max / 2 ? 2 * now : max;
}

#endif /* _LFQ_PROTO_READY_H */
