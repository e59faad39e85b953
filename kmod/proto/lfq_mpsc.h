/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * lfq_mpsc.h - the multi-producer single-consumer ring protocol, written
 * once for the kernel and for liblfq (see lfq_atomic.h for the shim).
 * Modelled in tests/model/mpsc.pml.
 *
 * Producers reserve slots by compare-and-swap on the shared head (no lock
 * anywhere), write them, and commit each slot by storing its index + 1
 * into the slot's commit word, in any order relative to other producers.
 * The consumer takes slots in index order and stops at the first slot
 * whose commit word does not hold exactly its own index + 1: the value is
 * different on every lap, so commit words are never reset. A producer
 * that gives up a reservation commits it as discarded (the same value
 * with LFQ_MPSC_DISCARDED set) and the consumer skips it and counts it.
 *
 * Nothing read from shared memory is trusted: counts derived from the
 * indices are clamped to [0, slot_count], offsets are "index & mask", and
 * a commit word is only ever compared for equality, so garbage written by
 * a hostile process stalls or drops its own records but never makes
 * anyone touch memory outside the ring. No slot is written before its
 * previous lap is published (lfq_mpsc_lap_free()), so a consumer that
 * forges its tail cannot make two producers write one slot.
 *
 * Crash safety: a producer that has a claim record (struct lfq_mpsc_claim,
 * registered with the kernel) writes the range it is about to reserve
 * into it before the compare-and-swap that takes the range, so every slot
 * below head is either committed, or covered by the claim of the producer
 * holding it, or held by a producer without a claim. When a producer dies,
 * the kernel discards the reserved slots that are in neither of the first
 * two states and not claimed by a live producer (lfq_claims.c). Modelled
 * in tests/model/claims.pml.
 *
 * Wakeups use the Dekker handshake of lfq_common.h: the consumer arms
 * need_data, full barrier, re-reads the commit word at its tail; a
 * producer stores its commit words, full barrier, reads need_data. On an
 * asymmetric queue the producer's barrier is a compiler barrier and the
 * consumer adds the heavy fence before re-reading (ORDERING wake-asym).
 * Every ordering used here is listed in lfq_rules.h (ORDERING mpsc-*,
 * claim, wake-*); shared values follow HOSTILE MEMORY H1-H6.
 */
#ifndef _LFQ_PROTO_MPSC_H
#define _LFQ_PROTO_MPSC_H

#include "lfq_common.h"

/* Set in a commit word: the slot was given up, not written. */
#define LFQ_MPSC_DISCARDED	0x8000000000000000ull	/* bit 63 */

/**
 * struct lfq_mpsc_prod - a producer's view of a ring (private memory), one
 * per producing thread or CPU: it caches the consumer's index.
 * @head_w:	the shared head, the reservation counter.
 * @tail_w:	the shared consumer index (read only).
 * @sleeps:	the consumer's need_data flag (read only).
 * @full_events: the shared count of full rings.
 * @commit:	the shared commit words, one per slot.
 * @release:	an MPMC ring's release words (lfq_mpmc.h); NULL for MPSC.
 * @data:	first copy of the slot area.
 * @claim:	this producer's claim record, or NULL if it has none (a
 *		queue in process memory, which no kernel watches).
 * @cached_tail: last consumer index read; may lag, which only makes the
 *		ring look fuller than it is until the next reload.
 * @base:	an elastic segment's first index (lfq_mpsc_lap_free()).
 * @slot_size:	bytes per slot.
 * @mask:	slot_count - 1.
 * @segment:	the ring is an elastic segment.
 * @max_tries:	compare-and-swap attempts before a reservation gives up as
 *		if the ring were full; 0 for no limit. The kernel sets one
 *		(HOSTILE MEMORY H5): head lives in a user-writable page, and
 *		a process rewriting it in a loop must not hold a kernel
 *		producer (perhaps in hardirq or NMI context) here forever.
 * @light:	publish with the light half of the asymmetric handshake
 *		(struct lfq_ring_loc.light).
 *
 * lfq_mpsc_prod_init() builds it; @claim and @max_tries are then set by
 * those who need them (lfq_mpsc_prod_set_claim(), _set_max_tries()).
 */
struct lfq_mpsc_prod {
	__u64 *head_w;
	const __u64 *tail_w;
	const __u32 *sleeps;
	__u64 *full_events;
	__u64 *commit;
	const __u64 *release;
	unsigned char *data;
	struct lfq_mpsc_claim *claim;
	__u64 cached_tail;
	__u64 base;
	__u32 slot_size;
	__u32 mask;
	__u32 segment;
	__u32 max_tries;
	__u32 light;
};

/**
 * struct lfq_mpsc_resv - one reservation, held by the producer that made it.
 * @index:	index of the first slot.
 * @count:	slots reserved.
 * @claim:	kernel producers: the kernel claim record held until the
 *		reservation is committed or discarded (lfq_kapi.c).
 * @seg:	kernel producers on an elastic queue: the segment reserved
 *		in (kmod/core/lfq_seg.c).
 */
struct lfq_mpsc_resv {
	__u64 index;
	__u32 count;
	__u32 claim;
	void *seg;
};

/**
 * struct lfq_mpsc_cons - the consumer's handle (private memory).
 * @tail_w:	the shared consumer index.
 * @head_w:	the shared head (read only: an elastic segment's seal).
 * @sleeps:	the producers' need_space flag (read only).
 * @empty_events: the shared count of empty rings.
 * @commit:	the shared commit words.
 * @data:	first copy of the slot area.
 * @tail:	private copy of ctl->tail, discarded slots already skipped.
 * @peeked:	slots handed out by the last peek.
 * @light:	publish with the light half of the asymmetric handshake
 *		(struct lfq_ring_loc.light).
 * @discarded:	discarded slots skipped so far.
 * @slot_size:	bytes per slot.
 * @mask:	slot_count - 1.
 */
struct lfq_mpsc_cons {
	__u64 *tail_w;
	const __u64 *head_w;
	const __u32 *sleeps;
	__u64 *empty_events;
	const __u64 *commit;
	const unsigned char *data;
	__u64 tail;
	__u32 peeked;
	__u32 light;
	__u64 discarded;
	__u32 slot_size;
	__u32 mask;
};

/**
 * lfq_mpsc_prod_init() - bind a producer view to a ring; the one way to
 * build one (kernel, liblfq and tests alike).
 * @p:		the view.
 * @r:		the ring's location.
 *
 * The view starts without a claim and with no limit on its tries.
 */
static inline void lfq_mpsc_prod_init(struct lfq_mpsc_prod *p,
				      const struct lfq_ring_loc *r)
{
	p->head_w = r->head;
	p->tail_w = r->tail;
	p->sleeps = r->need_data;
	p->full_events = &r->prod->full_events;
	p->commit = r->commit;
	p->release = r->release;
	p->data = r->data;
	p->base = r->base;
	p->slot_size = r->slot_size;
	p->mask = r->slot_count - 1;
	p->segment = r->segment;
	p->max_tries = 0;
	p->light = r->light;
	p->claim = (struct lfq_mpsc_claim *)0;
	/* ORDERING mpsc-tail. */
	p->cached_tail = lfq_load_acquire(p->tail_w);
}

/**
 * lfq_mpsc_prod_set_claim() - give a producer view its claim record.
 * @p:		the view.
 * @claim:	the claim (registered with the kernel), or NULL for none.
 */
static inline void lfq_mpsc_prod_set_claim(struct lfq_mpsc_prod *p,
					   struct lfq_mpsc_claim *claim)
{
	p->claim = claim;
}

/**
 * lfq_mpsc_prod_set_max_tries() - bound a producer view's CAS attempts.
 * @p:		the view.
 * @tries:	attempts per reservation; 0 for no limit.
 */
static inline void lfq_mpsc_prod_set_max_tries(struct lfq_mpsc_prod *p,
					       __u32 tries)
{
	p->max_tries = tries;
}

/**
 * lfq_mpsc_cons_init() - bind the consumer handle to a ring; the one way
 * to build one.
 * @c:		the handle.
 * @r:		the ring's location.
 *
 * Resumes at the consumer index found in the ring.
 */
static inline void lfq_mpsc_cons_init(struct lfq_mpsc_cons *c,
				      const struct lfq_ring_loc *r)
{
	c->tail_w = r->tail;
	c->head_w = r->head;
	c->sleeps = r->need_space;
	c->empty_events = &r->cons->empty_events;
	c->commit = r->commit;
	c->data = r->data;
	c->slot_size = r->slot_size;
	c->mask = r->slot_count - 1;
	c->light = r->light;
	c->peeked = 0;
	c->discarded = 0;
	c->tail = lfq_load_relaxed(c->tail_w);
}

/**
 * lfq_mpsc_outstanding() - whether index @i is neither committed nor
 * discarded, going by its slot's commit word.
 * @v:		the commit word of slot (@i & mask), as read.
 * @i:		a slot index the reader knows was reserved.
 *
 * The word names the last index written to its slot: @i itself (done), a
 * later lap's (@i was consumed and the slot reused: done), or an earlier
 * one (@i is outstanding; so is an MPMC slot's mark of @i being
 * written, lfq_mpsc_mark()). A reader whose idea of the consumer's position
 * is stale must not take a later lap's word for "not committed".
 */
static inline int lfq_mpsc_outstanding(__u64 v, __u64 i)
{
	return (__s64)(i - ((v & ~LFQ_MPSC_DISCARDED) - 1)) > 0;
}

/**
 * lfq_mpsc_laps_done() - the check of lfq_mpsc_lap_free() on a ring's
 * words as they are, for producers and for waiters (lfq_ready_space()).
 * @commit:	the ring's commit words.
 * @mask:	slot_count - 1.
 * @segment:	the ring is an elastic segment, whose first lap begins at
 *		@base.
 * @base:	see @segment.
 * @head:	the first index to check.
 * @n:		slots to check.
 *
 * Return: the leading slots, 0..@n, whose previous lap is done.
 */
static inline __u32 lfq_mpsc_laps_done(const __u64 *commit, __u32 mask,
				       __u32 segment, __u64 base, __u64 head,
				       __u32 n)
{
	__u64 lap = (__u64)mask + 1, v;
	__u32 k;

	for (k = 0; k < n; k++) {
		if (segment && (__s64)(head + k - lap - base) < 0)
			continue;
		/* ORDERING mpsc-lap. */
		v = lfq_load_acquire(&commit[(head + k) & mask]);
		if (lfq_mpsc_outstanding(v, head + k - lap))
			break;
	}
	return k;
}

/**
 * lfq_mpsc_lap_free() - how many of @n slots from index @head are done
 * with their previous lap.
 * @p:		producer view.
 * @head:	the first index of the reservation about to be made.
 * @n:		slots the consumer's tail allows, at most slot_count.
 *
 * The slot of index i held index i - slot_count a lap before; that record
 * must be committed or discarded before anyone writes i. An honest
 * consumer releases only such slots, so with an honest tail this never
 * limits anything. A consumer that moves its tail past records still
 * being written (the CVE-2024-41009 class) would otherwise have a
 * producer write a slot another producer is writing: that slot reads as
 * full until its writer publishes it. A commit word thus only ever moves
 * from index i - slot_count to index i, one lap at a time (on an MPMC
 * ring by way of the mark of i being written, lfq_mpsc_mark(), which
 * reads as i outstanding), written by the holder of i (or the orphan
 * scan on its behalf), so a word showing
 * the previous lap done means nobody older is still writing the slot.
 * Modelled in tests/model/lap.pml. In an elastic segment the indices of
 * its first lap have no previous lap in the segment's life (its earlier
 * lives were drained before it was reused: lfq_segment.h), and their
 * words hold older lives' indices, so only later laps are checked.
 *
 * On an MPMC ring the previous lap must also be released: a consumer may
 * still be reading it (ORDERING mpmc-release; tests/model/mpmc.pml). Its
 * commit word is checked first all the same: release words are written
 * by consumers, and a forged one must not let two producers into a slot.
 *
 * Return: the leading slots, 0..@n, whose previous lap is done.
 */
static inline __u32 lfq_mpsc_lap_free(const struct lfq_mpsc_prod *p,
				      __u64 head, __u32 n)
{
	n = lfq_mpsc_laps_done(p->commit, p->mask, p->segment, p->base,
			       head, n);
	if (p->release)
		n = lfq_mpsc_laps_done(p->release, p->mask, p->segment,
				       p->base, head, n);
	return n;
}

/*
 * A reservation failed: empty the claim, which may still name the range
 * of a compare-and-swap another producer won. Left as it was, it would
 * cover that producer's slots; were that one to die, the orphan scan
 * would wait for us, and we for space (ORDERING claim: a release, as the
 * claim's other stores). Return: NULL, for the caller to return.
 */
static inline void *lfq_mpsc_unclaim(struct lfq_mpsc_prod *p)
{
	if (p->claim)
		lfq_claim_empty(p->claim, 0);
	return (void *)0;
}

/*
 * MPMC: mark the slots of a reservation as being written, before any of
 * their data is. The commit word of index i goes from the previous lap's
 * index + 1 to i: what index i - 1 committed would read, and index i - 1
 * lives in another slot (slot_count >= 2), so no reader takes the mark
 * for a commit. lfq_mpsc_outstanding() reads it as i outstanding and the
 * previous lap done, as any older reader does, on every lap the first
 * included. A consumer still reading the previous lap, which a forged
 * release word let us in on, then finds its record changed
 * (lfq_mpmc_torn()) instead of taking a mix of two laps for a record.
 * Modelled in tests/model/mpmc_torn.pml.
 */
static inline void lfq_mpsc_mark(struct lfq_mpsc_prod *p, __u64 head,
				 __u32 n)
{
	__u64 i;

	for (i = head; i != head + n; i++)
		lfq_store_relaxed(&p->commit[i & p->mask], i);
	/*
	 * ORDERING mpmc-torn: the marks before the caller's data stores;
	 * pairs with the smp_rmb() of lfq_mpmc_torn().
	 */
	lfq_smp_wmb();
}

/**
 * lfq_mpsc_reserve() - reserve up to @want consecutive slots.
 * @p:		producer view.
 * @want:	slots wanted, at least 1.
 * @r:		the reservation made (count 0 when the ring is full).
 *
 * Lock-free: a failed compare-and-swap means another producer reserved,
 * and the loop retries with the head it saw.
 *
 * Return: the first slot of a contiguous span of @r->count slots, or NULL
 * if the ring is full.
 */
static inline void *lfq_mpsc_reserve(struct lfq_mpsc_prod *p, __u32 want,
				     struct lfq_mpsc_resv *r)
{
	__u32 size = p->mask + 1, tries = 0;
	__u64 head = lfq_load_relaxed(p->head_w);
	__u32 n;

	for (;;) {
		n = size - lfq_ring_count(head, p->cached_tail, size);
		if (n < want) {
			/* ORDERING mpsc-tail: freed slots are not read. */
			p->cached_tail = lfq_load_acquire(p->tail_w);
			/* Our head may be older than that tail (others
			 * reserved, committed and were consumed meanwhile):
			 * re-read it, or the ring would look full. The tail
			 * acquire orders this load after their head updates.
			 */
			head = lfq_load_relaxed(p->head_w);
			n = size - lfq_ring_count(head, p->cached_tail, size);
		}
		if (n > want)
			n = want;
		n = lfq_mpsc_lap_free(p, head, n);
		if (lfq_unlikely(!n)) {
			r->count = 0;
			return lfq_mpsc_unclaim(p);
		}
		if (p->claim) {
			/* ORDERING claim: claim [head, head + n) before
			 * taking it; our earlier commit words are visible
			 * before a claim that no longer covers them.
			 */
			lfq_claim_set(p->claim, head, head + n);
			/* ORDERING claim: fully ordered, so whoever sees
			 * head move past these slots sees the claim.
			 */
			if (lfq_try_cmpxchg_full(p->head_w, &head, head + n))
				break;
		} else if (lfq_try_cmpxchg_relaxed(p->head_w, &head,
						   head + n)) {
			/* Relaxed: ORDERING mpsc-tail, mpsc-commit. */
			break;
		}
		if (lfq_unlikely(++tries == p->max_tries)) {
			r->count = 0;
			return lfq_mpsc_unclaim(p);
		}
	}
	if (p->release)
		lfq_mpsc_mark(p, head, n);
	r->index = head;
	r->count = n;
	return p->data + (__u64)(head & p->mask) * p->slot_size;
}

/* Store the commit word of every slot of @r, @flag or'ed in. */
static inline void lfq_mpsc_publish(struct lfq_mpsc_prod *p,
				    const struct lfq_mpsc_resv *r, __u64 flag)
{
	__u64 i;

	/* ORDERING mpsc-commit, for each slot. */
	for (i = r->index; i != r->index + r->count; i++)
		lfq_store_release(&p->commit[i & p->mask], (i + 1) | flag);
}

/**
 * lfq_mpsc_commit() - publish a reservation; report a sleeping consumer.
 * @p:		producer view.
 * @r:		a reservation from lfq_mpsc_reserve(), all of it written.
 *
 * Return: true if the consumer announced sleep and must be woken: on any
 * flag, whatever count it waits for (ORDERING wake-threshold: with
 * commits out of order, no producer knows how many slots are ready).
 */
static inline int lfq_mpsc_commit(struct lfq_mpsc_prod *p,
				  const struct lfq_mpsc_resv *r)
{
	lfq_mpsc_publish(p, r, 0);
	/* ORDERING wake-data. */
	return lfq_wake_flag(p->sleeps, p->light) != 0;
}

/**
 * lfq_mpsc_discard() - give a reservation up; the consumer skips it.
 * @p:		producer view.
 * @r:		a reservation from lfq_mpsc_reserve().
 *
 * Return: as lfq_mpsc_commit(): the consumer may be waiting on these slots.
 */
static inline int lfq_mpsc_discard(struct lfq_mpsc_prod *p,
				   const struct lfq_mpsc_resv *r)
{
	lfq_mpsc_publish(p, r, LFQ_MPSC_DISCARDED);
	/* ORDERING wake-data. */
	return lfq_wake_flag(p->sleeps, p->light) != 0;
}

/* The state of the commit word of index @i: 1 committed, -1 discarded. */
static inline int lfq_mpsc_slot_state(const __u64 *commit, __u32 mask,
				      __u64 i)
{
	/* ORDERING mpsc-commit. */
	__u64 v = lfq_load_acquire(&commit[i & mask]);

	if (v == i + 1)
		return 1;
	if (v == ((i + 1) | LFQ_MPSC_DISCARDED))
		return -1;
	return 0;
}

/**
 * lfq_mpsc_claimed() - whether a claim's range covers index @i.
 * @start:	the claim's start, as read.
 * @end:	the claim's end, as read.
 * @i:		a slot index.
 *
 * Ranges are compared by distance from @start, so they work across the
 * wrap of the 64-bit indices; an empty or reversed range (end before
 * start, as a forged record or one read between its two stores may be)
 * covers nothing.
 */
static inline int lfq_mpsc_claimed(__u64 start, __u64 end, __u64 i)
{
	return (__s64)(end - start) > 0 && i - start < end - start;
}

/*
 * Whether a producer sleeping on @want (the need_space flag as read) must
 * be woken now that tail has moved: ORDERING wake-threshold. Free slots
 * counted against a relaxed read of head, after the flag's: an old head
 * only makes the count higher (a spurious wakeup, never a lost one).
 */
static inline int lfq_mpsc_space_due(const struct lfq_mpsc_cons *c,
				     __u32 want)
{
	__u64 head;

	if (lfq_likely(!want))
		return 0;
	head = lfq_load_relaxed(c->head_w) & ~LFQ_SEG_SEALED;
	return lfq_wake_due(want, c->mask + 1 -
			    lfq_ring_count(head, c->tail, c->mask + 1),
			    c->mask + 1);
}

/**
 * lfq_mpsc_peek() - look at up to @want consecutive committed slots.
 * @c:		consumer handle.
 * @want:	slots wanted, at least 1.
 * @got:	slots in the span, 0..@want.
 *
 * Discarded slots at the front are skipped (and freed at once); a span
 * ends before the first slot that is not committed.
 *
 * Return: the first slot of the span, or NULL if none is ready.
 */
static inline const void *lfq_mpsc_peek(struct lfq_mpsc_cons *c, __u32 want,
					__u32 *got)
{
	__u32 n = 0, skipped = 0;
	int st;

	if (want > c->mask + 1)
		want = c->mask + 1;
	while (n < want) {
		st = lfq_mpsc_slot_state(c->commit, c->mask, c->tail + n);
		if (st > 0) {
			n++;
		} else if (st < 0 && !n && skipped <= c->mask) {
			/* HOSTILE MEMORY H5: at most a ring's worth. */
			c->tail++;
			skipped++;
		} else {
			break;
		}
	}
	if (skipped) {
		c->discarded += skipped;
		/* ORDERING mpsc-tail. */
		lfq_store_release(c->tail_w, c->tail);
	}
	c->peeked = n;
	*got = n;
	if (!n)
		return (const void *)0;
	return c->data + (__u64)(c->tail & c->mask) * c->slot_size;
}

/**
 * lfq_mpsc_peek_check() - lfq_mpsc_peek(), reporting a sleeping producer.
 * @c:		consumer handle.
 * @want:	slots wanted, at least 1.
 * @got:	slots in the span, 0..@want.
 * @wake:	set true if the peek freed discarded slots and a producer
 *		announced it sleeps for space: the caller must wake it, even
 *		though no slot was handed out (nothing else would).
 *
 * Return: as lfq_mpsc_peek().
 */
static inline const void *lfq_mpsc_peek_check(struct lfq_mpsc_cons *c,
					      __u32 want, __u32 *got,
					      int *wake)
{
	__u64 discarded = c->discarded;
	const void *span = lfq_mpsc_peek(c, want, got);

	*wake = 0;
	/* After peek's release of tail: ORDERING wake-space. */
	if (lfq_unlikely(c->discarded != discarded))
		*wake = lfq_mpsc_space_due(c, lfq_wake_flag(c->sleeps,
							    c->light));
	return span;
}

/**
 * lfq_mpsc_release() - free @n peeked slots.
 * @c:		consumer handle.
 * @n:		slots to free (clamped to the last peek).
 *
 * Return: true if a producer announced it sleeps for space, for no more
 * than the slots now free.
 */
static inline int lfq_mpsc_release(struct lfq_mpsc_cons *c, __u32 n)
{
	if (n > c->peeked)
		n = c->peeked;
	c->peeked = 0;
	c->tail += n;
	/* ORDERING mpsc-tail, wake-space. */
	return lfq_mpsc_space_due(c, lfq_publish_index(c->tail_w, c->tail,
						       c->sleeps, c->light));
}

/**
 * lfq_mpsc_ready() - committed or discarded slots in order from @tail.
 * @commit:	the shared commit words.
 * @mask:	slot_count - 1.
 * @tail:	where the consumer stands.
 * @max:	stop counting there (a wait's min_count).
 *
 * Return: ready slots, 0..@max.
 */
static inline __u32 lfq_mpsc_ready(const __u64 *commit, __u32 mask,
				   __u64 tail, __u32 max)
{
	__u32 n = 0;

	while (n < max && lfq_mpsc_slot_state(commit, mask, tail + n))
		n++;
	return n;
}

/**
 * lfq_mpsc_arm_data_wait() - announce the consumer is about to sleep.
 * @r:		the ring.
 * @max:	count up to this many ready slots.
 * @want:	the count the consumer waits for (lfq_arm_flag()).
 *
 * Return: ready slots after arming, 0..@max; sleep only if too few.
 */
static inline __u32 lfq_mpsc_arm_data_wait(const struct lfq_ring_loc *r,
					   __u32 max, __u32 want)
{
	/* ORDERING wake-data: lfq_arm_flag()'s fence against the producers'
	 * fence, so plain loads of the commit words suffice.
	 */
	lfq_arm_flag(r->need_data, want);
	return lfq_mpsc_ready(r->commit, r->slot_count - 1,
			      lfq_load_relaxed(r->tail), max);
}

#endif /* _LFQ_PROTO_MPSC_H */
