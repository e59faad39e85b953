// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_kapi.c - the in-kernel producer API. Kernel code in any context
 * (process, softirq, hardirq, NMI) reserves slots in an MPSC (or MPMC)
 * queue, writes them and commits or discards them, alongside userspace
 * producers of the same ring. A full ring fails the reservation and
 * counts a drop: kernel producers never wait. A sleeping consumer is
 * woken through irq_work, which is safe from every one of those contexts.
 *
 * Record queues (LFQ_CREATE_RECORDS: MPSC, fixed or elastic, and MPMC)
 * take records of any size up to their limit the same way:
 * lfq_queue_rec_reserve(), then lfq_queue_rec_commit() or
 * lfq_queue_rec_discard().
 *
 * The ring's control words live in user-writable pages: HOSTILE MEMORY
 * H1-H6 (proto/lfq_rules.h) keep every kernel write inside the queue and
 * off slots another producer is still writing.
 */
#include <linux/export.h>
#include <linux/irq_work.h>

#include "lfq_claims.h"
#include "lfq_kapi.h"
#include "lfq_queue.h"
#include "lfq_seg.h"

/*
 * Reservation attempts a kernel producer makes before dropping the record
 * (HOSTILE MEMORY H5): legitimate contention resolves in a few; a process
 * rewriting head in a loop must not keep a producer in hardirq or NMI
 * context spinning.
 */
#define LFQ_KAPI_MAX_TRIES	64
/*
 * Overwrite mode: bytes a kernel reservation may zero beyond its own
 * record's to make room (older records of processes can be huge).
 */
#define LFQ_KAPI_ZERO_MAX	65536

/* Attempts at moving to a next segment before an elastic reservation drops. */
#define LFQ_KAPI_SEG_TRIES	8

/*
 * Spins a producer waits for another one that is linking the next segment
 * (a few dozen instructions away, unless it is the context we interrupted,
 * or a process rewriting the link word: then the record drops).
 */
#define LFQ_KAPI_LINK_SPINS	1024

/* A producer view on the stack: no state shared between contexts. */
static void lfq_kapi_view(const struct lfq_ring_loc *ring,
			  struct lfq_mpsc_prod *p)
{
	lfq_mpsc_prod_init(p, ring);
	lfq_mpsc_prod_set_max_tries(p, LFQ_KAPI_MAX_TRIES);
}

/* The ring a reservation is in: the queue's, or its segment's. */
static const struct lfq_ring_loc *lfq_kapi_ring(struct lfq_queue *q,
						const struct lfq_mpsc_resv *r)
{
	return r->seg ? &((struct lfq_seg *)r->seg)->ring : &q->ring;
}

/* Another producer is linking the segment after @s: give it a moment. */
static void lfq_kapi_wait_link(struct lfq_elastic *el, struct lfq_seg *s)
{
	const struct lfq_seg_meta *m = &el->meta[s->frame];
	int spins;

	for (spins = 0; spins < LFQ_KAPI_LINK_SPINS; spins++) {
		if (READ_ONCE(m->next) != LFQ_SEG_LINKING)
			return;
		cpu_relax();
	}
}

/*
 * A reservation in @s failed: the segment to try next, or NULL to drop.
 * @need: a record's bytes (lfq_rec_size()), or 0 for slots. A segment
 * that refused with room left (contended, or held by the lap guard) is no
 * reason to grow: NULL. A full one is sealed and the next one followed or
 * linked; @s again when a reservation moved its head first, or while
 * another producer links. Preemption disabled (ORDERING seg-grace).
 */
static struct lfq_seg *lfq_kapi_seg_next(struct lfq_elastic *el,
					 struct lfq_seg *s, u64 need)
{
	struct lfq_seg *n;
	int err;
	u64 v;

	/* HOSTILE MEMORY H1: one read, used to seal or as an end. */
	v = READ_ONCE(*s->ring.head);
	if (!lfq_seg_sealed(v) &&
	    !(need ? lfq_rec_seg_full(&s->ring, v, need) :
		     lfq_seg_full(&s->ring, v)))
		return NULL;
	/*
	 * A record segment with room left for smaller records is sealed
	 * only if the queue can go on after it: sealed for nothing, it
	 * would drop every record until the consumer made room.
	 */
	if (need && !lfq_seg_sealed(v) && !lfq_seg_full(&s->ring, v) &&
	    !lfq_seg_may_grow(el, s))
		return NULL;
	if (!lfq_seg_seal(&s->ring, v))
		return s;	/* a reservation moved the head */
	n = lfq_seg_advance(el, s, &err);
	if (n)
		return n;
	if (err != -EAGAIN)
		return NULL;	/* at seg_max, or no spare: drop */
	lfq_kapi_wait_link(el, s);
	return s;
}

/*
 * Reserve in an elastic queue: in the producers' segment, or, when it is
 * full, in the next one (linked with a spare from the pool: no
 * allocation). Returns with preemption disabled on success, an RCU
 * read-side critical section that lfq_kapi_publish() ends: the segment
 * cannot be reused under the caller (ORDERING seg-grace).
 */
static void *lfq_kapi_reserve_elastic(struct lfq_queue *q,
				      struct lfq_mpsc_prod *claim,
				      u32 want, struct lfq_mpsc_resv *r)
{
	struct lfq_elastic *el = q->el;
	struct lfq_mpsc_prod p;
	struct lfq_seg *s;
	int tries;
	void *span;

	preempt_disable();
	s = lfq_seg_producer(el);
	for (tries = 0; s && tries < LFQ_KAPI_SEG_TRIES; tries++) {
		lfq_kapi_view(&s->ring, &p);
		lfq_mpsc_prod_set_claim(&p, claim->claim);
		span = lfq_mpsc_reserve(&p, want, r);
		if (span) {
			r->seg = s;
			return span;
		}
		s = lfq_kapi_seg_next(el, s, 0);
	}
	preempt_enable();
	return NULL;
}

/**
 * lfq_queue_reserve() - reserve up to @want consecutive slots.
 * @q:		an MPSC or MPMC queue (a reference held by the caller).
 * @want:	slots wanted, at least 1.
 * @r:		the reservation, to pass to lfq_queue_commit() or
 *		lfq_queue_discard() from any context (an elastic queue's:
 *		from the context that made it, before that context ends).
 *
 * Lock-free and allocation-free. The span is contiguous even across the
 * ring's end (the slot area is mapped twice). On an elastic queue a full
 * segment makes the reservation move to the next one, linking a spare
 * segment from the queue's pool; between a successful reservation and
 * its commit or discard preemption is disabled (an RCU read-side critical
 * section: the segment outlives it) and the caller must not sleep.
 *
 * Context: any, NMI included.
 * Return: the first slot of @r->count writable slots, or NULL (and a drop
 * counted) if the ring is full (an elastic queue: at seg_max segments, or
 * without a spare segment), @q is SPSC, the shared head kept
 * changing under LFQ_KAPI_MAX_TRIES attempts, or more kernel reservations
 * than the queue has kernel claims are in flight; NULL without a drop for
 * a record queue (lfq_queue_rec_reserve() is its API).
 */
void *lfq_queue_reserve(struct lfq_queue *q, u32 want,
			struct lfq_mpsc_resv *r)
{
	struct lfq_mpsc_prod p;
	void *span;

	r->count = 0;
	r->seg = NULL;
	if (unlikely(!lfq_type_committed(q->hdr.type) || q->ring.records ||
		     !want))
		return NULL;
	lfq_kapi_view(&q->ring, &p);
	/* A claim, so the orphan scan leaves our slots alone. */
	if (unlikely(!lfq_kclaim_get(q, &p, r))) {
		atomic64_inc(&q->dropped);
		return NULL;
	}
	if (q->el)
		span = lfq_kapi_reserve_elastic(q, &p, want, r);
	else
		span = lfq_mpsc_reserve(&p, want, r);
	if (unlikely(!span)) {
		lfq_kclaim_put(q, r);
		atomic64_inc(&q->dropped);
	}
	return span;
}
EXPORT_SYMBOL_GPL(lfq_queue_reserve);

/* Commit or discard @r, then wake a sleeping consumer through irq_work. */
static void lfq_kapi_publish(struct lfq_queue *q,
			     const struct lfq_mpsc_resv *r, bool keep)
{
	struct lfq_mpsc_prod p;
	bool wake;

	if (!r->count)
		return;
	/* An elastic reservation is published where it was made. */
	WARN_ON_ONCE(r->seg && preemptible());
	lfq_kapi_view(lfq_kapi_ring(q, r), &p);
	wake = keep ? lfq_mpsc_commit(&p, r) : lfq_mpsc_discard(&p, r);
	lfq_kclaim_put(q, r);
	/* The end of the read-side section lfq_kapi_reserve_elastic() began. */
	if (r->seg)
		preempt_enable();
	if (wake)
		irq_work_queue(&q->wake_work);
}

/**
 * lfq_queue_commit() - publish a reservation made by lfq_queue_reserve().
 * @q:		the queue.
 * @r:		the reservation, all of its slots written.
 *
 * Context: any, NMI included.
 */
void lfq_queue_commit(struct lfq_queue *q, const struct lfq_mpsc_resv *r)
{
	lfq_kapi_publish(q, r, true);
}
EXPORT_SYMBOL_GPL(lfq_queue_commit);

/**
 * lfq_queue_discard() - give a reservation up; the consumer skips its
 * slots and counts them.
 * @q:		the queue.
 * @r:		the reservation.
 *
 * Context: any, NMI included.
 */
void lfq_queue_discard(struct lfq_queue *q, const struct lfq_mpsc_resv *r)
{
	lfq_kapi_publish(q, r, false);
}
EXPORT_SYMBOL_GPL(lfq_queue_discard);

/*
 * A kernel record producer's view of @ring (the queue's, or a segment's):
 * bounded tries and zeroing, claim @claim (index @self), and the lap guard
 * (HOSTILE MEMORY H6: never onto another kernel producer's record).
 */
static void lfq_kapi_rec_view(struct lfq_queue *q,
			      const struct lfq_ring_loc *ring, u32 len,
			      u32 self, struct lfq_mpsc_claim *claim,
			      struct lfq_rec_prod *p, struct lfq_kguard *g)
{
	struct lfq_rec_ring rr;

	lfq_rec_ring_init(&rr, ring);
	lfq_rec_prod_init(p, &rr, 1);
	p->max_tries = LFQ_KAPI_MAX_TRIES;
	/* Overwrite mode: bounded zeroing, in any context. */
	p->zero_left = lfq_rec_size(len) + LFQ_KAPI_ZERO_MAX;
	p->claim = claim;
	*g = (struct lfq_kguard){ .q = q, .self = self, .base = ring->base };
	p->lap_guard = lfq_kclaims_lap_guard;
	p->guard_ctx = g;
}

/**
 * lfq_queue_rec_reserve() - reserve a record of @len bytes in a record
 * queue.
 * @q:		an MPSC or MPMC record queue (LFQ_CREATE_RECORDS; a
 *		reference held by the caller).
 * @len:	payload bytes, 1 to the queue's limit (LFQ_REC_MAX_LEN() of
 *		its ring bytes).
 * @r:		the reservation, to pass to lfq_queue_rec_commit() or
 *		lfq_queue_rec_discard() from any context (an elastic queue's:
 *		from the context that made it, before that context ends).
 *
 * Lock-free and allocation-free, as lfq_queue_reserve(). The payload is
 * contiguous even across the ring's end, and 8-aligned. The reservation
 * holds one of the queue's kernel claims until it is published: the
 * recovery of a dead process producer's records never mistakes it for
 * theirs.
 *
 * In overwrite mode (LFQ_CREATE_OVERWRITE) a full ring gives up its oldest
 * records, counted in lfq_stats.overwritten; it has no room only while
 * its oldest record is being written, is held by the consumer, is in
 * another producer's overwrite that does not finish, or is bigger than
 * this reservation may zero (its size and LFQ_KAPI_ZERO_MAX bytes).
 *
 * On an elastic queue (LFQ_CREATE_ELASTIC) a record that does not fit the
 * rest of the producers' segment seals it and goes on in the next one,
 * linked with a spare from the queue's pool, as lfq_queue_reserve() does;
 * between a successful reservation and its commit or discard preemption
 * is disabled (an RCU read-side section): the caller must not sleep, and
 * publishes the record in the same context, before that context ends.
 * A record that does not fit the rest of a segment seals it only while
 * the queue may grow (a linked or pooled segment, below seg_max): at the
 * limit that record drops alone, and smaller ones still fit.
 *
 * Context: any, NMI included.
 * A forged tail cannot make it reserve over a record another producer
 * with a claim is still writing (lfq_kclaims_lap_guard()): it drops
 * instead.
 *
 * Return: the payload, or NULL (and a drop counted) if @len is 0 or
 * beyond the limit, the ring has no room for it (an elastic queue: at
 * seg_max segments, or without a spare; or a forged tail would put it on
 * a record another producer still writes), the shared head kept
 * changing under LFQ_KAPI_MAX_TRIES attempts, every kernel claim is in
 * use, or another kernel producer's lap guard took the range its
 * compare-and-swap won (a forged tail: head then is past a range no
 * header closes); NULL without a drop if @q is not an MPSC or MPMC
 * record queue.
 */
void *lfq_queue_rec_reserve(struct lfq_queue *q, u32 len,
			    struct lfq_rec_kresv *r)
{
	const struct lfq_ring_loc *ring = &q->ring;
	struct lfq_mpsc_claim *claim;
	struct lfq_seg *s = NULL;
	struct lfq_rec_prod p;
	struct lfq_kguard g;
	void *span = NULL;
	int tries;

	r->resv.len = 0;
	r->seg = NULL;
	if (unlikely(!q->ring.records || !lfq_type_committed(q->hdr.type)))
		return NULL;
	/* Before any segment is judged full for it: it fits none. */
	if (unlikely(!len || len > lfq_rec_max_len(q->hdr.slot_count))) {
		atomic64_inc(&q->dropped);
		return NULL;
	}
	claim = lfq_kclaim_take(q, &r->claim);
	p.overwritten = 0;
	/*
	 * Preemption off from our claim's range to its compare-and-swap and
	 * the mark that it won: others' lap guards see the mark at once. On
	 * an elastic queue until the record is published: an RCU read-side
	 * section, the segment is not reused under us (ORDERING seg-grace).
	 */
	preempt_disable();
	if (q->el) {
		s = lfq_seg_producer(q->el);
		ring = &s->ring;
	}
	/* An elastic queue: a full segment gives way to the next one. */
	for (tries = 0; claim && tries < LFQ_KAPI_SEG_TRIES; tries++) {
		lfq_kapi_rec_view(q, ring, len, r->claim, claim, &p, &g);
		span = lfq_rec_reserve(&p, len, &r->resv);
		if (span || !s)
			break;
		s = lfq_kapi_seg_next(q->el, s, lfq_rec_size(len));
		if (!s)
			break;
		ring = &s->ring;
	}
	if (span && s)
		r->seg = s;	/* preemption stays off to the publish */
	else
		preempt_enable();
	if (unlikely(p.overwritten))
		atomic64_add(p.overwritten, &q->overwritten);
	if (unlikely(!span)) {
		if (claim)
			lfq_kclaim_give(q, r->claim);
		r->resv.len = 0;
		atomic64_inc(&q->dropped);
	}
	return span;
}
EXPORT_SYMBOL_GPL(lfq_queue_rec_reserve);

/* Commit or discard @r, then wake a sleeping consumer through irq_work. */
static void lfq_kapi_rec_publish(struct lfq_queue *q,
				 struct lfq_rec_kresv *r, bool keep)
{
	struct lfq_rec_ring ring;
	struct lfq_rec_prod p;
	bool wake;

	if (!r->resv.len)
		return;
	/* An elastic reservation is published where it was made. */
	WARN_ON_ONCE(r->seg && preemptible());
	lfq_rec_ring_init(&ring, r->seg ? &((struct lfq_seg *)r->seg)->ring :
					  &q->ring);
	lfq_rec_prod_init(&p, &ring, 1);
	/* Not held from here: the lap guard lets the ring past it. */
	lfq_kclaim_unmark(q, r->claim);
	wake = keep ? lfq_rec_commit(&p, &r->resv) :
		      lfq_rec_discard(&p, &r->resv);
	lfq_kclaim_give(q, r->claim);
	r->resv.len = 0;
	/* The end of the read-side section lfq_queue_rec_reserve() began. */
	if (r->seg)
		preempt_enable();
	r->seg = NULL;
	if (wake)
		irq_work_queue(&q->wake_work);
}

/**
 * lfq_queue_rec_commit() - publish a record reserved by
 * lfq_queue_rec_reserve(), in any order relative to other producers.
 * @q:		the queue.
 * @r:		the reservation, its payload written; emptied.
 *
 * Context: any, NMI included.
 */
void lfq_queue_rec_commit(struct lfq_queue *q, struct lfq_rec_kresv *r)
{
	lfq_kapi_rec_publish(q, r, true);
}
EXPORT_SYMBOL_GPL(lfq_queue_rec_commit);

/**
 * lfq_queue_rec_discard() - give a reserved record up; the consumer skips
 * it and counts it.
 * @q:		the queue.
 * @r:		the reservation; emptied.
 *
 * Context: any, NMI included.
 */
void lfq_queue_rec_discard(struct lfq_queue *q, struct lfq_rec_kresv *r)
{
	lfq_kapi_rec_publish(q, r, false);
}
EXPORT_SYMBOL_GPL(lfq_queue_rec_discard);
