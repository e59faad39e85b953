// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_claims.c - MPSC crash safety. Every producer of an MPSC queue has a
 * claim record (struct lfq_mpsc_claim) holding the range it is reserving
 * or holds: processes register theirs in the producer page with
 * LFQ_IOC_CLAIM, kernel producers take one of the queue's kernel claims
 * for each reservation. When a file holding claims is released, or frees
 * one, the claims die, and the orphan scan discards every reserved slot
 * below the horizon (head at that moment) that is neither committed nor
 * covered by a live claim, so the consumer moves on; the slots are counted
 * in lfq_stats.orphaned. A slot covered by a live claim may still be a
 * dead producer's (a live producer claims a range before its CAS, and may
 * lose it to the one that died): the scan retries until no uncommitted
 * slot below the horizon is covered. Modelled in tests/model/claims.pml.
 *
 * The claims in the producer page are user-writable: a claim is only ever
 * compared with indices, and a forged one can only make the scan keep a
 * slot (the consumer waits) or give up a slot whose owner lied.
 */
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "lfq_claims.h"
#include "lfq_dev.h"
#include "lfq_mpsc.h"

/* Kernel claims per queue: kernel reservations in flight at once. */
#define LFQ_KCLAIMS		BITS_PER_LONG
/* Attempts at a free kernel claim before a kernel producer drops. */
#define LFQ_KCLAIM_TRIES	8
/* The scan's retry delay grows to this while covered slots remain. */
#define LFQ_ORPHAN_DELAY_MAX	(HZ / 8)

struct lfq_claim_range {
	u64 start;
	u64 end;
};

/**
 * struct lfq_claims - a queue's claim bookkeeping (MPSC queues only).
 * @lock:	guards @live, each file's claims, @horizon, @delay.
 * @live:	registered claims in the producer page.
 * @kbusy:	kernel claims in use; taken and freed locklessly.
 * @kclaims:	the kernel claims (kernel memory).
 * @horizon:	head when the last claim died: the scan looks below it.
 * @delay:	the scan's next retry delay, in jiffies.
 * @work:	the scan.
 * @kqueue:	the queue they belong to.
 * @snap:	the live ranges, copied by the scan (under @lock).
 */
struct lfq_claims {
	struct mutex lock;	/* see above */
	DECLARE_BITMAP(live, LFQ_MPSC_CLAIMS);
	unsigned long kbusy;
	struct lfq_mpsc_claim kclaims[LFQ_KCLAIMS];
	u64 horizon;
	unsigned long delay;
	struct delayed_work work;
	struct lfq_queue *kqueue;
	struct lfq_claim_range snap[LFQ_MPSC_CLAIMS + LFQ_KCLAIMS];
};

static void lfq_claim_read(struct lfq_claim_range *r,
			   const struct lfq_mpsc_claim *cl)
{
	/*
	 * Pairs with the release stores in lfq_mpsc_reserve(): a range that
	 * no longer covers a slot was written after that slot's commit.
	 */
	r->start = smp_load_acquire(&cl->start);
	/* Pairs with the same release stores (the end of the range). */
	r->end = smp_load_acquire(&cl->end);
}

/* Copy every live range; returns how many. */
static unsigned int lfq_claims_snapshot(struct lfq_queue *q)
{
	struct lfq_claims *c = q->claims;
	const struct lfq_mpsc_claim *cl;
	unsigned int i, n = 0;

	for_each_set_bit(i, c->live, LFQ_MPSC_CLAIMS) {
		cl = &q->prod->claims[i];
		lfq_claim_read(&c->snap[n++], cl);
	}
	/* Free kernel claims hold stale ranges: harmless (see lfq_ring.h). */
	for (i = 0; i < LFQ_KCLAIMS; i++)
		lfq_claim_read(&c->snap[n++], &c->kclaims[i]);
	return n;
}

static bool lfq_claims_cover(const struct lfq_claims *c, unsigned int n,
			     u64 i)
{
	while (n--)
		if (lfq_mpsc_claimed(c->snap[n].start, c->snap[n].end, i))
			return true;
	return false;
}

/*
 * Discard the orphans below the horizon. Returns true if an outstanding
 * slot was covered by a live claim, so the scan must look again.
 */
static bool lfq_orphans_scan(struct lfq_queue *q)
{
	struct lfq_claims *c = q->claims;
	u32 size = q->hdr.slot_count, mask = size - 1;
	u64 head, tail, end, s, v, found = 0;
	bool retry = false;
	unsigned int n;

	/*
	 * Pairs with the fully ordered CAS in lfq_mpsc_reserve(): the claim
	 * of every reservation below head is seen by the snapshot below.
	 */
	head = smp_load_acquire(&q->prod->head);
	n = lfq_claims_snapshot(q);
	/* head and tail are user-writable: at most one ring is scanned. */
	end = (s64)(c->horizon - head) > 0 ? head : c->horizon;
	tail = READ_ONCE(q->cons->tail);
	if ((s64)(end - tail) <= 0)
		return false;
	if (end - tail > size)
		tail = end - size;

	for (s = tail; s != end; s++) {
		u64 *w = &q->commit[s & mask];

		/* After the snapshot; pairs with lfq_mpsc_publish(). */
		v = smp_load_acquire(w);
		if (!lfq_mpsc_outstanding(v, s))
			continue;
		if (lfq_claims_cover(c, n, s)) {
			retry = true;
			continue;
		}
		/* Only if still outstanding: a later lap's word stays. */
		if (try_cmpxchg(w, &v, (s + 1) | LFQ_MPSC_DISCARDED))
			found++;
	}
	if (found) {
		atomic64_add(found, &q->orphaned);
		/*
		 * The cmpxchg()es are full barriers: pairs with the one in
		 * lfq_mpsc_arm_data_wait(); the irq_work checks need_data.
		 */
		irq_work_queue(&q->wake_work);
	}
	return retry;
}

static void lfq_orphans_work(struct work_struct *work)
{
	struct lfq_claims *c = container_of(to_delayed_work(work),
					    struct lfq_claims, work);
	struct lfq_queue *q = c->kqueue;

	mutex_lock(&c->lock);
	if (lfq_orphans_scan(q)) {
		c->delay = clamp(c->delay * 2, 1UL, LFQ_ORPHAN_DELAY_MAX);
		mod_delayed_work(system_wq, &c->work, c->delay);
	} else {
		c->delay = 0;
	}
	mutex_unlock(&c->lock);
}

/* Claims died: scan everything reserved until now. Lock held. */
static void lfq_orphans_kick(struct lfq_queue *q)
{
	struct lfq_claims *c = q->claims;
	u64 head = READ_ONCE(q->prod->head);

	lockdep_assert_held(&c->lock);
	if (!c->delay || (s64)(head - c->horizon) > 0)
		c->horizon = head;
	c->delay = 1;
	mod_delayed_work(system_wq, &c->work, 0);
}

/**
 * lfq_claims_init() - set up an MPSC queue's claims (none for SPSC).
 * @q:		the queue being created.
 *
 * Return: 0 or -ENOMEM.
 */
int lfq_claims_init(struct lfq_queue *q)
{
	struct lfq_claims *c;

	BUILD_BUG_ON(sizeof(struct lfq_prod_ctl) > PAGE_SIZE);
	if (q->hdr.type != LFQ_TYPE_MPSC)
		return 0;
	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return -ENOMEM;
	mutex_init(&c->lock);
	INIT_DELAYED_WORK(&c->work, lfq_orphans_work);
	c->kqueue = q;
	q->claims = c;
	return 0;
}

/**
 * lfq_claims_destroy() - stop the scan and free the claims.
 * @q:		the queue, no longer referenced.
 */
void lfq_claims_destroy(struct lfq_queue *q)
{
	struct lfq_claims *c = q->claims;

	if (!c)
		return;
	cancel_delayed_work_sync(&c->work);
	mutex_destroy(&c->lock);
	kfree(c);
}

/**
 * lfq_claims_ioctl() - LFQ_IOC_CLAIM: register or free a claim.
 * @a:		the file's attachment.
 * @uarg:	struct lfq_claim.
 *
 * Return: 0, or the errors listed at struct lfq_claim.
 */
long lfq_claims_ioctl(struct lfq_attach *a, void __user *uarg)
{
	struct lfq_queue *q = a->q;
	struct lfq_claims *c = q->claims;
	struct lfq_claim arg;
	unsigned int i;
	int err;

	err = lfq_copy_arg(&arg, sizeof(arg), LFQ_CLAIM_SIZE_VER0, uarg);
	if (err)
		return err;
	if (arg.__reserved || (arg.flags & ~LFQ_CLAIM_FLAGS_ALL) || !c)
		return -EINVAL;
	if (!(a->role & LFQ_ROLE_PRODUCER))
		return -EPERM;

	mutex_lock(&c->lock);
	if (arg.flags & LFQ_CLAIM_FREE) {
		i = arg.index;
		if (i >= LFQ_MPSC_CLAIMS || !test_bit(i, a->claims)) {
			err = -EINVAL;
		} else {
			__clear_bit(i, a->claims);
			__clear_bit(i, c->live);
			lfq_orphans_kick(q);
		}
		mutex_unlock(&c->lock);
		return err;
	}
	i = find_first_zero_bit(c->live, LFQ_MPSC_CLAIMS);
	if (i >= LFQ_MPSC_CLAIMS) {
		mutex_unlock(&c->lock);
		return -ENOSPC;
	}
	/* A dead claim's range must not keep the scan waiting. */
	WRITE_ONCE(q->prod->claims[i].start, 0);
	WRITE_ONCE(q->prod->claims[i].end, 0);
	__set_bit(i, c->live);
	__set_bit(i, a->claims);
	mutex_unlock(&c->lock);

	if (put_user(i, &((struct lfq_claim __user *)uarg)->index)) {
		mutex_lock(&c->lock);
		__clear_bit(i, a->claims);
		__clear_bit(i, c->live);
		mutex_unlock(&c->lock);
		return -EFAULT;
	}
	return 0;
}

/**
 * lfq_claims_release() - a file is released: its claims die.
 * @a:		the file's attachment.
 */
void lfq_claims_release(struct lfq_attach *a)
{
	struct lfq_claims *c = a->q->claims;

	if (!c || bitmap_empty(a->claims, LFQ_MPSC_CLAIMS))
		return;
	mutex_lock(&c->lock);
	bitmap_andnot(c->live, c->live, a->claims, LFQ_MPSC_CLAIMS);
	bitmap_zero(a->claims, LFQ_MPSC_CLAIMS);
	lfq_orphans_kick(a->q);
	mutex_unlock(&c->lock);
}

/**
 * lfq_kclaim_get() - give a kernel producer view a claim of its own.
 * @q:		an MPSC queue.
 * @p:		the view; its claim is set.
 * @r:		the reservation about to be made; records the claim.
 *
 * Context: any, NMI included; lock-free.
 * Return: false if every kernel claim is in use.
 */
bool lfq_kclaim_get(struct lfq_queue *q, struct lfq_mpsc_prod *p,
		    struct lfq_mpsc_resv *r)
{
	struct lfq_claims *c = q->claims;
	unsigned long busy;
	unsigned int i, tries;

	for (tries = 0; tries < LFQ_KCLAIM_TRIES; tries++) {
		busy = READ_ONCE(c->kbusy);
		if (busy == ~0UL)
			return false;
		i = ffz(busy);
		/* Acquire: pairs with clear_bit_unlock() in lfq_kclaim_put(). */
		if (!test_and_set_bit_lock(i, &c->kbusy)) {
			r->claim = i;
			p->claim = &c->kclaims[i];
			return true;
		}
	}
	return false;
}

/**
 * lfq_kclaim_put() - give back the claim of a published reservation.
 * @q:		the queue.
 * @r:		the reservation, committed or discarded.
 *
 * Context: any, NMI included.
 */
void lfq_kclaim_put(struct lfq_queue *q, const struct lfq_mpsc_resv *r)
{
	/*
	 * Release: our commit words come before the next holder's claim
	 * stores (pairs with the acquire in lfq_kclaim_get()).
	 */
	clear_bit_unlock(r->claim, &q->claims->kbusy);
}
