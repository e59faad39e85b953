// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_claims.c - MPSC crash safety. Every producer of an MPSC queue has a
 * claim record (struct lfq_mpsc_claim) holding the range it is reserving
 * or holds: processes register theirs in the producer page (LFQ_IOC_CLAIM
 * in kmod/dev calls lfq_claim_register()), kernel producers take one of
 * the queue's kernel claims for each reservation. When a file holding claims is released, or frees
 * one, the claims die, and the orphan scan discards every reserved slot
 * below the horizon (head at that moment) that is neither committed nor
 * covered by a live claim, so the consumer moves on; the slots are counted
 * in lfq_stats.orphaned. A slot covered by a live claim may still be a
 * dead producer's (a live producer claims a range before its CAS, and may
 * lose it to the one that died): the scan retries until no uncommitted
 * slot below the horizon is covered. Modelled in tests/model/claims.pml;
 * ORDERING claim and kclaim in proto/lfq_rules.h.
 *
 * The claims in the producer page are user-writable: a claim is only ever
 * compared with indices (HOSTILE MEMORY H4), and a forged one can only
 * make the scan keep a slot (the consumer waits) or give up a slot whose
 * owner lied.
 *
 * Record queues (LFQ_CREATE_RECORDS) have no commit words: a record is
 * committed by its header (proto/lfq_rec.h), and only its first word is
 * one. Their scan walks the headers from the consumer's tail instead
 * (lfq_orphans_walk_rec()): a record not committed that a live claim
 * covers stops the walk until it is committed; one a dead claim starts at
 * is discarded with that claim's length (claims are copied into kernel
 * memory as they die: a record's end is known only from its claim).
 */
#include <kunit/visibility.h>
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "lfq_claims.h"
#include "lfq_queue.h"
#include "lfq_rec_ow.h"
#include "lfq_seg.h"
#include "proto/lfq_mpsc.h"
#include "proto/lfq_rec.h"

/* Kernel claims per queue: kernel reservations in flight at once. */
#define LFQ_KCLAIMS		BITS_PER_LONG
/* Attempts at a free kernel claim before a kernel producer drops. */
#define LFQ_KCLAIM_TRIES	8
/* The scan's retry delay grows to this while covered slots remain. */
#define LFQ_ORPHAN_DELAY_MAX	(HZ / 8)
/* Record queues: dead claims remembered (the oldest are forgotten). */
#define LFQ_DEAD_CLAIMS		(2 * LFQ_MPSC_CLAIMS)

struct lfq_claim_range {
	u64 start;
	u64 end;
};

/**
 * struct lfq_dead_claim - a record queue's claim as it died.
 * @start:	its range (its flags cleared)...
 * @end:	...; an empty range is a free entry.
 * @won:	its producer's compare-and-swap took the range: the record
 *		at @start is this producer's, and @end is its end.
 */
struct lfq_dead_claim {
	u64 start;
	u64 end;
	bool won;
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
 * @dead:	record queues: the claims that died holding a record the
 *		consumer has not passed (under @lock); entries it passed are
 *		freed as claims die, and when none is free the oldest goes.
 * @dead_next:	the entry to take when none is free.
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
	struct lfq_dead_claim dead[LFQ_DEAD_CLAIMS];
	unsigned int dead_next;
};

static void lfq_claim_read(struct lfq_claim_range *r,
			   const struct lfq_mpsc_claim *cl)
{
	/* ORDERING claim: a range that no longer covers a slot was written
	 * after that slot's commit.
	 */
	r->start = smp_load_acquire(&cl->start);
	/* ORDERING claim (the end of the range). */
	r->end = smp_load_acquire(&cl->end);
}

/* Copy every live range; returns how many. */
static unsigned int lfq_claims_snapshot(struct lfq_queue *q)
{
	struct lfq_claims *c = q->claims;
	const struct lfq_mpsc_claim *cl;
	unsigned int i, n = 0;

	for_each_set_bit(i, c->live, LFQ_MPSC_CLAIMS) {
		cl = &q->ring.prod->claims[i];
		lfq_claim_read(&c->snap[n++], cl);
	}
	/* Free kernel claims hold stale ranges: harmless (see lfq_ring.h). */
	for (i = 0; i < LFQ_KCLAIMS; i++)
		lfq_claim_read(&c->snap[n++], &c->kclaims[i]);
	/* A record queue's starts may carry LFQ_REC_CLAIM_FLAGS. */
	for (i = 0; q->ring.records && i < n; i++)
		c->snap[i].start &= ~LFQ_REC_CLAIM_FLAGS;
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
 * Discard the orphans of ring @r below @end: every outstanding slot from
 * the consumer's tail that no live claim covers. HOSTILE MEMORY H5: the
 * tail is user-writable, so at most one ring is scanned. Sets *@retry when
 * an outstanding slot was covered; returns the slots discarded.
 */
static u64 lfq_orphans_scan_ring(struct lfq_claims *c, unsigned int n,
				 const struct lfq_ring_loc *r, u64 end,
				 bool *retry)
{
	u32 size = r->slot_count, mask = size - 1;
	u64 tail = READ_ONCE(*r->tail), s, v, found = 0;

	if (r->segment && (s64)(tail - r->base) < 0)
		tail = r->base;
	if ((s64)(end - tail) <= 0)
		return 0;
	if (end - tail > size)
		tail = end - size;
	for (s = tail; s != end; s++) {
		u64 *w = &r->commit[s & mask];

		/* After the snapshot; ORDERING claim, mpsc-commit. */
		v = smp_load_acquire(w);
		if (!lfq_mpsc_outstanding(v, s))
			continue;
		if (lfq_claims_cover(c, n, s)) {
			*retry = true;
			continue;
		}
		/* Only if still outstanding: a later lap's word stays. */
		if (try_cmpxchg(w, &v, (s + 1) | LFQ_MPSC_DISCARDED))
			found++;
	}
	return found;
}

/**
 * struct lfq_orphans_walk - one scan of an elastic queue's segments.
 * @c:		the claims.
 * @n:		live ranges in the snapshot.
 * @end:	the scan's end: the horizon, or head if below it.
 * @retry:	a covered outstanding slot was seen.
 * @found:	slots discarded.
 */
struct lfq_orphans_walk {
	struct lfq_claims *c;
	unsigned int n;
	u64 end;
	bool retry;
	u64 found;
};

/* One live segment of an elastic queue: scan it up to its own head. */
static void lfq_orphans_scan_seg(const struct lfq_ring_loc *r, u64 head,
				 void *arg)
{
	struct lfq_orphans_walk *w = arg;
	u64 end = (s64)(w->end - head) > 0 ? head : w->end;

	w->found += lfq_orphans_scan_ring(w->c, w->n, r, end, &w->retry);
}

/*
 * Whether a record may end at @e: the next one is there (its header, or a
 * claim starting there), or the scan's end.
 */
static bool lfq_rec_end_plausible(const struct lfq_claims *c, unsigned int n,
				  const struct lfq_ring_loc *r, u64 e, u64 end)
{
	u64 size = r->slot_count, h;
	unsigned int i;

	if (e == end)
		return true;
	h = READ_ONCE(*lfq_rec_hdr_at(r, e));
	if (lfq_rec_hdr_state(h, e, lfq_rec_order(size),
			      lfq_rec_max_len(size)) > 0)
		return true;
	for (i = 0; i < n; i++)
		if (c->snap[i].start == e && c->snap[i].end != e)
			return true;
	for (i = 0; i < LFQ_DEAD_CLAIMS; i++)
		if (c->dead[i].start == e && c->dead[i].end != e)
			return true;
	return false;
}

/*
 * The one end the dead claims starting at @pos agree on, among those
 * marked @won (or, unmarked, whose end what follows confirms): 0 for no
 * candidate at all, 1 with *@e set, -1 if they disagree or none fits yet.
 * A candidate must end past the header, 8-aligned, within the scan's
 * @end, with no live claim starting inside it.
 */
static int lfq_claims_dead_pick(const struct lfq_claims *c, unsigned int n,
				const struct lfq_ring_loc *r, u64 pos,
				u64 end, bool won, u64 *e)
{
	u32 max = lfq_rec_max_len(r->slot_count);
	unsigned int i, k;
	int found = 0, seen = 0;

	for (i = 0; i < LFQ_DEAD_CLAIMS; i++) {
		const struct lfq_dead_claim *d = &c->dead[i];
		bool inside = false;

		if (d->start != pos || d->won != won)
			continue;
		seen = 1;
		/* HOSTILE MEMORY: the length is checked like a header's. */
		if (d->end - pos <= LFQ_REC_HDR_SIZE || (d->end & 7) ||
		    d->end - pos - LFQ_REC_HDR_SIZE > max ||
		    (s64)(end - d->end) < 0)
			continue;
		for (k = 0; k < n; k++)
			inside |= c->snap[k].start - pos - 1 <
				  d->end - pos - 1;
		if (inside || (found && d->end == *e) ||
		    (!won && !lfq_rec_end_plausible(c, n, r, d->end, end)))
			continue;
		if (found)
			return -1;
		*e = d->end;
		found = 1;
	}
	return found ? 1 : -seen;
}

/*
 * The end of the record at @pos a dead claim gives: 1 with *@rend set,
 * 0 if no dead claim starts there, -1 if it is not clear yet (retry). A
 * claim marked won (LFQ_REC_CLAIM_WON: its compare-and-swap took the
 * range) names its record. An unmarked one may be a producer's that died
 * between its claim and a compare-and-swap another won (with another
 * length), or the winner's, dead before it marked: an unmarked end is
 * taken only when it alone is confirmed by what follows it.
 */
static int lfq_claims_dead_end(const struct lfq_claims *c, unsigned int n,
			       const struct lfq_ring_loc *r, u64 pos, u64 end,
			       u64 *rend)
{
	int got = lfq_claims_dead_pick(c, n, r, pos, end, true, rend);

	return got ? got : lfq_claims_dead_pick(c, n, r, pos, end, false,
						rend);
}

/*
 * A record queue's orphans below @end: walk the headers from the
 * consumer's tail. A record not committed that a live claim covers is
 * (or may be) a live producer's: the walk stops there and retries later
 * (the consumer waits there anyway). One a dead claim starts at is
 * discarded, its header written with the dead claim's length (the
 * producer's reservation: the next record starts there). One that
 * nothing covers stops the walk for good (a producer without a claim:
 * nothing tells its length; the consumer stalls there, as it would).
 *
 * Why the walk can trust what it reads: the consumer keeps the headers
 * it consumed (proto/lfq_rec.h), so a header of this lap read at a
 * position the walk reached through headers is committed, consumed or
 * not; a header not of this lap is a record not yet committed. Each
 * header is re-checked against the tail read after it: once the consumer
 * is past it, later laps may write there, and the walk starts again from
 * the new tail. The discard is a compare-and-exchange from the word the
 * walk read: a commit in between wins.
 *
 * HOSTILE MEMORY H5: at most a ring's worth of bytes per walk, and a few
 * restarts. Lengths come from claims, which producers can forge: a forged
 * one can only garble this queue's records (the consumer checks every
 * header it reads), never move a kernel access outside the ring.
 */
static u64 lfq_orphans_walk_rec(struct lfq_claims *c, unsigned int n,
				const struct lfq_ring_loc *r, u64 end,
				bool *retry)
{
	u64 size = r->slot_count, pos, done, h, rend, tail, found = 0;
	u32 order = lfq_rec_order(size), len, steps = 0;
	int restarts = 0, st, got;

again:
	/* ORDERING rec-release: what the consumer released is passed. */
	pos = smp_load_acquire(r->tail) & ~7ull;
	/* HOSTILE MEMORY: a segment's records start at its base. */
	if (r->segment && (s64)(pos - r->base) < 0)
		pos = r->base;
	if ((s64)(end - pos) <= 0)
		return found;
	done = 0;
	while ((s64)(end - pos) > 0 && done < size) {
		/* ORDERING rec-commit: the header, then the tail below. */
		h = smp_load_acquire(lfq_rec_hdr_at(r, pos));
		/* ORDERING rec-release: pairs with the consumer's tail. */
		tail = smp_load_acquire(r->tail) & ~7ull;
		if ((s64)(tail - pos) > 0) {
			if (++restarts < 4)
				goto again;
			*retry = true;
			return found;
		}
		/* Up to a ring of headers, under the claims' mutex. */
		if (!(++steps & 1023))
			cond_resched();
		st = lfq_rec_hdr_state(h, pos, order, lfq_rec_max_len(size));
		if (st < 0)
			return found;	/* forged: the consumer stops there */
		if (st > 0) {
			len = (u32)(h & LFQ_REC_LEN_MASK);
			done += lfq_rec_size(len);
			pos += lfq_rec_size(len);
			continue;
		}
		/*
		 * A live claim covers it: its producer commits it, or dies
		 * and the scan comes back (the consumer waits there anyway).
		 */
		if (lfq_claims_cover(c, n, pos)) {
			*retry = true;
			return found;
		}
		got = lfq_claims_dead_end(c, n, r, pos, end, &rend);
		if (got <= 0) {
			*retry = *retry || got < 0;
			return found;
		}
		len = (u32)(rend - pos - LFQ_REC_HDR_SIZE);
		/* ORDERING wake-data: a full barrier, as the scan's. */
		if (!try_cmpxchg(lfq_rec_hdr_at(r, pos), &h,
				 len | LFQ_REC_DISCARD |
				 lfq_rec_lap(pos, order))) {
			*retry = true;
			return found;
		}
		found++;
		done += rend - pos;
		pos = rend;
	}
	return found;
}

/* One live segment of an elastic record queue: walk it to its own head. */
static void lfq_orphans_walk_seg(const struct lfq_ring_loc *r, u64 head,
				 void *arg)
{
	struct lfq_orphans_walk *w = arg;
	u64 end = (s64)(w->end - head) > 0 ? head : w->end;

	w->found += lfq_orphans_walk_rec(w->c, w->n, r, end, &w->retry);
}

/*
 * Whether a live claim names the overwrite of the record at @t exactly as
 * lfq_rec_reclaim() writes it: start t | LFQ_REC_CLAIM_RECLAIM, end t + 8
 * (a record claim covering @t, an idle producer's last one, says nothing
 * about who owns tail). Read unmasked, after the caller's fully ordered
 * mark of tail (ORDERING claim). Lock held.
 */
static bool lfq_claims_owner(struct lfq_queue *q, u64 t)
{
	struct lfq_claims *c = q->claims;
	struct lfq_claim_range r;
	unsigned int i;

	for_each_set_bit(i, c->live, LFQ_MPSC_CLAIMS) {
		lfq_claim_read(&r, &q->ring.prod->claims[i]);
		if (r.start == (t | LFQ_REC_CLAIM_RECLAIM) &&
		    r.end == t + LFQ_REC_HDR_SIZE)
			return true;
	}
	for (i = 0; i < LFQ_KCLAIMS; i++) {
		lfq_claim_read(&r, &c->kclaims[i]);
		if (r.start == (t | LFQ_REC_CLAIM_RECLAIM) &&
		    r.end == t + LFQ_REC_HDR_SIZE)
			return true;
	}
	return false;
}

/*
 * Overwrite mode: a producer owns tail (LFQ_REC_TAIL_RECLAIM): is it dead?
 * An owner names tail in its claim before its compare-and-swap takes
 * tail, and changes its claim only after its store gives tail up. The
 * scan first marks tail (LFQ_REC_TAIL_RECOVER, a compare-and-swap from
 * the owned value: producers and the consumer take tail only from a value
 * without owner bits, so no one takes it meanwhile, and no one else makes
 * the marked value), then reads the claims: a live owner's is there,
 * naming tail (it took tail before our mark), and the mark is taken off;
 * with none, and tail still as marked (an owner that gave it up and
 * changed its claim stored tail first), the owner is dead and its
 * overwrite is finished here. A live producer that lost the race for
 * tail still names it until its next reservation: the scan retries.
 * Lock held; returns true if the scan must look again.
 */
static bool lfq_orphans_reclaim(struct lfq_queue *q)
{
	const struct lfq_ring_loc *r = &q->ring;
	u64 raw, mark, found = 0;

	/* ORDERING rec-reclaim: pairs with the owner's compare-and-swap. */
	raw = smp_load_acquire(r->tail);
	if ((raw & LFQ_REC_TAIL_BITS) != LFQ_REC_TAIL_RECLAIM)
		return false;
	mark = raw | LFQ_REC_TAIL_RECOVER;
	/* ORDERING claim: fully ordered, before the claims' loads. */
	if (!try_cmpxchg(r->tail, &raw, mark))
		return false;
	if (lfq_claims_owner(q, raw & ~LFQ_REC_TAIL_BITS)) {
		/* Alive: unmarked (unless its store replaced the mark). */
		try_cmpxchg(r->tail, &mark, raw);
		return true;
	}
	/* ORDERING claim: pairs with an owner's tail before its claim. */
	if (smp_load_acquire(r->tail) != mark)
		return false;
	lfq_rec_ow_finish(r, mark, &found);
	atomic64_add(found, &q->overwritten);
	return false;
}

/*
 * Discard the orphans below the horizon. Returns true if an outstanding
 * slot was covered by a live claim, so the scan must look again.
 */
static bool lfq_orphans_scan(struct lfq_queue *q)
{
	struct lfq_orphans_walk w = { .c = q->claims };
	bool retry = q->ring.overwrite && lfq_orphans_reclaim(q);
	u64 head;

	/* ORDERING claim: every reservation below head is claimed in the
	 * snapshot below, or committed.
	 */
	head = lfq_queue_head(q, true);
	w.n = lfq_claims_snapshot(q);
	w.retry = retry;
	w.end = (s64)(w.c->horizon - head) > 0 ? head : w.c->horizon;
	if (q->el)
		lfq_seg_walk(q->el, q->ring.records ? lfq_orphans_walk_seg :
						      lfq_orphans_scan_seg,
			     &w);
	else if (q->ring.records)
		w.found = lfq_orphans_walk_rec(w.c, w.n, &q->ring, w.end,
					       &w.retry);
	else
		w.found = lfq_orphans_scan_ring(w.c, w.n, &q->ring, w.end,
						&w.retry);
	if (w.found) {
		atomic64_add(w.found, &q->orphaned);
		/*
		 * ORDERING wake-data: the cmpxchg()es are full barriers; the
		 * irq_work checks need_data.
		 */
		irq_work_queue(&q->wake_work);
	}
	return w.retry;
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

/*
 * Record queues: remember claim @i as it dies, if it may name a record
 * the consumer has not passed and nobody committed (the walk needs that
 * record's end). Entries the consumer has passed are freed first; with
 * none free, the oldest goes. Lock held.
 */
static void lfq_claims_bury_one(struct lfq_queue *q, unsigned int i)
{
	struct lfq_claims *c = q->claims;
	const struct lfq_ring_loc *r = &q->ring;
	u64 tail, size = r->slot_count;
	struct lfq_claim_range cl;
	struct lfq_dead_claim *d;
	unsigned int k, free = LFQ_DEAD_CLAIMS;
	bool won;

	lockdep_assert_held(&c->lock);
	if (!r->records)
		return;
	/* An elastic queue's consumer reads one of its segments. */
	tail = q->el ? lfq_seg_consumed(q->el) : READ_ONCE(*r->tail) & ~7ull;
	lfq_claim_read(&cl, &r->prod->claims[i]);
	won = cl.start & LFQ_REC_CLAIM_WON;
	cl.start &= ~(LFQ_REC_CLAIM_WON | LFQ_REC_CLAIM_HELD);
	/* Empty, passed, or committed: no record to recover there. */
	if ((s64)(cl.end - cl.start) <= 0 || (s64)(cl.end - tail) <= 0 ||
	    (cl.start & 7))
		return;
	/* An elastic queue's header is in the segment that holds it. */
	if (q->el ? lfq_seg_rec_committed(q->el, cl.start) :
		    lfq_rec_hdr_state(READ_ONCE(*lfq_rec_hdr_at(r, cl.start)),
				      cl.start, lfq_rec_order(size),
				      lfq_rec_max_len(size)) > 0)
		return;
	for (k = 0; k < LFQ_DEAD_CLAIMS; k++) {
		d = &c->dead[k];
		if (d->end != d->start && (s64)(d->end - tail) <= 0)
			d->start = d->end;	/* passed: free it */
		if (d->end == d->start && free == LFQ_DEAD_CLAIMS)
			free = k;
	}
	if (free == LFQ_DEAD_CLAIMS) {
		free = c->dead_next;
		c->dead_next = (c->dead_next + 1) % LFQ_DEAD_CLAIMS;
	}
	c->dead[free] = (struct lfq_dead_claim){ cl.start, cl.end, won };
}

/* The same for every claim in @held. */
static void lfq_claims_bury(struct lfq_queue *q, const unsigned long *held)
{
	unsigned int i;

	for_each_set_bit(i, held, LFQ_MPSC_CLAIMS)
		lfq_claims_bury_one(q, i);
}

/* Claims died: scan everything reserved until now. Lock held. */
static void lfq_orphans_kick(struct lfq_queue *q)
{
	struct lfq_claims *c = q->claims;
	u64 head = lfq_queue_head(q, false);

	lockdep_assert_held(&c->lock);
	if (!c->delay || (s64)(head - c->horizon) > 0)
		c->horizon = head;
	c->delay = 1;
	mod_delayed_work(system_wq, &c->work, 0);
}

/**
 * lfq_claims_init() - set up an MPSC or MPMC queue's producer claims (none
 * for SPSC).
 * @q:		the queue being created.
 *
 * Return: 0 or -ENOMEM.
 */
int lfq_claims_init(struct lfq_queue *q)
{
	struct lfq_claims *c;

	BUILD_BUG_ON(sizeof(struct lfq_prod_ctl) > PAGE_SIZE);
	if (!lfq_type_committed(q->hdr.type))
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
 * lfq_claim_register() - register a claim record for a producer.
 * @q:		an MPSC queue.
 * @held:	the producer's own set of claims (LFQ_MPSC_CLAIMS bits),
 *		guarded by the queue's claims lock.
 *
 * The record, in the producer page, is zeroed: a dead claim's range must
 * not keep the scan waiting.
 *
 * Return: the claim's index, -EINVAL for an SPSC queue, or -ENOSPC when
 * all LFQ_MPSC_CLAIMS are registered.
 */
int lfq_claim_register(struct lfq_queue *q, unsigned long *held)
{
	struct lfq_claims *c = q->claims;
	unsigned int i;

	if (!c)
		return -EINVAL;
	mutex_lock(&c->lock);
	i = find_first_zero_bit(c->live, LFQ_MPSC_CLAIMS);
	if (i >= LFQ_MPSC_CLAIMS) {
		mutex_unlock(&c->lock);
		return -ENOSPC;
	}
	WRITE_ONCE(q->ring.prod->claims[i].start, 0);
	WRITE_ONCE(q->ring.prod->claims[i].end, 0);
	/*
	 * Atomic: the lap guard reads @live without the lock. ORDERING
	 * claim: the emptied range before the bit (the guard's claim loads
	 * depend on the bit it read), not a dead owner's held mark.
	 */
	smp_mb__before_atomic();
	set_bit(i, c->live);
	__set_bit(i, held);
	mutex_unlock(&c->lock);
	return i;
}
EXPORT_SYMBOL_IF_KUNIT(lfq_claim_register);

/**
 * lfq_claim_unregister() - free one claim: it dies, and the slots it may
 * have left reserved are scanned for.
 * @q:		the queue.
 * @held:	the producer's set of claims.
 * @index:	the claim.
 *
 * Return: 0, or -EINVAL if @held does not hold @index.
 */
int lfq_claim_unregister(struct lfq_queue *q, unsigned long *held, u32 index)
{
	struct lfq_claims *c = q->claims;
	int err = 0;

	if (!c)
		return -EINVAL;
	mutex_lock(&c->lock);
	if (index >= LFQ_MPSC_CLAIMS || !test_bit(index, held)) {
		err = -EINVAL;
	} else {
		lfq_claims_bury_one(q, index);
		__clear_bit(index, held);
		clear_bit(index, c->live);
		lfq_orphans_kick(q);
	}
	mutex_unlock(&c->lock);
	return err;
}

/**
 * lfq_claims_drop() - a producer is gone (its file released): its claims
 * die and the scan discards what it left reserved.
 * @q:		the queue.
 * @held:	the producer's set of claims; emptied.
 */
void lfq_claims_drop(struct lfq_queue *q, unsigned long *held)
{
	struct lfq_claims *c = q->claims;
	unsigned int i;

	if (!c || bitmap_empty(held, LFQ_MPSC_CLAIMS))
		return;
	mutex_lock(&c->lock);
	lfq_claims_bury(q, held);
	for_each_set_bit(i, held, LFQ_MPSC_CLAIMS)
		clear_bit(i, c->live);	/* atomic, as in lfq_claim_register() */
	bitmap_zero(held, LFQ_MPSC_CLAIMS);
	lfq_orphans_kick(q);
	mutex_unlock(&c->lock);
}
EXPORT_SYMBOL_IF_KUNIT(lfq_claims_drop);

/**
 * lfq_claims_flush() - run the orphan scan now, if one is pending, and
 * wait for it (KUnit: a scan that has happened, not one that may have).
 * @q:		an MPSC or MPMC queue.
 */
void lfq_claims_flush(struct lfq_queue *q)
{
	if (q->claims)
		flush_delayed_work(&q->claims->work);
}
EXPORT_SYMBOL_IF_KUNIT(lfq_claims_flush);

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
	struct lfq_mpsc_claim *cl = lfq_kclaim_take(q, &r->claim);

	if (cl)
		lfq_mpsc_prod_set_claim(p, cl);
	return cl;
}

/**
 * lfq_kclaim_take() - take a free kernel claim.
 * @q:		an MPSC queue.
 * @index:	set to the claim's index, for lfq_kclaim_give().
 *
 * Context: any, NMI included; lock-free.
 * Return: the claim, or NULL if every kernel claim is in use.
 */
struct lfq_mpsc_claim *lfq_kclaim_take(struct lfq_queue *q, u32 *index)
{
	struct lfq_claims *c = q->claims;
	unsigned long busy;
	unsigned int i, tries;

	for (tries = 0; tries < LFQ_KCLAIM_TRIES; tries++) {
		busy = READ_ONCE(c->kbusy);
		if (busy == ~0UL)
			return NULL;
		i = ffz(busy);
		/* ORDERING kclaim. */
		if (!test_and_set_bit_lock(i, &c->kbusy)) {
			*index = i;
			return &c->kclaims[i];
		}
	}
	return NULL;
}

/**
 * lfq_kclaim_give() - give back a kernel claim of a record queue, its
 * range emptied: a free claim's stale range must not hold back the
 * recovery walk (it covers nothing once empty).
 * @q:		the queue.
 * @index:	from lfq_kclaim_take().
 *
 * Context: any, NMI included.
 */
void lfq_kclaim_give(struct lfq_queue *q, u32 index)
{
	struct lfq_mpsc_claim *cl = &q->claims->kclaims[index];

	/*
	 * ORDERING claim: after our header (the walk that reads the empty
	 * range with acquire sees the commit).
	 */
	smp_store_release(&cl->end,
			  READ_ONCE(cl->start) & ~LFQ_REC_CLAIM_FLAGS);
	/* ORDERING kclaim: the range before the claim is free again. */
	clear_bit_unlock(index, &q->claims->kbusy);
}

/**
 * lfq_kclaim_unmark() - a kernel record is about to be published: it is
 * not held any more (lfq_kclaims_lap_guard()).
 * @q:		the queue.
 * @index:	the record's kernel claim, from lfq_kclaim_take().
 *
 * The range stays (the recovery walk leaves the record alone until the
 * claim is given back after the commit); only LFQ_REC_CLAIM_HELD goes.
 * A plain read-modify-write: the guard's compare-and-swap touches only a
 * pending word, and this one is promoted (LFQ_REC_CLAIM_WON).
 *
 * Context: any, NMI included.
 */
void lfq_kclaim_unmark(struct lfq_queue *q, u32 index)
{
	struct lfq_mpsc_claim *cl = &q->claims->kclaims[index];

	/*
	 * ORDERING rec-lap-guard: before the header's release store that
	 * publishes the record, so a producer whose tail shows the record
	 * passed finds the mark gone.
	 */
	WRITE_ONCE(cl->start, READ_ONCE(cl->start) & ~LFQ_REC_CLAIM_HELD);
}

/* How often the guard reads a claim its producer keeps changing. */
#define LFQ_GUARD_TRIES	4

/*
 * Whether claim @cl holds a record that starts in this ring's life (at or
 * after @base) below @floor: a lap behind the end of the range asked
 * about. Held is LFQ_REC_CLAIM_HELD with LFQ_REC_CLAIM_WON (promoted
 * after its compare-and-swap, until right before its header is
 * published). Pending, LFQ_REC_CLAIM_HELD alone (stored before the CAS),
 * that far behind is a CAS that cannot win honestly (its producer held
 * up while the ring went round), or one a forged tail let win: its mark
 * is dropped, by a compare-and-swap that races the producer's promotion
 * (lfq_rec_claim_promote()): whichever is first decides, and a producer
 * that loses writes nothing. HOSTILE MEMORY H4: a process's claim is
 * read and compared, and its start only ever loses the mark; a forged
 * one can only refuse (drops in its own queue).
 */
static bool lfq_claim_held(struct lfq_mpsc_claim *cl, u64 base, u64 floor)
{
	unsigned int tries;
	u64 e, s, raw;

	for (tries = 0; tries < LFQ_GUARD_TRIES; tries++) {
		/*
		 * ORDERING claim: the end, then the start stored before it.
		 * A claim whose CAS came before our head is read with its
		 * own end or a later one (a range it tries next).
		 */
		e = smp_load_acquire(&cl->end);
		raw = READ_ONCE(cl->start);
		if (!(raw & LFQ_REC_CLAIM_HELD))
			return false;
		s = raw & ~LFQ_REC_CLAIM_FLAGS;
		/*
		 * An older segment's record (another segment's bytes), an
		 * empty range, or one not a lap behind: nothing to guard.
		 */
		if ((s64)(s - base) < 0 || (s64)(e - s) <= 0 ||
		    (s64)(floor - s) <= 0)
			return false;
		if (raw & LFQ_REC_CLAIM_WON)
			return true;
		/*
		 * Pending a lap behind: drop the mark. Relaxed: the two
		 * compare-and-swaps on this word order themselves; a failed
		 * one means the producer moved on (promoted, or a new
		 * range): read it again.
		 */
		if (try_cmpxchg_relaxed(&cl->start, &raw,
					raw & ~LFQ_REC_CLAIM_HELD))
			return false;
	}
	return true;
}

/**
 * lfq_kclaims_lap_guard() - may a kernel producer take [@start, @end) of a
 * record queue? Not if another producer (a kernel one, or a process with
 * a registered claim) still holds a record that starts more than a ring's
 * size before @end: a lap on, the range would reach its bytes. Only a
 * forged tail lets a reservation get that far ahead (an honest one ends
 * at most the ring's size past the oldest record still held), so nothing
 * honest is refused. A held record is a claim marked LFQ_REC_CLAIM_HELD:
 * stored with the range before the compare-and-swap that tries it
 * (pending), promoted once that took it (lfq_rec_claim_promote()), taken
 * off right before the header is published (lfq_rec_publish() for a
 * process's claim, lfq_kclaim_unmark() for a kernel one; an older liblfq
 * never sets it, and its records are not protected). A pending claim a
 * lap behind loses its mark instead of refusing (lfq_claim_held(), a
 * compare-and-swap on the claim: the guard writes other producers'
 * claims): its producer then either fails its CAS or writes nothing. A
 * claim without the mark is a published record's (or one whose payload
 * is written and whose header is about to be), an emptied one, a
 * pending one whose mark was dropped, or an overwrite's
 * (LFQ_REC_CLAIM_RECLAIM: a committed record at tail). A claim its
 * producer keeps rewriting under the guard is refused after
 * LFQ_GUARD_TRIES reads.
 * HOSTILE MEMORY H6 for records: the lap guard of struct lfq_rec_prod.
 * Refusals are counted in the queue's lap_refused.
 * @ctx:	a struct lfq_kguard.
 * @start:	the range's first byte index.
 * @end:	one past its last.
 *
 * On an elastic queue the ring is the producer's segment: records held in
 * older segments (below its base) are in other memory, and never refuse.
 *
 * Kernel claims live in kernel memory: the ranges are exact. A process's
 * claims are in the producer page, written by the process: an honest one
 * (liblfq) marks and unmarks them as the kernel does, so its records in
 * flight are protected too; a lying one can only make kernel producers
 * refuse (drops in its own queue), and one that registers no claim gets
 * no protection.
 *
 * Context: any, NMI included; lock-free; at most LFQ_KCLAIMS and
 * LFQ_MPSC_CLAIMS claims, each read LFQ_GUARD_TRIES times at most.
 * Return: 1 if the range may be taken, 0 if not (the reservation fails
 * and counts a drop).
 */
int lfq_kclaims_lap_guard(void *ctx, u64 start, u64 end)
{
	const struct lfq_kguard *g = ctx;
	struct lfq_claims *c = g->q->claims;
	u64 floor = end - g->q->ring.slot_count;
	unsigned long busy, live[BITS_TO_LONGS(LFQ_MPSC_CLAIMS)];
	unsigned int i;

	/*
	 * ORDERING rec-lap-guard: after the head @start came from (a load
	 * or a failed compare-and-swap); pairs with the claim stores and
	 * the bit another producer took before its fully ordered
	 * compare-and-swap moved head to where we read it.
	 */
	smp_rmb();
	busy = READ_ONCE(c->kbusy);
	for_each_set_bit(i, &busy, LFQ_KCLAIMS)
		if (i != g->self &&
		    lfq_claim_held(&c->kclaims[i], g->base, floor))
			goto refuse;
	/* Process producers' claims: set under the lock, read without it. */
	for (i = 0; i < ARRAY_SIZE(live); i++)
		live[i] = READ_ONCE(c->live[i]);
	for_each_set_bit(i, live, LFQ_MPSC_CLAIMS)
		if (lfq_claim_held(&g->q->ring.prod->claims[i], g->base,
				   floor))
			goto refuse;
	return 1;
refuse:
	atomic64_inc(&g->q->lap_refused);
	return 0;
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
	/* ORDERING kclaim: our commit words come first. */
	clear_bit_unlock(r->claim, &q->claims->kbusy);
}
