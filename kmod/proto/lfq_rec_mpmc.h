/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * lfq_rec_mpmc.h - the record ring shared by many consumers: records
 * taken by compare-and-swap of a shared claim index and released in any
 * order, the release boundary (the ring's tail, which producers reserve
 * below) carried over released records by whoever finds them at it.
 * Written once for the kernel and for liblfq (lfq_atomic.h); the design
 * is docs/RECORDS.md's "Many consumers", modelled in
 * tests/model/rec_mpmc.pml and tested with threads on bare rings in
 * tests/host/rec_mpmc_mt.c. Producers are lfq_rec.h's, unchanged.
 *
 * An MPMC record queue (LFQ_TYPE_MPMC with LFQ_CREATE_RECORDS) uses it:
 * the claim index is lfq_cons_ctl.rec_claim, the tail lfq_cons_ctl.tail.
 *
 * Crash safety: a consumer with a claim record (lfq_rec_mcons_set_claim())
 * writes the record it is about to take into it before the
 * compare-and-swap that takes it (ORDERING claim), and empties it when a
 * take ends with nothing. When it dies, the kernel finishes the release
 * of the record its claim names if no live claim covers it
 * (lfq_rec_mpmc_recover()): the record is lost, not redelivered.
 *
 * A consumer takes the record at claim if its header is one of claim's
 * lap, committed or discarded, not released, with a length within the
 * ring's limit: the compare-and-swap of claim past it gives it to one
 * consumer (ORDERING rec-mpmc-claim). It releases it by zeroing its
 * payload, then marking its header LFQ_REC_RELEASED (ORDERING
 * rec-mpmc-release), then a full barrier and the advance: while the
 * header at tail is a released header of tail's lap, compare-and-swap
 * tail past it (ORDERING rec-mpmc-advance: the mark and the advance's
 * load of tail against another releaser's compare-and-swap of tail and
 * its load of the header; one of the two carries tail on). Headers stay
 * as they are once passed, with their mark, as in lfq_rec.h.
 *
 * A record whose bytes producers reused while its consumer read it (a
 * hostile consumer forged tail or a release mark) is found by
 * lfq_rec_mpmc_intact() and dropped by the release, which then writes
 * nothing. A hostile consumer can still scribble over a record another
 * holds itself (consumers write the data area) or move claim back so
 * that a record is taken twice: neither moves head, neither is found.
 * That is the limit of what a consumer that shares the ring's pages
 * with hostile ones can be told.
 *
 * Nothing read from shared memory is trusted (HOSTILE MEMORY H1-H5): a
 * header's length is checked against the limit before it is used (the
 * double mapping covers a record of the limit wherever it starts), tail
 * is never moved past claim, and the advance is bounded (claim read
 * once); a forged word can stall the ring (counted in @corrupt where a
 * consumer sees it) but never move a read or a zeroing outside the
 * double mapping. A take bounds its compare-and-swaps only with
 * @max_tries.
 */
#ifndef _LFQ_PROTO_REC_MPMC_H
#define _LFQ_PROTO_REC_MPMC_H

#include "lfq_mpsc.h"
#include "lfq_rec.h"

/**
 * struct lfq_rec_mcons - one consumer's view of a record ring shared by
 * many consumers (private memory).
 * @ring:	the ring; @ring.tail is the release boundary.
 * @claim_w:	the shared claim index.
 * @claim:	this consumer's claim record (crash safety), or NULL.
 * @pos:	the record taken: its header's byte index.
 * @held:	its bytes (0: none taken), what the release gives back (a
 *		quarter of the ring at most, LFQ_DATA_BYTES_MAX / 4).
 * @hdr:	its header as taken, what the release marks.
 * @max_len:	the largest payload.
 * @order:	log2 of the ring's size, for the lap bits.
 * @max_tries:	compare-and-swap attempts of a take before it gives up as
 *		if the ring were empty; 0 for no limit (a kernel consumer
 *		sets one, HOSTILE MEMORY H5).
 * @discarded:	discarded records this consumer took and released.
 * @corrupt:	times a forged header at claim stopped it.
 * @wake:	an advance found producers asleep for space: the caller
 *		wakes them and clears it.
 *
 * The counters are 32 bits and the flags 8: an in-kernel consumer's view
 * is one of struct lfq_consumer's, whose size is on the stack.
 */
struct lfq_rec_mcons {
	struct lfq_rec_ring ring;
	__u64 *claim_w;
	struct lfq_mpsc_claim *claim;
	__u64 pos;
	__u64 hdr;
	__u32 held;
	__u32 max_len;
	__u32 max_tries;
	__u32 discarded;
	__u32 corrupt;
	__u8 order;
	__u8 wake;
};

/*
 * The header word at @pos, read where @pos (a claim or tail read before)
 * may already be passed: a producer of the next lap may be writing its
 * payload there. Such a value is never used: the compare-and-swap from
 * @pos fails (64-bit indices do not repeat). Named so that
 * ThreadSanitizer's suppression of that race names only this read
 * (tests/host/tsan.supp). An acquire (ORDERING rec-commit,
 * rec-mpmc-release) that stays after the caller's full barrier or
 * compare-and-swap (rec-mpmc-advance: in C11 a seq_cst CAS followed by
 * an acquire load is no store-load barrier, on POWER for one).
 */
static inline __u64 lfq_rec_mpmc_read_hdr(const struct lfq_rec_ring *r,
					  __u64 pos)
{
	return lfq_load_acquire_after_mb(lfq_rec_hdr(r, pos));
}

/**
 * lfq_rec_mcons_init() - bind a consumer view to a ring and its claim
 * index.
 * @c:		the view.
 * @r:		the ring.
 * @claim_w:	the shared claim index.
 *
 * The view has no claim record until lfq_rec_mcons_set_claim().
 */
static inline void lfq_rec_mcons_init(struct lfq_rec_mcons *c,
				      const struct lfq_rec_ring *r,
				      __u64 *claim_w)
{
	c->ring = *r;
	c->claim_w = claim_w;
	c->claim = (struct lfq_mpsc_claim *)0;
	c->pos = 0;
	c->held = 0;
	c->hdr = 0;
	c->max_len = lfq_rec_max_len(r->size);
	c->order = (__u8)lfq_rec_order(r->size);
	c->max_tries = 0;
	c->discarded = 0;
	c->corrupt = 0;
	c->wake = 0;
}

/**
 * lfq_rec_mcons_set_claim() - give a consumer view its claim record.
 * @c:		the view.
 * @claim:	the record (user-writable: the kernel only compares what it
 *		reads there), or NULL for none.
 */
static inline void lfq_rec_mcons_set_claim(struct lfq_rec_mcons *c,
					   struct lfq_mpsc_claim *claim)
{
	c->claim = claim;
}

/*
 * Take [@pos, @pos + @need) by compare-and-swap of claim; on failure @pos
 * is the index found. ORDERING rec-mpmc-claim, and claim for a consumer
 * with a record: the range is visible before the CAS that takes it.
 */
static inline int lfq_rec_mpmc_cas(struct lfq_rec_mcons *c, __u64 *pos,
				   __u64 need)
{
	if (c->claim)
		lfq_claim_set(c->claim, *pos, *pos + need);
	return lfq_try_cmpxchg_full(c->claim_w, pos, *pos + need);
}

/* A take that ends with nothing: the claim record covers nothing either. */
static inline const void *lfq_rec_mpmc_none(struct lfq_rec_mcons *c)
{
	/*
	 * ORDERING claim: pairs with lfq_rec_mpmc_recover()'s caller's
	 * acquire of the record; an empty one stops covering another's.
	 */
	if (c->claim)
		lfq_claim_empty(c->claim, 0);
	return (const void *)0;
}

/**
 * lfq_rec_mpmc_advance() - carry the release boundary (tail) over the
 * released records at it, whoever released them.
 * @c:		a consumer view (or the kernel's, finishing a dead one's).
 *
 * Called after a full barrier that follows the caller's own mark
 * (lfq_rec_mpmc_finish()), and from a take that found nothing (which
 * repairs an advance a consumer never made: it died after its mark).
 * Claim is read once, first: tail is carried no further than that, so
 * each successful compare-and-swap moves tail by a record (16 bytes at
 * least) towards a bound at most a ring ahead, whatever a hostile
 * process writes into claim meanwhile; failures (another advancer, or a
 * hostile writer of tail) are bounded by a ring's worth of words (HOSTILE
 * MEMORY H5: the kernel runs it). A record taken after that read is
 * released by a consumer that runs its own advance after its mark, so
 * the bound leaves nothing behind (tests/model/rec_mpmc.pml).
 */
static inline void lfq_rec_mpmc_advance(struct lfq_rec_mcons *c)
{
	__u64 t, h, need, claim, fails = 0;
	int st;

	/*
	 * HOSTILE MEMORY: never past what consumers took, read once. Only
	 * compared; the acquire pairs with the takers' CAS of claim.
	 */
	claim = lfq_load_acquire(c->claim_w);
	/* ORDERING rec-mpmc-advance: the tail others carried on. */
	t = lfq_load_acquire(c->ring.tail);
	while (fails < c->ring.size / 8) {
		/* HOSTILE MEMORY: records start 8-aligned. */
		if (t & 7)
			return;
		/*
		 * ORDERING rec-mpmc-release (the zeroing is visible before
		 * the mark lets tail pass it), and rec-mpmc-advance (after
		 * the caller's smp_mb() or our compare-and-swap, a full
		 * barrier before this load).
		 */
		h = lfq_rec_mpmc_read_hdr(&c->ring, t);
		st = lfq_rec_hdr_state(h, t, c->order, c->max_len);
		/*
		 * A forged header stops it; counted by the take that meets
		 * it at claim (tail never passes claim), not twice here.
		 */
		if (st <= 0 || !(h & LFQ_REC_RELEASED))
			return;
		need = lfq_rec_size((__u32)(h & LFQ_REC_LEN_MASK));
		if (claim - t < need || claim - t > c->ring.size)
			return;
		/*
		 * ORDERING rec-mpmc-advance, rec-release: fully ordered, the
		 * zeroing before producers reserve the bytes.
		 */
		if (!lfq_try_cmpxchg_full(c->ring.tail, &t, t + need)) {
			fails++;
			/* ORDERING rec-mpmc-advance: pairs with the CAS that moved tail. */
			t = lfq_load_acquire(c->ring.tail);
			continue;
		}
		t += need;
		/*
		 * Producers asleep for space: the CAS was the barrier. Any
		 * flag wakes them (a spurious wakeup at worst, never a lost
		 * one: no threshold is computed here).
		 */
		if (c->ring.need_space &&
		    lfq_load_after_mb(c->ring.need_space))
			c->wake = 1;
	}
}

/*
 * Release the record of @need bytes at @pos whose header was @h: zero
 * its payload, mark it released, and carry tail on.
 */
static inline void lfq_rec_mpmc_finish(struct lfq_rec_mcons *c, __u64 pos,
				       __u64 need, __u64 h)
{
	unsigned char *b = c->ring.data + (pos & (c->ring.size - 1));

	lfq_rec_zero(b, need);
	/* ORDERING rec-mpmc-release: the zeroing before the mark. */
	lfq_store_release((__u64 *)b, h | LFQ_REC_RELEASED);
	/* ORDERING rec-mpmc-advance: the mark before the load of tail. */
	lfq_smp_mb();
	lfq_rec_mpmc_advance(c);
}

/**
 * lfq_rec_mpmc_take() - take the next committed record, skipping (and
 * releasing) discarded ones.
 * @c:		consumer view.
 * @len:	set to its payload bytes.
 *
 * The record is this consumer's alone until lfq_rec_mpmc_release()
 * (unless another consumer forges words: lfq_rec_mpmc_intact()); others
 * take the ones after it meanwhile. Called again before that, it
 * returns the same record.
 *
 * Return: its payload (contiguous), or NULL if none is committed at
 * claim, the header there is forged (counted in @c->corrupt), or
 * @c->max_tries compare-and-swaps failed.
 */
static inline const void *lfq_rec_mpmc_take(struct lfq_rec_mcons *c,
					    __u32 *len)
{
	__u64 pos, h, need, now, n = 0;
	__u32 tries = 0;
	int st;

	if (c->held) {
		*len = (__u32)(c->hdr & LFQ_REC_LEN_MASK);
		return c->ring.data + (c->pos & (c->ring.size - 1)) +
		       LFQ_REC_HDR_SIZE;
	}
	/* ORDERING rec-mpmc-claim: the claim another consumer moved. */
	pos = lfq_load_acquire(c->claim_w);
	/* HOSTILE MEMORY: a ring's worth of discarded bytes per call. */
	while (n < c->ring.size) {
		if (pos & 7) {		/* HOSTILE MEMORY: 8-aligned */
			c->corrupt++;
			return lfq_rec_mpmc_none(c);
		}
		/* ORDERING rec-commit: pairs with the producer's header. */
		h = lfq_rec_mpmc_read_hdr(&c->ring, pos);
		st = lfq_rec_hdr_state(h, pos, c->order, c->max_len);
		if (st <= 0 || (h & LFQ_REC_RELEASED)) {
			/* Nothing to take here, unless claim moved on. */
			/* ORDERING rec-mpmc-claim: pairs with the CAS that moved claim. */
			now = lfq_load_acquire(c->claim_w);
			if (now != pos &&
			    (!c->max_tries || ++tries < c->max_tries)) {
				pos = now;
				continue;
			}
			if (now == pos && st)
				c->corrupt++;	/* forged, or released */
			/* Carry on an advance nobody made (a dead releaser). */
			lfq_rec_mpmc_advance(c);
			return lfq_rec_mpmc_none(c);
		}
		need = lfq_rec_size((__u32)(h & LFQ_REC_LEN_MASK));
		/* ORDERING rec-mpmc-claim: one taker. */
		if (!lfq_rec_mpmc_cas(c, &pos, need)) {
			if (c->max_tries && ++tries >= c->max_tries)
				return lfq_rec_mpmc_none(c);
			/* ORDERING rec-mpmc-claim: pairs with the CAS that moved claim. */
			pos = lfq_load_acquire(c->claim_w);
			continue;
		}
		if (h & LFQ_REC_DISCARD) {
			c->discarded++;
			lfq_rec_mpmc_finish(c, pos, need, h);
			n += need;
			/* ORDERING rec-mpmc-claim: pairs with the CAS that moved claim. */
			pos = lfq_load_acquire(c->claim_w);
			continue;
		}
		c->pos = pos;
		c->held = (__u32)need;
		c->hdr = h;
		*len = (__u32)(h & LFQ_REC_LEN_MASK);
		return c->ring.data + (pos & (c->ring.size - 1)) +
		       LFQ_REC_HDR_SIZE;
	}
	return lfq_rec_mpmc_none(c);
}

/**
 * lfq_rec_mpmc_intact() - whether the record this consumer holds is still
 * its own: call it after reading (copying) the record, before using what
 * was read.
 * @c:		consumer view.
 *
 * A consumer that forges tail, or marks another's header released, lets
 * producers reserve over records other consumers still read: a record
 * has no word per byte to mark as lfq_mpmc_torn() does for slots, but its
 * bytes can be written again only at indices a ring further on, which a
 * producer reserves by its compare-and-swap of head first. So the record
 * is intact while head is at most a ring past its start (always, with
 * honest consumers: producers reserve below tail + ring, and tail never
 * passes a record that is not released). Head is in the producer page,
 * which consumers cannot write (ROLES). ORDERING rec-mpmc-torn.
 *
 * Return: 1 if intact (or nothing held), 0 if its bytes may have been
 * reused while it was read: what was read is not the record.
 */
static inline int lfq_rec_mpmc_intact(const struct lfq_rec_mcons *c)
{
	__u64 head;

	if (!c->held)
		return 1;
	/*
	 * ORDERING rec-mpmc-torn: the reads of the record before the load
	 * of head; pairs with the producer's fully ordered compare-and-swap
	 * of head before its writes.
	 */
	lfq_smp_rmb();
	head = lfq_load_relaxed(c->ring.head);
	return head - c->pos <= c->ring.size;
}

/**
 * lfq_rec_mpmc_release() - give the taken record back: zero it, mark it
 * released, and carry the release boundary on over it and the released
 * records after it.
 * @c:		consumer view.
 *
 * A record found torn (lfq_rec_mpmc_intact()) is only dropped: its bytes
 * are a later record's, and tail was already carried past it by whoever
 * forged it; nothing is zeroed or marked.
 *
 * Return: 1 if the record held was torn, else 0.
 */
static inline int lfq_rec_mpmc_release(struct lfq_rec_mcons *c)
{
	int torn = !lfq_rec_mpmc_intact(c);

	if (c->held && !torn)
		lfq_rec_mpmc_finish(c, c->pos, c->held, c->hdr);
	c->held = 0;
	return torn;
}

/**
 * lfq_rec_mpmc_recover() - finish a dead consumer's release of the record
 * its claim names, unless a live claim covers it.
 * @c:		a consumer view of the ring (the kernel's own; no claim).
 * @claim:	the claim index, read with acquire before @live was copied.
 * @dead:	the dead claim's range, as copied when it died (untrusted).
 * @live:	the live claims, copied after @claim was read.
 * @nlive:	entries in @live.
 * @covered:	set to 1 if the record was left because a live claim
 *		covers it: call again later.
 *
 * The record is released if it was taken (claim is past it), tail has not
 * passed it, its header is of its lap, committed, not released, of the
 * length the range says, no live claim covers it, and the header has not
 * changed since the live claims were read. Taken means below @claim, as
 * read before the live claims: a live consumer that holds the record
 * wrote its claim before the compare-and-swap that took it, so before
 * that claim; a claim it wrote since follows its release mark, which
 * the header's second read then shows (ORDERING claim). A later read of
 * claim would not do: a record taken after the copy is covered by no
 * claim in it. Tail read
 * after it and below the record means no lap after the record's was
 * reserved there: the header word is the record's, not a later payload's.
 * Nothing read is trusted (HOSTILE MEMORY H1-H5): the range must be one
 * record, 8-aligned, within a ring below claim; a forged one releases at
 * most a record no honest consumer holds.
 *
 * Return: 1 if it released a committed record (the caller counts it lost;
 * it wakes producers if @c->wake), else 0 (a discarded record released
 * counts nothing).
 */
static inline int lfq_rec_mpmc_recover(struct lfq_rec_mcons *c, __u64 claim,
				       const struct lfq_mpsc_claim *dead,
				       const struct lfq_mpsc_claim *live,
				       __u32 nlive, __u32 *covered)
{
	__u64 start = dead->start, end = dead->end, t, h, h2;
	__u32 k;

	*covered = 0;
	if ((start & 7) || end - start < LFQ_REC_HDR_SIZE + 8 ||
	    end - start > lfq_rec_size(c->max_len))
		return 0;
	if ((__s64)(claim - end) < 0 || claim - start > c->ring.size)
		return 0;		/* not taken, or forged */
	/* ORDERING rec-commit, rec-mpmc-release: the header as it stands. */
	h = lfq_rec_mpmc_read_hdr(&c->ring, start);
	if (lfq_rec_hdr_state(h, start, c->order, c->max_len) <= 0 ||
	    (h & LFQ_REC_RELEASED) ||
	    lfq_rec_size((__u32)(h & LFQ_REC_LEN_MASK)) != end - start)
		return 0;		/* released, a later lap's, or forged */
	/*
	 * ORDERING rec-mpmc-advance: pairs with the CAS that moved tail.
	 * Before the live claims: a passed record is done, whatever a stale
	 * claim of a live consumer still names.
	 */
	t = lfq_load_acquire(c->ring.tail);
	if ((__s64)(start - t) < 0)
		return 0;		/* released and passed */
	for (k = 0; k < nlive; k++)
		if (lfq_mpsc_claimed(live[k].start, live[k].end, start)) {
			*covered = 1;
			return 0;
		}
	/* ORDERING rec-mpmc-release: a release since the live claims read. */
	h2 = lfq_rec_mpmc_read_hdr(&c->ring, start);
	if (h2 != h)
		return 0;
	lfq_rec_zero(c->ring.data + (start & (c->ring.size - 1)), end - start);
	/*
	 * ORDERING rec-mpmc-release: the zeroing before the mark; fully
	 * ordered, so also the barrier before the advance's load of tail
	 * (rec-mpmc-advance). A compare-and-swap: a hostile consumer may
	 * have written the header since.
	 */
	if (!lfq_try_cmpxchg_full(lfq_rec_hdr(&c->ring, start), &h2,
				  h | LFQ_REC_RELEASED))
		return 0;
	lfq_rec_mpmc_advance(c);
	return !(h & LFQ_REC_DISCARD);
}

#endif /* _LFQ_PROTO_REC_MPMC_H */
