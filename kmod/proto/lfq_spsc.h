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
 * Wakeups (the Dekker handshake, as io_uring's IORING_SQ_NEED_WAKEUP):
 *   waiter:  flag = 1; full barrier; re-check the other side's index
 *   waker:   publish index; full barrier; if (flag) wake
 * lfq_store_release_mb()/lfq_load_after_mb() implement both halves; with
 * a release-only index store (libbpf's 2023 lost-wakeup bug) the waker's
 * flag load could pass its index store and both sides would miss.
 */
#ifndef _LFQ_PROTO_SPSC_H
#define _LFQ_PROTO_SPSC_H

#include "lfq_atomic.h"
#include "lfq_ring.h"

/**
 * lfq_ring_count() - committed, unconsumed slots between two indices.
 * @head:	producer index as read.
 * @tail:	consumer index as read.
 * @slot_count:	slots in the ring.
 *
 * A pair that cannot occur in a healthy ring (tail ahead of head, or more
 * than slot_count apart) reads as a full ring: producers stop, consumers
 * see at most slot_count slots, and nothing indexes outside the ring.
 *
 * Return: the count, in [0, slot_count].
 */
static inline __u32 lfq_ring_count(__u64 head, __u64 tail, __u32 slot_count)
{
	__u64 used = head - tail;

	return used > slot_count ? slot_count : (__u32)used;
}

/**
 * struct lfq_spsc_prod - a producer's handle (private memory).
 * @ctl:	the shared producer page (written only through this handle).
 * @peer:	the shared consumer page (read only).
 * @data:	first copy of the slot area.
 * @head:	private copy of ctl->head.
 * @cached_tail: last consumer index read from @peer.
 * @reserved:	slots handed out by the last reserve and not yet committed.
 * @slot_size:	bytes per slot.
 * @mask:	slot_count - 1.
 */
struct lfq_spsc_prod {
	struct lfq_prod_ctl *ctl;
	const struct lfq_cons_ctl *peer;
	unsigned char *data;
	__u64 head;
	__u64 cached_tail;
	__u32 reserved;
	__u32 slot_size;
	__u32 mask;
};

/**
 * struct lfq_spsc_cons - a consumer's handle (private memory).
 * @ctl:	the shared consumer page (written only through this handle).
 * @peer:	the shared producer page (read only).
 * @data:	first copy of the slot area.
 * @tail:	private copy of ctl->tail.
 * @cached_head: last producer index read from @peer.
 * @peeked:	slots handed out by the last peek and not yet released.
 * @slot_size:	bytes per slot.
 * @mask:	slot_count - 1.
 */
struct lfq_spsc_cons {
	struct lfq_cons_ctl *ctl;
	const struct lfq_prod_ctl *peer;
	const unsigned char *data;
	__u64 tail;
	__u64 cached_head;
	__u32 peeked;
	__u32 slot_size;
	__u32 mask;
};

/**
 * lfq_spsc_prod_init() - bind a producer handle to a ring.
 * @p:		the handle.
 * @base:	start of the mapping (struct lfq_ring_hdr).
 * @h:		a validated private copy of the header.
 *
 * Resumes at the producer index found in the ring.
 */
static inline void lfq_spsc_prod_init(struct lfq_spsc_prod *p, void *base,
				      const struct lfq_ring_hdr *h)
{
	unsigned char *b = (unsigned char *)base;

	p->ctl = (struct lfq_prod_ctl *)(b + h->prod_offset);
	p->peer = (const struct lfq_cons_ctl *)(b + h->cons_offset);
	p->data = b + h->data_offset;
	p->slot_size = h->slot_size;
	p->mask = h->slot_count - 1;
	p->reserved = 0;
	p->head = lfq_load_relaxed(&p->ctl->head);
	/* Pairs with the consumer's release of tail in lfq_spsc_release(). */
	p->cached_tail = lfq_load_acquire(&p->peer->tail);
}

/**
 * lfq_spsc_cons_init() - bind a consumer handle to a ring.
 * @c:		the handle.
 * @base:	start of the mapping.
 * @h:		a validated private copy of the header.
 *
 * Resumes at the consumer index found in the ring.
 */
static inline void lfq_spsc_cons_init(struct lfq_spsc_cons *c, void *base,
				      const struct lfq_ring_hdr *h)
{
	unsigned char *b = (unsigned char *)base;

	c->ctl = (struct lfq_cons_ctl *)(b + h->cons_offset);
	c->peer = (const struct lfq_prod_ctl *)(b + h->prod_offset);
	c->data = b + h->data_offset;
	c->slot_size = h->slot_size;
	c->mask = h->slot_count - 1;
	c->peeked = 0;
	c->tail = lfq_load_relaxed(&c->ctl->tail);
	/* Pairs with the producer's release of head in lfq_spsc_commit(). */
	c->cached_head = lfq_load_acquire(&c->peer->head);
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
		/* Pairs with the consumer's release of tail: the slots it
		 * freed are no longer being read when we overwrite them.
		 */
		p->cached_tail = lfq_load_acquire(&p->peer->tail);
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
	/* Pairs with the consumer's acquire of head in lfq_spsc_peek():
	 * the slot contents are visible before the index that covers them.
	 */
	lfq_store_release(&p->ctl->head, lfq_spsc_advance_head(p, n));
}

/**
 * lfq_spsc_commit_check() - publish @n reserved slots; report a sleeper.
 * @p:		producer handle.
 * @n:		slots to publish (clamped to the last reservation).
 *
 * Return: true if a consumer announced sleep and must be woken.
 */
static inline int lfq_spsc_commit_check(struct lfq_spsc_prod *p, __u32 n)
{
	/* Release pairs with lfq_spsc_peek()'s acquire of head; the full
	 * barrier pairs with the one in lfq_spsc_arm_data_wait(): either
	 * the waiter sees this head or we see its need_data.
	 */
	lfq_store_release_mb(&p->ctl->head, lfq_spsc_advance_head(p, n));
	return lfq_load_after_mb(&p->peer->need_data) != 0;
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
		/* Pairs with the producer's release of head: the slots it
		 * covers were fully written before we read them.
		 */
		c->cached_head = lfq_load_acquire(&c->peer->head);
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
	/* Pairs with the producer's acquire of tail in lfq_spsc_reserve():
	 * our reads of these slots are done before they can be rewritten.
	 */
	lfq_store_release(&c->ctl->tail, lfq_spsc_advance_tail(c, n));
}

/**
 * lfq_spsc_release_check() - give @n peeked slots back; report a sleeper.
 * @c:		consumer handle.
 * @n:		slots to release (clamped to the last peek).
 *
 * Return: true if a producer announced sleep and must be woken.
 */
static inline int lfq_spsc_release_check(struct lfq_spsc_cons *c, __u32 n)
{
	/* Release pairs with lfq_spsc_reserve()'s acquire of tail; the full
	 * barrier pairs with the one in lfq_spsc_arm_space_wait().
	 */
	lfq_store_release_mb(&c->ctl->tail, lfq_spsc_advance_tail(c, n));
	return lfq_load_after_mb(&c->peer->need_space) != 0;
}

/**
 * lfq_spsc_arm_data_wait() - announce a consumer is about to sleep.
 * @prod:	the shared producer page.
 * @cons:	the shared consumer page.
 * @slot_count:	slots in the ring.
 *
 * Sets need_data, then re-reads the indices. The caller sleeps only if the
 * returned count is still too small; any commit after this point sees the
 * flag and wakes it.
 *
 * Return: readable slots, in [0, slot_count].
 */
static inline __u32 lfq_spsc_arm_data_wait(struct lfq_prod_ctl *prod,
					   struct lfq_cons_ctl *cons,
					   __u32 slot_count)
{
	/* Full barrier pairs with the one in lfq_spsc_commit_check(). */
	lfq_store_release_mb(&cons->need_data, 1);
	return lfq_ring_count(lfq_load_after_mb(&prod->head),
			      lfq_load_relaxed(&cons->tail), slot_count);
}

/**
 * lfq_spsc_arm_space_wait() - announce a producer is about to sleep.
 * @prod:	the shared producer page.
 * @cons:	the shared consumer page.
 * @slot_count:	slots in the ring.
 *
 * Return: free slots, in [0, slot_count].
 */
static inline __u32 lfq_spsc_arm_space_wait(struct lfq_prod_ctl *prod,
					    struct lfq_cons_ctl *cons,
					    __u32 slot_count)
{
	/* Full barrier pairs with the one in lfq_spsc_release_check(). */
	lfq_store_release_mb(&prod->need_space, 1);
	return slot_count - lfq_ring_count(lfq_load_relaxed(&prod->head),
					   lfq_load_after_mb(&cons->tail),
					   slot_count);
}

/**
 * lfq_spsc_readable() - readable slots, for poll and statistics.
 * @prod:	the shared producer page.
 * @cons:	the shared consumer page.
 * @slot_count:	slots in the ring.
 *
 * Return: slots committed and not consumed, in [0, slot_count].
 */
static inline __u32 lfq_spsc_readable(const struct lfq_prod_ctl *prod,
				      const struct lfq_cons_ctl *cons,
				      __u32 slot_count)
{
	/* Pairs with the producer's release of head in lfq_spsc_commit(). */
	return lfq_ring_count(lfq_load_acquire(&prod->head),
			      lfq_load_relaxed(&cons->tail), slot_count);
}

#endif /* _LFQ_PROTO_SPSC_H */
