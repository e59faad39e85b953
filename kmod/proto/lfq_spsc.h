/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * lfq_spsc.h - the single-producer single-consumer ring protocol, written
 * once for the kernel and for liblfq (see lfq_atomic.h for the shim).
 *
 * Wait-free on both sides. The producer owns prod_ctl->head, the consumer
 * owns cons_ctl->tail; each keeps a private copy of its own index and a
 * cached copy of the other side's, and reloads the other side's index only
 * when the cached copy says there is not enough room (producer) or data
 * (consumer). A push is therefore: compare, write the slot, one release
 * store. Batches of up to slot_count slots are one contiguous span because
 * the slot area is mapped twice back to back (lfq_ring.h).
 *
 * Nothing read from the other side is trusted: a count derived from the
 * shared indices is clamped to [0, slot_count], and offsets are always
 * "index & mask", so a hostile or dead peer can make the ring look full or
 * empty or hand over garbage bytes, but never make either side touch memory
 * outside the ring's own pages.
 *
 * Wakeups are the Dekker handshake of lfq_common.h (as io_uring's
 * IORING_SQ_NEED_WAKEUP): the waiter arms its flag, full barrier,
 * re-checks; the publisher stores its index, full barrier, reads the
 * flag (ORDERING wake-data, wake-space in lfq_rules.h). On an asymmetric
 * queue the publisher's barrier is a compiler barrier and the waiter adds
 * the heavy fence before its re-check (ORDERING wake-asym): a waiter on
 * such a queue arms through lfq_queue_ready() (kernel) or liblfq's sleep,
 * never with the arm functions here alone. Ordering of the
 * indices: ORDERING spsc-head, spsc-tail. Shared values are handled by
 * HOSTILE MEMORY H1-H3.
 */
#ifndef _LFQ_PROTO_SPSC_H
#define _LFQ_PROTO_SPSC_H

#include "lfq_common.h"

/**
 * struct lfq_spsc_prod - a producer's handle (private memory).
 * @head_w:	the shared producer index (written only through this handle).
 * @tail_w:	the shared consumer index (read only).
 * @sleeps:	the consumer's need_data flag (read only).
 * @full_events: the shared count of full rings (written only here).
 * @data:	first copy of the slot area.
 * @head:	private copy of *@head_w.
 * @cached_tail: last consumer index read from @tail_w.
 * @reserved:	slots handed out by the last reserve and not yet committed.
 * @slot_size:	bytes per slot.
 * @mask:	slot_count - 1.
 * @light:	publish with the light half of the asymmetric handshake
 *		(struct lfq_ring_loc.light).
 */
struct lfq_spsc_prod {
	__u64 *head_w;
	const __u64 *tail_w;
	const __u32 *sleeps;
	__u64 *full_events;
	unsigned char *data;
	__u64 head;
	__u64 cached_tail;
	__u32 reserved;
	__u32 slot_size;
	__u32 mask;
	__u32 light;
};

/**
 * struct lfq_spsc_cons - a consumer's handle (private memory).
 * @tail_w:	the shared consumer index (written only through this handle).
 * @head_w:	the shared producer index (read only).
 * @sleeps:	the producer's need_space flag (read only).
 * @empty_events: the shared count of empty rings (written only here).
 * @data:	first copy of the slot area.
 * @index_mask:	what of a head word is the index: all of it, or all but
 *		LFQ_SEG_SEALED for an elastic segment.
 * @tail:	private copy of *@tail_w.
 * @cached_head: last producer index read from @head_w.
 * @peeked:	slots handed out by the last peek and not yet released.
 * @slot_size:	bytes per slot.
 * @mask:	slot_count - 1.
 * @light:	publish with the light half of the asymmetric handshake
 *		(struct lfq_ring_loc.light).
 */
struct lfq_spsc_cons {
	__u64 *tail_w;
	const __u64 *head_w;
	const __u32 *sleeps;
	__u64 *empty_events;
	const unsigned char *data;
	__u64 index_mask;
	__u64 tail;
	__u64 cached_head;
	__u32 peeked;
	__u32 slot_size;
	__u32 mask;
	__u32 light;
};

/**
 * lfq_spsc_prod_init() - bind a producer handle to a ring; the one way to
 * build one (kernel, liblfq and tests alike).
 * @p:		the handle.
 * @r:		the ring's location.
 *
 * Resumes at the producer index found in the ring.
 */
static inline void lfq_spsc_prod_init(struct lfq_spsc_prod *p,
				      const struct lfq_ring_loc *r)
{
	p->head_w = r->head;
	p->tail_w = r->tail;
	p->sleeps = r->need_data;
	p->full_events = &r->prod->full_events;
	p->data = r->data;
	p->slot_size = r->slot_size;
	p->mask = r->slot_count - 1;
	p->light = r->light;
	p->reserved = 0;
	p->head = lfq_loc_index(r, lfq_load_relaxed(p->head_w));
	/* ORDERING spsc-tail. */
	p->cached_tail = lfq_load_acquire(p->tail_w);
}

/**
 * lfq_spsc_cons_init() - bind a consumer handle to a ring; the one way to
 * build one.
 * @c:		the handle.
 * @r:		the ring's location.
 *
 * Resumes at the consumer index found in the ring.
 */
static inline void lfq_spsc_cons_init(struct lfq_spsc_cons *c,
				      const struct lfq_ring_loc *r)
{
	c->tail_w = r->tail;
	c->head_w = r->head;
	c->sleeps = r->need_space;
	c->empty_events = &r->cons->empty_events;
	c->data = r->data;
	c->index_mask = r->segment ? ~LFQ_SEG_SEALED : ~0ull;
	c->slot_size = r->slot_size;
	c->mask = r->slot_count - 1;
	c->light = r->light;
	c->peeked = 0;
	c->tail = lfq_load_relaxed(c->tail_w);
	/* ORDERING spsc-head. */
	c->cached_head = lfq_load_acquire(c->head_w) & c->index_mask;
}

/**
 * lfq_spsc_reserve() - reserve up to @want consecutive free slots.
 * @p:		producer handle.
 * @want:	slots wanted (at least 1).
 * @got:	slots granted, 0..@want.
 *
 * Return: the first slot of a contiguous span of *@got slots, or NULL if
 * the ring is full. Calling it again before commit replaces the
 * reservation (nothing is published until lfq_spsc_commit()).
 */
static inline void *lfq_spsc_reserve(struct lfq_spsc_prod *p, __u32 want,
				     __u32 *got)
{
	__u32 n = p->mask + 1 - lfq_ring_count(p->head, p->cached_tail,
					       p->mask + 1);

	if (lfq_unlikely(n < want)) {
		/* ORDERING spsc-tail: the freed slots are no longer read. */
		p->cached_tail = lfq_load_acquire(p->tail_w);
		n = p->mask + 1 - lfq_ring_count(p->head, p->cached_tail,
						 p->mask + 1);
	}
	if (n > want)
		n = want;
	p->reserved = n;
	*got = n;
	if (lfq_unlikely(!n))
		return (void *)0;
	return p->data + (__u64)(p->head & p->mask) * p->slot_size;
}

/**
 * lfq_spsc_reserve_one() - lfq_spsc_reserve() of one slot, the batch-1
 * fast path: one compare while the cached tail shows room.
 * @p:		producer handle.
 *
 * A used count above mask is a full ring, or a pair of indices a healthy
 * ring cannot hold, which reads as full as well (HOSTILE MEMORY H2, as
 * lfq_ring_count()).
 *
 * Return: the slot (published by lfq_spsc_advance_head_one() or
 * lfq_spsc_advance_head() of 1), or NULL if the ring is full.
 */
static inline void *lfq_spsc_reserve_one(struct lfq_spsc_prod *p)
{
	if (lfq_unlikely(p->head - p->cached_tail > p->mask)) {
		/* ORDERING spsc-tail: the freed slot is no longer read. */
		p->cached_tail = lfq_load_acquire(p->tail_w);
		if (p->head - p->cached_tail > p->mask) {
			p->reserved = 0;
			return (void *)0;
		}
	}
	p->reserved = 1;
	/* The caller's NULL test stays on the full path alone. */
	lfq_assume(p->data);
	/*
	 * A 32-bit offset: the ring has at most LFQ_DATA_BYTES_MAX bytes
	 * (a static assertion in libuser/lfq_inline.c).
	 */
	return p->data + (__u32)(p->head & p->mask) * p->slot_size;
}

/**
 * lfq_spsc_advance_head_one() - the private head past the one slot
 * lfq_spsc_reserve_one() returned (lfq_spsc_advance_head() of 1 without
 * the clamp: the caller had the slot).
 * @p:		producer handle.
 *
 * Return: the new head, to publish.
 */
static inline __u64 lfq_spsc_advance_head_one(struct lfq_spsc_prod *p)
{
	p->reserved = 0;
	return ++p->head;
}

/*
 * Clamp a commit to what was reserved and advance the private head; shared
 * by both commit flavours below.
 */
static inline __u64 lfq_spsc_advance_head(struct lfq_spsc_prod *p, __u32 n)
{
	if (lfq_unlikely(n > p->reserved))
		n = p->reserved;
	p->reserved = 0;
	p->head += n;
	return p->head;
}

/**
 * lfq_spsc_commit() - publish @n reserved slots, without the wakeup check.
 * @p:		producer handle.
 * @n:		slots to publish (clamped to the last reservation).
 *
 * For producers whose consumer never sleeps (busy polling).
 */
static inline void lfq_spsc_commit(struct lfq_spsc_prod *p, __u32 n)
{
	/* ORDERING spsc-head. */
	lfq_store_release(p->head_w, lfq_spsc_advance_head(p, n));
}

/**
 * lfq_spsc_commit_due() - whether a consumer whose sleep flag read @want
 * must be woken after a commit: it waits for no more than the slots now
 * readable (ORDERING wake-threshold; the cached tail only lags, so the
 * count is never too low).
 * @p:		producer handle, after the commit.
 * @want:	the consumer's sleep flag, read after the commit's barrier.
 *
 * Return: true if the consumer must be woken.
 */
static inline int lfq_spsc_commit_due(const struct lfq_spsc_prod *p,
				      __u32 want)
{
	return lfq_wake_due(want, lfq_ring_count(p->head, p->cached_tail,
						 p->mask + 1), p->mask + 1);
}

/**
 * lfq_spsc_commit_check() - publish @n reserved slots; report a sleeper.
 * @p:		producer handle.
 * @n:		slots to publish (clamped to the last reservation).
 *
 * Return: true if a consumer announced sleep and must be woken
 * (lfq_spsc_commit_due()).
 */
static inline int lfq_spsc_commit_check(struct lfq_spsc_prod *p, __u32 n)
{
	/* ORDERING spsc-head, wake-data (or wake-asym). */
	__u32 want = lfq_publish_index(p->head_w, lfq_spsc_advance_head(p, n),
				       p->sleeps, p->light);

	if (lfq_likely(!want))
		return 0;
	return lfq_spsc_commit_due(p, want);
}

/**
 * lfq_spsc_peek() - look at up to @want consecutive committed slots.
 * @c:		consumer handle.
 * @want:	slots wanted (at least 1).
 * @got:	slots available in the span, 0..@want.
 *
 * Return: the first slot of a contiguous span of *@got slots, or NULL if
 * the ring is empty.
 */
static inline const void *lfq_spsc_peek(struct lfq_spsc_cons *c, __u32 want,
					__u32 *got)
{
	__u32 n = lfq_ring_count(c->cached_head, c->tail, c->mask + 1);

	if (lfq_unlikely(n < want)) {
		/* ORDERING spsc-head: the slots are written before we read. */
		c->cached_head = lfq_load_acquire(c->head_w) & c->index_mask;
		n = lfq_ring_count(c->cached_head, c->tail, c->mask + 1);
	}
	if (n > want)
		n = want;
	c->peeked = n;
	*got = n;
	if (lfq_unlikely(!n))
		return (const void *)0;
	return c->data + (__u64)(c->tail & c->mask) * c->slot_size;
}

/**
 * lfq_spsc_peek_one() - lfq_spsc_peek() of one slot, the batch-1 fast
 * path: one compare while the cached head shows data.
 * @c:		consumer handle.
 *
 * A head equal to tail is an empty ring; a used count above mask cannot
 * occur in a healthy ring and reads as full (HOSTILE MEMORY H2), so the
 * slot at tail is handed over, as lfq_spsc_peek() would.
 *
 * Return: the slot (given back by lfq_spsc_advance_tail_one() or
 * lfq_spsc_advance_tail() of 1), or NULL if the ring is empty.
 */
static inline const void *lfq_spsc_peek_one(struct lfq_spsc_cons *c)
{
	if (lfq_unlikely(c->cached_head == c->tail)) {
		/* ORDERING spsc-head: the slot is written before we read. */
		c->cached_head = lfq_load_acquire(c->head_w) & c->index_mask;
		if (c->cached_head == c->tail) {
			c->peeked = 0;
			return (const void *)0;
		}
	}
	c->peeked = 1;
	lfq_assume(c->data);	/* as in lfq_spsc_reserve_one() */
	/* A 32-bit offset, as in lfq_spsc_reserve_one(). */
	return c->data + (__u32)(c->tail & c->mask) * c->slot_size;
}

/**
 * lfq_spsc_advance_tail_one() - the private tail past the one slot
 * lfq_spsc_peek_one() returned (no clamp: the caller had the slot).
 * @c:		consumer handle.
 *
 * Return: the new tail, to publish.
 */
static inline __u64 lfq_spsc_advance_tail_one(struct lfq_spsc_cons *c)
{
	c->peeked = 0;
	return ++c->tail;
}

static inline __u64 lfq_spsc_advance_tail(struct lfq_spsc_cons *c, __u32 n)
{
	if (lfq_unlikely(n > c->peeked))
		n = c->peeked;
	c->peeked = 0;
	c->tail += n;
	return c->tail;
}

/**
 * lfq_spsc_release() - give @n peeked slots back, without the wakeup check.
 * @c:		consumer handle.
 * @n:		slots to release (clamped to the last peek).
 */
static inline void lfq_spsc_release(struct lfq_spsc_cons *c, __u32 n)
{
	/* ORDERING spsc-tail. */
	lfq_store_release(c->tail_w, lfq_spsc_advance_tail(c, n));
}

/**
 * lfq_spsc_release_due() - whether a producer whose sleep flag read @want
 * must be woken after a release: it waits for no more than the slots now
 * free (ORDERING wake-threshold; the cached head only lags, so the count
 * is never too low).
 * @c:		consumer handle, after the release.
 * @want:	the producer's sleep flag, read after the release's barrier.
 *
 * Return: true if the producer must be woken.
 */
static inline int lfq_spsc_release_due(const struct lfq_spsc_cons *c,
				       __u32 want)
{
	return lfq_wake_due(want, c->mask + 1 -
			    lfq_ring_count(c->cached_head, c->tail, c->mask + 1),
			    c->mask + 1);
}

/**
 * lfq_spsc_release_check() - give @n peeked slots back; report a sleeper.
 * @c:		consumer handle.
 * @n:		slots to release (clamped to the last peek).
 *
 * Return: true if a producer announced sleep and must be woken
 * (lfq_spsc_release_due()).
 */
static inline int lfq_spsc_release_check(struct lfq_spsc_cons *c, __u32 n)
{
	/* ORDERING spsc-tail, wake-space (or wake-asym). */
	__u32 want = lfq_publish_index(c->tail_w, lfq_spsc_advance_tail(c, n),
				       c->sleeps, c->light);

	if (lfq_likely(!want))
		return 0;
	return lfq_spsc_release_due(c, want);
}

/**
 * lfq_spsc_arm_data_wait() - announce the consumer is about to sleep.
 * @r:		the ring.
 * @want:	the readable slots it waits for (lfq_arm_flag()).
 *
 * Arms need_data, then re-reads the indices (ORDERING wake-data). The
 * caller sleeps only if the returned count is still too small; any
 * commit after this point that makes @want slots readable sees the flag
 * and wakes it.
 *
 * Return: readable slots, in [0, slot_count].
 */
static inline __u32 lfq_spsc_arm_data_wait(const struct lfq_ring_loc *r,
					   __u32 want)
{
	lfq_arm_flag(r->need_data, want);
	return lfq_ring_count(lfq_loc_index(r, lfq_load_after_mb(r->head)),
			      lfq_load_relaxed(r->tail), r->slot_count);
}

/**
 * lfq_spsc_readable() - readable slots, for poll and statistics.
 * @r:		the ring.
 *
 * Return: slots committed and not consumed, in [0, slot_count].
 */
static inline __u32 lfq_spsc_readable(const struct lfq_ring_loc *r)
{
	/* ORDERING spsc-head. */
	return lfq_ring_count(lfq_loc_index(r, lfq_load_acquire(r->head)),
			      lfq_load_relaxed(r->tail), r->slot_count);
}

#endif /* _LFQ_PROTO_SPSC_H */
