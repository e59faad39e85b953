// SPDX-License-Identifier: MIT
/*
 * lfq_elastic_ops.c - liblfq's fast path for elastic queues (kernel or
 * in-process): the SPSC or MPSC protocol on the current segment, and the
 * segment protocol of kmod/proto/lfq_segment.h where a segment ends. A
 * producer that finds its segment full seals it and goes on in the next
 * one, which the backend links (LFQ_IOC_GROW for /dev/lfq, the pool for
 * in-process queues); in-process, only when a segment can be had (else
 * the full segment stays a ring meanwhile). A consumer that drains a
 * sealed segment to its end follows the link. Within a segment nothing
 * differs from a fixed queue: no system call, lock or allocation.
 *
 * In-process queues reclaim segments with liburcu: a producer is in a
 * read-side section from its reservation to its commit (ORDERING
 * seg-grace), so the segment it writes is not reused under it.
 */
#include <errno.h>

#include "lfq_handle.h"
#include "lfq_ready.h"

/* Attempts at moving to a next segment before a reservation gives up. */
#define LFQ_ELASTIC_TRIES	8

/* Where the segment in @frame has its words (its base from the table). */
static void lfq_elastic_loc(struct lfq *q, uint32_t frame,
			    struct lfq_ring_loc *r)
{
	/* ORDERING seg-link: the base was set before the link was seen. */
	lfq_seg_loc_init(r, q->map, &q->hdr, &q->layout, frame,
			 lfq_load_relaxed(&q->meta[frame].base));
	/* Light where the handle's ring is (the sleepers' fence reaches us). */
	r->light = q->ring.light;
}

/* The newest segment, as the producers' hint says. */
static uint32_t lfq_elastic_hint(struct lfq *q)
{
	/* ORDERING seg-link: swung after the link is published. */
	uint32_t f = lfq_load_acquire(&q->segtab->pseg);

	return f < q->hdr.seg_max ? f : 0;	/* HOSTILE MEMORY H3 */
}

/*
 * Is the producer's segment gone from under it? Retired (not live), or
 * retired and reopened since (live, but another life: another base). A
 * producer that stayed away while its frame went round would otherwise
 * keep the old life's base, and its lap check would find every slot of
 * the new life's first lap outstanding: each reservation would fail,
 * neither sealed nor full, until other producers had gone a whole lap
 * there.
 */
static int lfq_elastic_prod_lost(struct lfq *q)
{
	const struct lfq_seg_meta *m = &q->meta[q->pframe];

	/*
	 * Hints only (the table's words are stored relaxed by the opener
	 * and published by the link's release, ORDERING seg-link): a stale
	 * read costs one failed reservation (the head word, whose indices
	 * only grow from life to life, refuses it), and the next one looks
	 * again.
	 */
	return lfq_load_acquire(&m->state) != LFQ_SEG_LIVE ||
	       lfq_load_relaxed(&m->base) != q->ploc.base;
}

/* The producer goes on in the segment in @frame. */
static void lfq_elastic_prod_move(struct lfq *q, uint32_t frame)
{
	struct lfq_mpsc_claim *claim;
	struct lfq_rec_ring rr;

	q->pframe = frame;
	q->psealed = 0;
	lfq_elastic_loc(q, frame, &q->ploc);
	if (q->ring.records) {
		claim = q->prod.rec.view.claim;
		lfq_rec_ring_init(&rr, &q->ploc);
		lfq_rec_prod_init(&q->prod.rec.view, &rr,
				  q->hdr.type == LFQ_TYPE_MPSC);
		q->prod.rec.view.claim = claim;
		return;
	}
	if (q->hdr.type == LFQ_TYPE_SPSC) {
		lfq_spsc_prod_init(&q->prod.spsc, &q->ploc);
		return;
	}
	claim = q->prod.mpsc.view.claim;
	lfq_mpsc_prod_init(&q->prod.mpsc.view, &q->ploc);
	lfq_mpsc_prod_set_claim(&q->prod.mpsc.view, claim);
}

/*
 * The consumer goes on in the segment in @frame: it names it in its
 * control page first, so that the kernel keeps it (ORDERING seg-cons: the
 * release orders every access to the segment it leaves before it).
 */
static void lfq_elastic_cons_move(struct lfq *q, uint32_t frame)
{
	struct lfq_rec_ring rr;

	lfq_store_release(&q->ring.cons->seg, frame);
	q->cframe = frame;
	lfq_elastic_loc(q, frame, &q->cloc);
	if (q->ring.records) {
		lfq_rec_ring_init(&rr, &q->cloc);
		lfq_rec_cons_rebind(&q->cons.rec, &rr);
	} else if (q->hdr.type == LFQ_TYPE_SPSC)
		lfq_spsc_cons_init(&q->cons.spsc, &q->cloc);
	else
		lfq_mpsc_cons_init(&q->cons.mpsc, &q->cloc);
}

/*
 * Where a consumer (re)starts: the segment its control page names, which
 * the kernel keeps for it (ORDERING seg-cons), else the oldest live one.
 */
static uint32_t lfq_elastic_cons_start(struct lfq *q)
{
	/*
	 * ORDERING seg-cons: pairs with the release in lfq_elastic_cons_move()
	 * of the handle that named it; the state's acquire, with seg-link's
	 * release (a LIVE frame's ring and base are set up).
	 */
	uint32_t f = lfq_load_acquire(&q->ring.cons->seg);

	/* HOSTILE MEMORY H3: a frame number is checked before use. */
	if (f >= q->hdr.seg_max ||
	    lfq_load_acquire(&q->meta[f].state) != LFQ_SEG_LIVE)
		f = lfq_load_acquire(&q->segtab->cseg) % q->hdr.seg_max;
	return f;
}

/*
 * Has the consumer's segment been retired under it? Only if another
 * handle of the same consumer named a later one in the control page: the
 * frame is no longer live, or holds a later life (another base).
 */
static int lfq_elastic_cons_lost(struct lfq *q)
{
	const struct lfq_seg_meta *m = &q->meta[q->cframe];

	/*
	 * ORDERING seg-link: a LIVE state read with acquire comes with its
	 * life's base. A stale read only defers the move to the next empty
	 * peek; nothing is read from the segment on its strength.
	 */
	return lfq_load_acquire(&m->state) != LFQ_SEG_LIVE ||
	       lfq_load_relaxed(&m->base) != q->cloc.base;
}

static void lfq_elastic_lock(struct lfq *q)
{
	if (q->backend->read_lock && !q->plocked) {
		q->backend->read_lock();
		q->plocked = 1;
	}
}

/**
 * lfq_elastic_unlock() - end the producer's read-side section, if open:
 * its reservation is published (ORDERING seg-grace).
 * @q:		the handle.
 */
void lfq_elastic_unlock(struct lfq *q)
{
	if (q->plocked) {
		q->plocked = 0;
		q->backend->read_unlock();
	}
}

/*
 * Whether the segment at @r, its head word @v, is full for a reservation
 * of @need (slots: no slot free; records: no room for a record of @need
 * bytes, lfq_rec_size()): what makes a producer seal it.
 */
static int lfq_elastic_full(const struct lfq *q, const struct lfq_ring_loc *r,
			    uint64_t v, uint64_t need)
{
	return q->ring.records ? lfq_rec_seg_full(r, v, need) :
				 lfq_seg_full(r, v);
}

/*
 * The producer's segment refused a reservation of @want slots (a record
 * queue: a record of @want bytes): seal it if it is full (has no room for
 * the record) and move to the next one. Returns 0 to try again, -EAGAIN
 * when the queue is full: it cannot grow (seg_max, the user's byte limit,
 * or no memory for a segment; each clears as the consumer drains), or
 * another errno. A backend that can tell (backend->may_grow) has a full
 * segment sealed only when a segment can be had: sealed while every
 * frame is live or waiting for its grace period, it would refuse the room
 * its consumer frees until a frame came back (with both CPUs spinning,
 * liburcu's call_rcu thread waits for the scheduler); unsealed, it is a
 * ring meanwhile.
 */
static int lfq_elastic_prod_next(struct lfq *q, uint32_t want)
{
	uint64_t v = lfq_load_acquire(q->ploc.head);
	int next, full;

	full = lfq_elastic_full(q, &q->ploc, v,
				q->ring.records ? lfq_rec_size(want) : want);
	/* Contended, or held by the lap guard: not a reason to grow. */
	if (!lfq_seg_sealed(v) && !full)
		return -EAGAIN;
	/* Full with no segment to be had yet: a ring meanwhile. */
	if (!lfq_seg_sealed(v) && q->backend->may_grow &&
	    !q->backend->may_grow(q))
		return -EAGAIN;
	if (!lfq_seg_seal(&q->ploc, v))
		return 0;
	/*
	 * Sealed: no reservation may follow in it, though the consumer may
	 * free slots there (SPSC reserves on its private head, so it must
	 * remember; MPSC's CAS sees the seal).
	 */
	q->psealed = 1;
	next = lfq_seg_next(&q->meta[q->pframe], q->hdr.seg_max);
	if (next < 0)
		next = q->backend->grow(q, q->pframe);
	if (next < 0)
		return next == -ENOSPC || next == -EDQUOT || next == -ENOMEM ?
		       -EAGAIN : next;
	lfq_elastic_prod_move(q, (uint32_t)next);
	return 0;
}

static void *lfq_elastic_try_reserve(struct lfq *q, uint32_t want,
				     uint32_t *got)
{
	void *span;

	if (q->ring.records) {
		span = lfq_rec_reserve(&q->prod.rec.view, want,
				       &q->prod.rec.resv);
		*got = span ? want : 0;
		return span;
	}
	if (q->hdr.type == LFQ_TYPE_SPSC)
		return lfq_spsc_reserve(&q->prod.spsc, want, got);
	span = lfq_mpsc_reserve(&q->prod.mpsc.view, want, &q->prod.mpsc.resv);
	*got = q->prod.mpsc.resv.count;
	return span;
}

/**
 * lfq_elastic_reserve() - reserve @want slots (a record queue: a record of
 * @want bytes) in the producer's segment, or, while it is full, in the
 * next one; on success the producer stays in its read-side section until
 * the commit or discard (lfq_elastic_unlock()).
 * @q:		the handle.
 * @want:	slots, or the record's payload bytes (1..limit).
 * @span:	set to the first slot or the payload, or NULL.
 *
 * Return: slots (bytes) reserved, or -EAGAIN (full: the queue cannot
 * grow now, or contended) or another negative errno.
 */
int lfq_elastic_reserve(struct lfq *q, uint32_t want, void **span)
{
	uint32_t got = 0;
	int tries, err = -EAGAIN;

	lfq_elastic_lock(q);
	/*
	 * Our segment, from an earlier section, may have been retired since
	 * (and reopened): start again from the newest, which is reachable
	 * (ORDERING seg-grace; only a segment seen LIVE in this section is
	 * grown).
	 */
	if (lfq_unlikely(lfq_elastic_prod_lost(q)))
		lfq_elastic_prod_move(q, lfq_elastic_hint(q));
	for (tries = 0; tries < LFQ_ELASTIC_TRIES; tries++) {
		*span = lfq_unlikely(q->psealed) ? NULL :
			lfq_elastic_try_reserve(q, want, &got);
		if (lfq_likely(got))
			return (int)got;
		err = lfq_elastic_prod_next(q, want);
		if (err)
			break;
	}
	lfq_elastic_unlock(q);
	*span = NULL;
	return err ? err : -EAGAIN;
}

static int lfq_elastic_op_discard(struct lfq *q);

static int lfq_elastic_op_reserve(struct lfq *q, uint32_t want, void **span)
{
	int got;

	/* An unfinished MPSC reservation would wedge the consumer. */
	if (q->hdr.type == LFQ_TYPE_MPSC && q->prod.mpsc.resv.count)
		lfq_elastic_op_discard(q);
	got = lfq_elastic_reserve(q, want, span);
	if (lfq_unlikely(got < 0))
		__atomic_fetch_add(&q->ring.prod->full_events, 1,
				   __ATOMIC_RELAXED);
	return got;
}

static int lfq_elastic_op_commit(struct lfq *q, uint32_t n)
{
	int wake;

	if (q->hdr.type == LFQ_TYPE_SPSC)
		wake = lfq_spsc_commit_check(&q->prod.spsc, n);
	else
		wake = lfq_mpsc_commit_n(q, n);
	lfq_elastic_unlock(q);
	if (lfq_unlikely(wake) && q->wakeups)
		q->backend->wake(q, LFQ_WAKE_CONSUMER);
	return 0;
}

static int lfq_elastic_op_discard(struct lfq *q)
{
	int wake = 0;

	if (q->hdr.type == LFQ_TYPE_SPSC)
		q->prod.spsc.reserved = 0;
	else if (q->prod.mpsc.resv.count)
		wake = lfq_mpsc_commit_n(q, 0);
	lfq_elastic_unlock(q);
	if (wake && q->wakeups)
		q->backend->wake(q, LFQ_WAKE_CONSUMER);
	return 0;
}

/* The consumer's private index in its segment. */
static uint64_t lfq_elastic_tail(const struct lfq *q)
{
	if (q->ring.records)
		return q->cons.rec.tail;
	return q->hdr.type == LFQ_TYPE_SPSC ? q->cons.spsc.tail :
					      q->cons.mpsc.tail;
}

/**
 * lfq_elastic_cons_next() - the consumer found nothing in its segment: go
 * on where another handle of the same consumer went, if that one retired
 * our segment (ORDERING seg-cons; once per call, *@lost), or in the next
 * segment once ours is drained to its seal (and retire ours).
 * @q:		the handle.
 * @lost:	0 before the first call of a peek.
 *
 * Return: 1 if the consumer moved (look again), 0 if not.
 */
int lfq_elastic_cons_next(struct lfq *q, int *lost)
{
	uint32_t old;
	int next;

	if (lfq_unlikely(!*lost && lfq_elastic_cons_lost(q))) {
		*lost = 1;
		lfq_elastic_cons_move(q, lfq_elastic_cons_start(q));
		return 1;
	}
	/* Empty: a segment drained to its seal gives way. */
	if (!lfq_seg_drained(&q->cloc, lfq_elastic_tail(q)))
		return 0;
	next = lfq_seg_next(&q->meta[q->cframe], q->hdr.seg_max);
	if (next < 0)
		return 0;
	old = q->cframe;
	lfq_elastic_cons_move(q, (uint32_t)next);
	if (q->backend->retire)
		q->backend->retire(q, old);
	return 1;
}

static int lfq_elastic_op_peek(struct lfq *q, uint32_t want,
			       const void **span)
{
	uint32_t got;
	int wake = 0, lost = 0;

	for (;;) {
		if (q->hdr.type == LFQ_TYPE_SPSC)
			*span = lfq_spsc_peek(&q->cons.spsc, want, &got);
		else
			*span = lfq_mpsc_peek_check(&q->cons.mpsc, want, &got,
						    &wake);
		if (lfq_unlikely(wake) && q->wakeups)
			q->backend->wake(q, LFQ_WAKE_PRODUCER);
		if (lfq_likely(got))
			return (int)got;
		if (!lfq_elastic_cons_next(q, &lost))
			break;
	}
	lfq_count_empty(q);
	return -EAGAIN;
}

static int lfq_elastic_op_release(struct lfq *q, uint32_t n)
{
	int sleeper;

	if (q->hdr.type == LFQ_TYPE_SPSC)
		sleeper = lfq_spsc_release_check(&q->cons.spsc, n);
	else
		sleeper = lfq_mpsc_release(&q->cons.mpsc, n);
	if (lfq_unlikely(sleeper) && q->wakeups)
		q->backend->wake(q, LFQ_WAKE_PRODUCER);
	return 0;
}

const struct lfq_prod_ops lfq_elastic_prod_ops = {
	.reserve	= lfq_elastic_op_reserve,
	.commit		= lfq_elastic_op_commit,
	.discard	= lfq_elastic_op_discard,
};

const struct lfq_cons_ops lfq_elastic_cons_ops = {
	.peek		= lfq_elastic_op_peek,
	.release	= lfq_elastic_op_release,
};

/**
 * lfq_elastic_bind() - point a mapped elastic handle at its segments: the
 * producer side at the newest segment, the consumer side at the oldest
 * live one, and choose the elastic operations for each side its role
 * allows.
 * @q:		the handle; q->map, q->hdr and q->layout are set.
 */
void lfq_elastic_bind(struct lfq *q)
{
	uint32_t pseg, cseg;

	q->segtab = (struct lfq_segtab *)(q->map + q->layout.segtab_offset);
	q->meta = (struct lfq_seg_meta *)(q->segtab + 1);
	/* ORDERING seg-link: the kernel publishes these after the link. */
	pseg = lfq_load_acquire(&q->segtab->pseg);
	/*
	 * The consumer starts where its control page says: the kernel named
	 * the oldest live segment there when it admitted the file, and keeps
	 * it (ORDERING seg-cons); another handle of the same consumer left
	 * its segment there (lfq_elastic_cons_start()).
	 */
	if (pseg >= q->hdr.seg_max)	/* HOSTILE MEMORY H3 */
		pseg = 0;
	cseg = lfq_elastic_cons_start(q);
	/* A record queue's sides: lfq_rec_ops.c (the slot calls refused). */
	if (q->role & LFQ_ROLE_PRODUCER) {
		lfq_elastic_prod_move(q, pseg);
		if (q->ring.records)
			q->prod.rec.resv.len = 0;
		q->pops = q->ring.records ? &lfq_rec_slot_prod_ops :
					    &lfq_elastic_prod_ops;
	}
	if (q->role & LFQ_ROLE_CONSUMER) {
		lfq_elastic_cons_move(q, cseg);
		q->cops = q->ring.records ? &lfq_rec_slot_cons_ops :
					    &lfq_elastic_cons_ops;
	}
}

/**
 * lfq_elastic_ready() - slots ready for a waiter of an elastic queue:
 * readable in the consumer's segment (and, while all that is left of it
 * up to its seal is ready, in the segments after it),
 * or free in the producers' newest segment (the producer's own, or, once
 * that is sealed, the one the producers' hint names: a handle that has
 * not moved on yet must not answer "a segment's worth" while the newest
 * is full); once the newest is sealed too, what the backend says (the
 * module knows whether the queue may grow; in process memory, a segment's
 * worth). A full newest segment left unsealed (in-process, while no
 * segment could be had) answers a segment's worth once one can.
 * @q:		the handle.
 * @data:	waiting for data (else for space).
 * @how:	LFQ_READY_ARM: announce the sleep first (ORDERING
 *		wake-data, wake-space), for any publish: one segment's count
 *		is not the queue's (ORDERING wake-threshold). LFQ_READY_ASK:
 *		the backend may be asked about a sealed newest segment;
 *		without it, such a segment has no space (a spinning waiter
 *		makes no system call; its sleep asks).
 * @min_count:	MPSC slots (readable, or free and reservable) are counted
 *		up to it.
 *
 * Return: the slots ready.
 */
uint32_t lfq_elastic_ready(struct lfq *q, int data, unsigned int how,
			   uint32_t min_count)
{
	uint32_t arm = how & LFQ_READY_ARM ? 1 : 0, n, seg, frame, hops;
	uint64_t head;
	const struct lfq_ring_loc *r;
	struct lfq_ring_loc next_loc;
	int next;

	if (!data) {
		r = &q->ploc;
		if (lfq_seg_sealed(lfq_load_relaxed(q->ploc.head)) ||
		    lfq_elastic_prod_lost(q)) {
			lfq_elastic_loc(q, lfq_elastic_hint(q), &next_loc);
			r = &next_loc;
		}
		n = lfq_ready_space(r, min_count, arm);
		head = lfq_load_relaxed(r->head);
		if (!lfq_seg_sealed(head)) {
			/*
			 * Full (for this record), left unsealed while no
			 * segment could be had (lfq_elastic_prod_next()):
			 * once one can, the reservation seals it and goes
			 * on. ORDERING wake-space: read after the arm's
			 * fence; lfq_local_wake_space() pairs.
			 */
			if (q->backend->may_grow &&
			    lfq_elastic_full(q, r, head, min_count) &&
			    q->backend->may_grow(q))
				return q->hdr.slot_count;
			return n;
		}
		return how & LFQ_READY_ASK ?
		       q->backend->sealed_space(q, min_count) : 0;
	}
	n = lfq_ready_data(&q->cloc, min_count, arm);
	seg = n;
	r = &q->cloc;
	frame = q->cframe;
	/*
	 * A segment whose rest is all ready, up to its seal, adds what the
	 * next one holds (as the module's count, lfq_seg_ready_data()),
	 * and only that: a wait that returned for a segment to move to
	 * would leave its pop nothing to take; one that counted only its
	 * own segment would sleep with the rest of the queue ready. The
	 * consumer moves at its next peek.
	 */
	for (hops = 0; n < min_count && hops < q->hdr.seg_max; hops++) {
		if (!lfq_seg_ready_through(r, lfq_load_relaxed(r->tail), seg))
			break;
		next = lfq_seg_next(&q->meta[frame], q->hdr.seg_max);
		if (next < 0)
			break;
		frame = (uint32_t)next;
		lfq_elastic_loc(q, frame, &next_loc);
		r = &next_loc;
		seg = lfq_ready_data(r, min_count - n, 0);
		n += seg;
	}
	return n;
}
