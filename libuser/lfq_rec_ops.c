// SPDX-License-Identifier: MIT
/*
 * lfq_rec_ops.c - liblfq's record queues (LFQ_CREATE_RECORDS): binding a
 * handle to the record protocol (kmod/proto/lfq_rec.h), the lfq_rec_*()
 * calls over it, and what lfq_push() and lfq_pop() do on such a queue.
 * An MPMC record queue's consumer takes one record at a time by the
 * shared claim (kmod/proto/lfq_rec_mpmc.h), and holds it until its
 * release. The slot calls answer -EOPNOTSUPP on a record handle. No
 * system call, lock or allocation, but a peer's wakeup (and, on an
 * elastic queue, the step to the next segment: lfq_elastic_ops.c).
 */
#include <errno.h>
#include <string.h>

#include "lfq_handle.h"

/*
 * The slot calls on a record handle's sides; also what marks a side as a
 * record one (lfq_rec_prod_check()).
 */
LFQ_REFUSING_OPS(lfq_rec_slot, -EOPNOTSUPP);

/**
 * lfq_rec_bind() - build a record handle's views (lfq_bind_views()).
 * @q:		a handle on a record queue, q->ring set.
 *
 * The claims (a /dev/lfq MPSC or MPMC queue's producer, an MPMC one's
 * consumer) are set afterwards, when registered (lfq_kernel.c).
 */
void lfq_rec_bind(struct lfq *q)
{
	struct lfq_rec_ring ring;

	lfq_rec_ring_init(&ring, &q->ring);
	if (q->role & LFQ_ROLE_PRODUCER) {
		lfq_rec_prod_init(&q->prod.rec.view, &ring,
				  lfq_type_committed(q->hdr.type));
		q->prod.rec.resv.len = 0;
		q->pops = &lfq_rec_slot_prod_ops;
	}
	if ((q->role & LFQ_ROLE_CONSUMER) && q->ring.claim) {
		/* Its claim record is set when it is registered. */
		lfq_rec_mcons_init(&q->cons.rmpmc, &ring, q->ring.claim);
		q->cops = &lfq_rec_slot_cons_ops;
	} else if (q->role & LFQ_ROLE_CONSUMER) {
		lfq_rec_cons_init(&q->cons.rec, &ring);
		q->cops = &lfq_rec_slot_cons_ops;
	}
}

/* 0 if @q's producer side is a record one, else the error to return. */
static int lfq_rec_prod_check(const struct lfq *q)
{
	if (lfq_likely(q->pops == &lfq_rec_slot_prod_ops))
		return 0;
	return q->ring.records ? -EPERM : -EOPNOTSUPP;
}

static int lfq_rec_cons_check(const struct lfq *q)
{
	if (lfq_likely(q->cops == &lfq_rec_slot_cons_ops))
		return 0;
	return q->ring.records ? -EPERM : -EOPNOTSUPP;
}

/* Publish (or give up) the handle's reservation; wake a sleeper. */
static int lfq_rec_publish_resv(struct lfq *q, int keep)
{
	struct lfq_rec_resv *r = &q->prod.rec.resv;
	int wake;

	if (!r->len)
		return -ENOENT;
	wake = keep ? lfq_rec_commit(&q->prod.rec.view, r) :
		      lfq_rec_discard(&q->prod.rec.view, r);
	r->len = 0;
	/* Elastic: the end of the reservation's read-side section. */
	if (q->hdr.seg_max)
		lfq_elastic_unlock(q);
	if (lfq_unlikely(wake) && q->wakeups)
		q->backend->wake(q, LFQ_WAKE_CONSUMER);
	return 0;
}

int lfq_record_reserve(struct lfq *q, uint32_t len, void **payload)
{
	struct lfq_rec_prod *p = &q->prod.rec.view;
	int err = lfq_rec_prod_check(q);

	*payload = NULL;
	if (lfq_unlikely(err))
		return err;
	if (lfq_unlikely(!len || len > p->max_len))
		return -EMSGSIZE;
	/* An unfinished reservation would hold the consumer back. */
	if (lfq_unlikely(q->prod.rec.resv.len))
		lfq_rec_publish_resv(q, 0);
	if (q->hdr.seg_max) {
		/* A full segment gives way to the next (lfq_segment.h). */
		err = lfq_elastic_reserve(q, len, payload);
		if (lfq_likely(err > 0))
			return 0;
		q->prod.rec.resv.len = 0;
		__atomic_fetch_add(&q->ring.prod->full_events, 1,
				   __ATOMIC_RELAXED);
		return err;
	}
	*payload = lfq_rec_reserve(p, len, &q->prod.rec.resv);
	if (lfq_unlikely(p->overwritten)) {
		__atomic_fetch_add(&q->ring.prod->overwritten, p->overwritten,
				   __ATOMIC_RELAXED);
		p->overwritten = 0;
	}
	if (lfq_likely(*payload))
		return 0;
	q->prod.rec.resv.len = 0;
	__atomic_fetch_add(&q->ring.prod->full_events, 1, __ATOMIC_RELAXED);
	return -EAGAIN;
}

int lfq_record_commit(struct lfq *q)
{
	return lfq_rec_prod_check(q) ?: lfq_rec_publish_resv(q, 1);
}

int lfq_record_discard(struct lfq *q)
{
	return lfq_rec_prod_check(q) ?: lfq_rec_publish_resv(q, 0);
}

/* After a release or skip: wake producers asleep for the space freed. */
static void lfq_rec_wake_producers(struct lfq *q)
{
	int wake;

	if (q->ring.claim) {
		wake = q->cons.rmpmc.wake;
		q->cons.rmpmc.wake = 0;
	} else {
		wake = (int)q->cons.rec.wake;
		q->cons.rec.wake = 0;
	}
	if (lfq_unlikely(wake) && q->wakeups)
		q->backend->wake(q, LFQ_WAKE_PRODUCER);
}

/* An MPMC record queue: take a record (or the one held), or -EAGAIN. */
static int lfq_rec_mpmc_peek(struct lfq *q, const void **payload)
{
	uint32_t len = 0;

	*payload = lfq_rec_mpmc_take(&q->cons.rmpmc, &len);
	lfq_rec_wake_producers(q);
	if (lfq_likely(*payload))
		return (int)len;
	/* Every consumer counts here: an atomic increment. */
	__atomic_fetch_add(&q->ring.cons->empty_events, 1, __ATOMIC_RELAXED);
	return -EAGAIN;
}

/*
 * An MPMC record queue: release the record held (none: nothing to do);
 * one found torn (lfq_rec_mpmc_intact(): overwritten while it was read,
 * another consumer having forged tail or a release mark) is dropped and
 * counted in the shared lfq_cons_ctl.torn: -ESTALE.
 */
static int lfq_rec_mpmc_give_back(struct lfq *q)
{
	int torn = lfq_rec_mpmc_release(&q->cons.rmpmc);

	lfq_rec_wake_producers(q);
	if (lfq_likely(!torn))
		return 0;
	__atomic_fetch_add(&q->ring.cons->torn, 1, __ATOMIC_RELAXED);
	return -ESTALE;
}

/*
 * An MPMC record queue: up to @max records, each taken, handed, released
 * (a torn one is counted after @fn saw it: see lfq_record_consume()).
 */
static int lfq_rec_mpmc_consume(struct lfq *q, uint32_t max, lfq_record_fn fn,
				void *ctx)
{
	const void *p;
	uint32_t n = 0, len;
	int stop = 0;

	while (n < max && !stop &&
	       (p = lfq_rec_mpmc_take(&q->cons.rmpmc, &len))) {
		stop = fn(ctx, p, len);
		lfq_rec_mpmc_give_back(q);
		n++;
	}
	lfq_rec_wake_producers(q);
	if (!n)
		__atomic_fetch_add(&q->ring.cons->empty_events, 1,
				   __ATOMIC_RELAXED);
	return (int)n;
}

int lfq_record_peek(struct lfq *q, const void **payload)
{
	struct lfq_rec_cons *c = &q->cons.rec;
	int err = lfq_rec_cons_check(q), lost = 0;
	uint32_t len = 0;

	*payload = NULL;
	if (lfq_unlikely(err))
		return err;
	if (q->ring.claim)
		return lfq_rec_mpmc_peek(q, payload);
	do {
		*payload = lfq_rec_peek(c, &len);
		lfq_rec_wake_producers(q);
		if (lfq_likely(*payload))
			return (int)len;
		/* Elastic: a segment drained to its seal gives way. */
	} while (q->hdr.seg_max && lfq_elastic_cons_next(q, &lost));
	lfq_count_empty(q);
	return -EAGAIN;
}

int lfq_record_release(struct lfq *q)
{
	int err = lfq_rec_cons_check(q);

	if (lfq_unlikely(err))
		return err;
	if (q->ring.claim)
		return lfq_rec_mpmc_give_back(q);
	lfq_rec_release(&q->cons.rec);
	lfq_rec_wake_producers(q);
	return 0;
}

int lfq_record_consume(struct lfq *q, uint32_t max, lfq_record_fn fn, void *ctx)
{
	struct lfq_rec_cons *c = &q->cons.rec;
	int err = lfq_rec_cons_check(q), lost = 0;
	struct lfq_rec_batch b;
	int n;

	if (lfq_unlikely(err))
		return err;
	if (!max || !fn)
		return -EINVAL;
	if (q->ring.claim)
		return lfq_rec_mpmc_consume(q, max, fn, ctx);
	/* A peeked record is the run's first: the peek already passed the
	 * discarded ones before it.
	 */
	c->held = 0;
	while (!lfq_rec_peek_batch(c, max, &b)) {
		lfq_rec_release_batch(c, &b);	/* discards only, if any */
		lfq_rec_wake_producers(q);
		/* Elastic: a segment drained to its seal gives way. */
		if (!q->hdr.seg_max || !lfq_elastic_cons_next(q, &lost)) {
			lfq_count_empty(q);
			return 0;
		}
	}
	n = lfq_rec_batch_hand(&b, fn, ctx);
	lfq_rec_release_batch(c, &b);
	lfq_rec_wake_producers(q);
	return n;
}

int lfq_record_snapshot(struct lfq *q, void *buf, size_t size,
			lfq_record_fn fn, void *ctx)
{
	unsigned char *out = buf;
	struct lfq_rec_ring ring;
	struct lfq_rec_snap s;
	const void *src;
	size_t off = 0, at;
	__u64 h, need;
	uint32_t len;
	int n = 0;

	if (!q->ring.records || !q->ring.overwrite)
		return -EOPNOTSUPP;
	if ((uintptr_t)buf & 7)
		return -EINVAL;
	lfq_rec_ring_init(&ring, &q->ring);
	lfq_rec_snap_init(&s, &ring);
	while ((src = lfq_rec_snap_next(&s, &h)) || s.paused) {
		if (!src)
			continue;	/* a pause: the kernel's, to yield */
		len = (uint32_t)(h & LFQ_REC_LEN_MASK);
		need = lfq_rec_size(len);
		if (need > size - off)
			break;
		lfq_rec_snap_copy(out + off + LFQ_REC_HDR_SIZE, src, len);
		if (!lfq_rec_snap_check(&s, h))
			continue;
		*(__u64 *)(out + off) = len;
		off += need;
		n++;
	}
	for (at = 0; fn && at < off; at += need) {
		len = (uint32_t)*(__u64 *)(out + at);
		need = lfq_rec_size(len);
		if (fn(ctx, out + at + LFQ_REC_HDR_SIZE, len))
			break;
	}
	return n;
}

int lfq_rec_push(struct lfq *q, const void *msg, size_t len)
{
	void *payload;
	int err;

	if (len > UINT32_MAX)
		return -EMSGSIZE;
	while ((err = lfq_record_reserve(q, (uint32_t)len, &payload)) == -EAGAIN) {
		if (!(q->hdr.flags & LFQ_CREATE_BLOCK))
			return -EAGAIN;
		err = lfq_wait_space(q, (uint32_t)lfq_rec_size((uint32_t)len),
				     -1);
		if (err)
			return err;
	}
	if (err)
		return err;
	memcpy(payload, msg, len);
	return lfq_record_commit(q);
}

int lfq_rec_pop(struct lfq *q, void *buf, size_t len)
{
	const void *payload;
	int got = lfq_record_peek(q, &payload);
	uint64_t tries = 0;

	/*
	 * MPMC: a record found torn after its copy is dropped, and the next
	 * taken; -ESTALE only after a ring's worth of them (HOSTILE MEMORY).
	 */
	while (q->ring.claim && got >= 0 && (size_t)got <= len) {
		memcpy(buf, payload, (size_t)got);
		if (!lfq_rec_mpmc_give_back(q))
			return got;
		if (++tries >= q->ring.slot_count / 16)
			return -ESTALE;
		got = lfq_record_peek(q, &payload);
	}
	if (got < 0)
		return got;
	if ((size_t)got > len) {
		/*
		 * It stays: the caller needs more. MPMC: taken, it stays
		 * held by this handle. Overwrite mode: not held meanwhile,
		 * or producers would stop at it.
		 */
		if (q->ring.claim)
			return -EMSGSIZE;
		q->cons.rec.held = 0;
		lfq_rec_disown(&q->cons.rec);
		return -EMSGSIZE;
	}
	memcpy(buf, payload, (size_t)got);
	return lfq_record_release(q) ?: got;
}
