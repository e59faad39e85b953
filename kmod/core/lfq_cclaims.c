// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_cclaims.c - MPMC consumer crash safety. Every process consumer of an
 * MPMC queue registers a claim record in the consumer page (LFQ_IOC_CLAIM
 * with LFQ_CLAIM_CONSUMER; kmod/dev calls lfq_cclaim_register()) and
 * writes into it, before the compare-and-swap of each claim, the range it
 * is taking (proto/lfq_mpmc.h). When its file is released, or it frees
 * the claim, the claim dies: its range is copied into kernel memory (the
 * record is user-writable, and the index stays taken until recovery is
 * done), and the slots of that range that were claimed and not released
 * are released on its behalf once no live consumer's claim covers them
 * (lfq_mpmc_recover(), tests/model/mpmc_recover.pml). Their records are
 * lost, not redelivered, and counted in lfq_stats.lost; producers are
 * never wedged by a dead consumer. While a live claim covers a slot, the
 * recovery runs again later, with a growing delay.
 *
 * A record queue's claim names the one record its consumer is taking or
 * holds (proto/lfq_rec_mpmc.h): the recovery finishes that record's
 * release (zeroes it, marks it, carries tail on) if it was taken, is not
 * released and no live claim covers it (lfq_rec_mpmc_recover()); lost and
 * counted as for slots.
 *
 * In-kernel consumers (lfq_kconsumer.c) take claims by the same protocol,
 * with records in kernel memory (lfq_cclaim_kernel_get()). They never
 * die: they release what they hold before they give their record back.
 * But a dead process consumer's range can name slots a kernel consumer
 * holds (its record was written before a compare-and-swap that lost), so
 * the recovery counts their records among the live ones.
 *
 * The records in the consumer page are user-writable: they are only
 * compared with indices and the release words are only set by
 * compare-and-swap at masked indices (HOSTILE MEMORY H4, H5). A forged
 * record can keep a slot unreleased (producers wait, as they would for a
 * consumer that holds it), or have one released early (its records may
 * be overwritten under a consumer, which finds them torn: lfq_mpmc.h):
 * never a write outside the ring, never two producers in one slot (their
 * commit-word check).
 */
#include <kunit/visibility.h>
#include <linux/bitmap.h>
#include <linux/err.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "lfq_cclaims.h"
#include "lfq_queue.h"
#include "lfq_wait.h"
#include "proto/lfq_mpmc.h"
#include "proto/lfq_rec_mpmc.h"

/* The recovery's retry delay grows to this while covered slots remain. */
#define LFQ_RECOVER_DELAY_MAX	(HZ / 8)
/* Slots the recovery looks at between two chances to reschedule. */
#define LFQ_RECOVER_BATCH	1024

/**
 * struct lfq_cclaims - an MPMC queue's consumer claims.
 * @lock:	guards @live, @dead, @dead_range, @klive, @krec (their
 *		reuse), @delay and each file's set.
 * @live:	registered claims of live consumers.
 * @dead:	claims that died and still hold slots to recover; their
 *		indices are not registered again until then.
 * @dead_range:	the range each dead claim had when it died (kernel copy).
 * @klive:	kernel consumers' claim records in use.
 * @krec:	kernel consumers' claim records (lfq_cclaim_kernel_get()).
 * @snap:	the live claims, processes' and kernel consumers', copied by
 *		the recovery.
 * @pending:	the dead claims a run found covered (scratch).
 * @delay:	the recovery's next retry delay, in jiffies.
 * @work:	the recovery.
 * @kqueue:	the queue they belong to.
 */
struct lfq_cclaims {
	struct mutex lock;	/* see above */
	DECLARE_BITMAP(live, LFQ_MPMC_CLAIMS);
	DECLARE_BITMAP(dead, LFQ_MPMC_CLAIMS);
	struct lfq_mpsc_claim dead_range[LFQ_MPMC_CLAIMS];
	DECLARE_BITMAP(klive, LFQ_MPMC_KCLAIMS);
	struct lfq_mpsc_claim krec[LFQ_MPMC_KCLAIMS];
	struct lfq_mpsc_claim snap[LFQ_MPMC_CLAIMS + LFQ_MPMC_KCLAIMS];
	DECLARE_BITMAP(pending, LFQ_MPMC_CLAIMS);
	unsigned long delay;
	struct delayed_work work;
	struct lfq_queue *kqueue;
};

/*
 * Where the slots of the dead claims can be: [*@lo, @tail). A slot more
 * than a ring below the claim index was released (its next lap was
 * committed, and a producer reserves a slot only once its previous lap
 * is released), so one ring below @tail at most: HOSTILE MEMORY H5, the
 * dead ranges are copies of user-writable records. Returns false if
 * there is nothing to look at.
 */
static bool lfq_cclaims_span(struct lfq_queue *q, u64 tail, u64 *lo)
{
	struct lfq_cclaims *c = q->cclaims;
	u64 size = q->hdr.slot_count, start, end;
	unsigned int i;
	bool any = false;

	*lo = tail;
	for_each_set_bit(i, c->dead, LFQ_MPMC_CLAIMS) {
		start = c->dead_range[i].start;
		end = c->dead_range[i].end;
		if ((s64)(end - start) <= 0 || (s64)(tail - start) <= 0)
			continue;	/* empty, or nothing of it claimed */
		any = true;
		if ((s64)(*lo - start) > 0)
			*lo = start;
	}
	if ((s64)(tail - *lo) > (s64)size)
		*lo = tail - size;
	return any;
}

/*
 * Copy the live claims, processes' and kernel consumers', into c->snap.
 * Called after the claim index was read with acquire (see the callers).
 * Returns how many. Lock held.
 */
static u32 lfq_cclaims_snap(struct lfq_queue *q)
{
	struct lfq_cclaims *c = q->cclaims;
	struct lfq_mpsc_claim *rec = q->ring.cons->claims;
	u32 n = 0, i;

	for_each_set_bit(i, c->live, LFQ_MPMC_CLAIMS) {
		/* ORDERING claim: the consumer's release stores of its range. */
		c->snap[n].start = smp_load_acquire(&rec[i].start);
		/* ORDERING claim (the end of the range). */
		c->snap[n].end = smp_load_acquire(&rec[i].end);
		n++;
	}
	for_each_set_bit(i, c->klive, LFQ_MPMC_KCLAIMS) {
		/* ORDERING claim: as above, a kernel consumer's record. */
		c->snap[n].start = smp_load_acquire(&c->krec[i].start);
		/* ORDERING claim (the end of the range). */
		c->snap[n].end = smp_load_acquire(&c->krec[i].end);
		n++;
	}
	return n;
}

/*
 * A record queue's dead claims: each names one record (lfq_rec_mpmc.h).
 * Returns true if a live claim covered one, so the recovery must run
 * again. Lock held.
 */
static bool lfq_cclaims_recover_rec(struct lfq_queue *q)
{
	struct lfq_cclaims *c = q->cclaims;
	struct lfq_rec_mcons k;
	struct lfq_rec_ring rr;
	u32 n, i, covered;
	u64 claim, lost = 0;

	lfq_rec_ring_init(&rr, &q->ring);
	lfq_rec_mcons_init(&k, &rr, q->ring.claim);
	/*
	 * ORDERING claim: pairs with the consumers' compare-and-swap of
	 * claim; a live consumer's record of what it holds was written
	 * before it, so it is in the copy made next (lfq_rec_mpmc_recover()).
	 */
	claim = smp_load_acquire(q->ring.claim);
	n = lfq_cclaims_snap(q);
	bitmap_zero(c->pending, LFQ_MPMC_CLAIMS);
	for_each_set_bit(i, c->dead, LFQ_MPMC_CLAIMS) {
		lost += lfq_rec_mpmc_recover(&k, claim, &c->dead_range[i],
					     c->snap, n, &covered);
		if (covered)
			__set_bit(i, c->pending);
		cond_resched();		/* a record may be 64 MiB to zero */
	}
	/* A releaser that died between its mark and its advance. */
	lfq_rec_mpmc_advance(&k);
	bitmap_copy(c->dead, c->pending, LFQ_MPMC_CLAIMS);
	if (lost)
		atomic64_add(lost, &q->lost);
	/* ORDERING wake-space: the compare-and-swaps are full barriers. */
	if (k.wake)
		lfq_queue_wake_producers(q);
	return !bitmap_empty(c->dead, LFQ_MPMC_CLAIMS);
}

/*
 * Release what the dead claims hold. Returns true if a live claim covered
 * a slot, so the recovery must run again. Lock held.
 */
static bool lfq_cclaims_recover(struct lfq_queue *q)
{
	struct lfq_cclaims *c = q->cclaims;
	struct lfq_mpsc_claim one = {};
	u32 mask = q->hdr.slot_count - 1, covered, n, i;
	u64 tail, lo, s, lost = 0;
	bool dead;

	lockdep_assert_held(&c->lock);
	if (q->ring.records)
		return lfq_cclaims_recover_rec(q);
	/*
	 * ORDERING claim: pairs with the consumers' compare-and-swap of
	 * tail; every claim below it is visible in the records read next.
	 * The live records are copied after tail and before any release
	 * word is read: a live consumer's record covering a slot it holds
	 * was written before the compare-and-swap that took the slot, so
	 * before this tail; a record it wrote since follows its release of
	 * that slot, which the release word then shows.
	 */
	tail = smp_load_acquire(q->ring.tail);
	n = lfq_cclaims_snap(q);
	bitmap_zero(c->pending, LFQ_MPMC_CLAIMS);
	/* Each slot once, whatever the dead ranges overlap: one ring at most. */
	for (s = lfq_cclaims_span(q, tail, &lo) ? lo : tail; s != tail; s++) {
		dead = false;
		for_each_set_bit(i, c->dead, LFQ_MPMC_CLAIMS)
			dead |= lfq_mpsc_claimed(c->dead_range[i].start,
						 c->dead_range[i].end, s);
		if (dead) {
			one.start = s;
			one.end = s + 1;
			lost += lfq_mpmc_recover(q->ring.release, mask, tail,
						 &one, c->snap, n, &covered);
			/* Covered: every dead claim with this slot waits. */
			for_each_set_bit(i, c->dead, LFQ_MPMC_CLAIMS)
				if (covered &&
				    lfq_mpsc_claimed(c->dead_range[i].start,
						     c->dead_range[i].end, s))
					__set_bit(i, c->pending);
		}
		if (!((s - lo + 1) % LFQ_RECOVER_BATCH))
			cond_resched();
	}
	/* The others are done: their indices may be registered again. */
	bitmap_copy(c->dead, c->pending, LFQ_MPMC_CLAIMS);
	if (lost) {
		atomic64_add(lost, &q->lost);
		/* ORDERING wake-space: the compare-and-swaps are full barriers. */
		lfq_queue_wake_producers(q);
	}
	return !bitmap_empty(c->dead, LFQ_MPMC_CLAIMS);
}

static void lfq_cclaims_work(struct work_struct *work)
{
	struct lfq_cclaims *c = container_of(to_delayed_work(work),
					     struct lfq_cclaims, work);

	mutex_lock(&c->lock);
	if (lfq_cclaims_recover(c->kqueue)) {
		c->delay = clamp(c->delay * 2, 1UL, LFQ_RECOVER_DELAY_MAX);
		mod_delayed_work(system_wq, &c->work, c->delay);
	} else {
		c->delay = 0;
	}
	mutex_unlock(&c->lock);
}

/* Claim @i died: keep its range and recover it. Lock held. */
static void lfq_cclaim_die(struct lfq_queue *q, unsigned int i)
{
	struct lfq_cclaims *c = q->cclaims;
	struct lfq_mpsc_claim *rec = &q->ring.cons->claims[i];

	lockdep_assert_held(&c->lock);
	/* ORDERING claim: the consumer's last release stores of its range. */
	c->dead_range[i].start = smp_load_acquire(&rec->start);
	/* ORDERING claim (the end of the range). */
	c->dead_range[i].end = smp_load_acquire(&rec->end);
	__clear_bit(i, c->live);
	__set_bit(i, c->dead);
	c->delay = 1;
	mod_delayed_work(system_wq, &c->work, 0);
}

/**
 * lfq_cclaims_init() - set up an MPMC queue's consumer claims (none for
 * the other types).
 * @q:		the queue being created.
 *
 * Return: 0 or -ENOMEM.
 */
int lfq_cclaims_init(struct lfq_queue *q)
{
	struct lfq_cclaims *c;

	BUILD_BUG_ON(sizeof(struct lfq_cons_ctl) > PAGE_SIZE);
	if (q->hdr.type != LFQ_TYPE_MPMC)
		return 0;
	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return -ENOMEM;
	mutex_init(&c->lock);
	INIT_DELAYED_WORK(&c->work, lfq_cclaims_work);
	c->kqueue = q;
	q->cclaims = c;
	return 0;
}

/**
 * lfq_cclaims_destroy() - stop the recovery and free the claims.
 * @q:		the queue, no longer referenced.
 */
void lfq_cclaims_destroy(struct lfq_queue *q)
{
	struct lfq_cclaims *c = q->cclaims;

	if (!c)
		return;
	cancel_delayed_work_sync(&c->work);
	mutex_destroy(&c->lock);
	kfree(c);
}

/**
 * lfq_cclaim_register() - register a claim record for a consumer.
 * @q:		an MPMC queue.
 * @held:	the consumer's own set of claims (LFQ_MPMC_CLAIMS bits),
 *		guarded by the queue's consumer claims lock.
 *
 * The record, in the consumer page, is zeroed: an empty range covers
 * nothing.
 *
 * Return: the claim's index, -EINVAL for a queue that is not MPMC, or
 * -ENOSPC when every index is registered or still being recovered.
 */
int lfq_cclaim_register(struct lfq_queue *q, unsigned long *held)
{
	struct lfq_cclaims *c = q->cclaims;
	DECLARE_BITMAP(used, LFQ_MPMC_CLAIMS);
	unsigned int i;

	if (!c)
		return -EINVAL;
	mutex_lock(&c->lock);
	bitmap_or(used, c->live, c->dead, LFQ_MPMC_CLAIMS);
	i = find_first_zero_bit(used, LFQ_MPMC_CLAIMS);
	if (i >= LFQ_MPMC_CLAIMS) {
		mutex_unlock(&c->lock);
		return -ENOSPC;
	}
	WRITE_ONCE(q->ring.cons->claims[i].start, 0);
	WRITE_ONCE(q->ring.cons->claims[i].end, 0);
	__set_bit(i, c->live);
	__set_bit(i, held);
	mutex_unlock(&c->lock);
	return i;
}
EXPORT_SYMBOL_IF_KUNIT(lfq_cclaim_register);

/**
 * lfq_cclaim_unregister() - free one consumer claim: it dies, and what it
 * still held is recovered.
 * @q:		the queue.
 * @held:	the consumer's set of claims.
 * @index:	the claim.
 *
 * Return: 0, or -EINVAL if @held does not hold @index.
 */
int lfq_cclaim_unregister(struct lfq_queue *q, unsigned long *held,
			  u32 index)
{
	struct lfq_cclaims *c = q->cclaims;
	int err = 0;

	if (!c)
		return -EINVAL;
	mutex_lock(&c->lock);
	if (index >= LFQ_MPMC_CLAIMS || !test_bit(index, held)) {
		err = -EINVAL;
	} else {
		__clear_bit(index, held);
		lfq_cclaim_die(q, index);
	}
	mutex_unlock(&c->lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(lfq_cclaim_unregister);

/**
 * lfq_cclaims_drop() - a consumer is gone (its file released): its claims
 * die and what they held is recovered.
 * @q:		the queue.
 * @held:	the consumer's set of claims; emptied.
 */
void lfq_cclaims_drop(struct lfq_queue *q, unsigned long *held)
{
	struct lfq_cclaims *c = q->cclaims;
	unsigned int i;

	if (!c || bitmap_empty(held, LFQ_MPMC_CLAIMS))
		return;
	mutex_lock(&c->lock);
	for_each_set_bit(i, held, LFQ_MPMC_CLAIMS)
		lfq_cclaim_die(q, i);
	bitmap_zero(held, LFQ_MPMC_CLAIMS);
	mutex_unlock(&c->lock);
}
EXPORT_SYMBOL_IF_KUNIT(lfq_cclaims_drop);

/**
 * lfq_cclaim_kernel_get() - a claim record for an in-kernel consumer of an
 * MPMC queue.
 * @q:		the queue.
 *
 * The record is in kernel memory, empty, and counted among the live
 * claims by the recovery until lfq_cclaim_kernel_put().
 *
 * Context: process context; sleeps.
 * Return: the record, ERR_PTR(-EINVAL) for a queue that is not MPMC, or
 * ERR_PTR(-ENOSPC) when LFQ_MPMC_KCLAIMS kernel consumers have one.
 */
struct lfq_mpsc_claim *lfq_cclaim_kernel_get(struct lfq_queue *q)
{
	struct lfq_cclaims *c = q->cclaims;
	struct lfq_mpsc_claim *rec;
	unsigned int i;

	if (!c)
		return ERR_PTR(-EINVAL);
	mutex_lock(&c->lock);
	i = find_first_zero_bit(c->klive, LFQ_MPMC_KCLAIMS);
	if (i >= LFQ_MPMC_KCLAIMS) {
		mutex_unlock(&c->lock);
		return ERR_PTR(-ENOSPC);
	}
	rec = &c->krec[i];
	WRITE_ONCE(rec->start, 0);
	WRITE_ONCE(rec->end, 0);
	__set_bit(i, c->klive);
	mutex_unlock(&c->lock);
	return rec;
}
EXPORT_SYMBOL_IF_KUNIT(lfq_cclaim_kernel_get);

/**
 * lfq_cclaim_kernel_put() - give back a kernel consumer's claim record.
 * @q:		the queue.
 * @rec:	from lfq_cclaim_kernel_get(); its consumer released every
 *		slot it claimed.
 *
 * Context: process context; sleeps.
 */
void lfq_cclaim_kernel_put(struct lfq_queue *q, struct lfq_mpsc_claim *rec)
{
	struct lfq_cclaims *c = q->cclaims;

	mutex_lock(&c->lock);
	__clear_bit(rec - c->krec, c->klive);
	mutex_unlock(&c->lock);
}
EXPORT_SYMBOL_IF_KUNIT(lfq_cclaim_kernel_put);

/**
 * lfq_cclaims_flush() - run the recovery now, if any is pending, and wait
 * for it (KUnit: a run that has happened, not one that may have).
 * @q:		an MPMC queue.
 */
void lfq_cclaims_flush(struct lfq_queue *q)
{
	if (q->cclaims)
		flush_delayed_work(&q->cclaims->work);
}
EXPORT_SYMBOL_IF_KUNIT(lfq_cclaims_flush);
