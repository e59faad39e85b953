/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * lfq_rec.h - the record ring protocol: records of any size from 1 byte
 * to a limit, one after another in a byte ring, each behind an 8-byte
 * header, for one producer or many (lock-free reservation, commits in
 * any order) and one consumer. Written once for the kernel and for
 * liblfq (see lfq_atomic.h for the shim); modelled in
 * tests/model/records.pml, tested on bare rings in tests/host/rec_mt.c.
 * The protocol of record queues (LFQ_CREATE_RECORDS: a ring of
 * slot_count bytes); docs/RECORDS.md has the design.
 *
 * Layout: a byte area of 2^n bytes, mapped twice back to back so that a
 * record is contiguous wherever it starts; free-running 64-bit byte
 * indices head (producers) and tail (consumer). A record of len bytes
 * takes lfq_rec_size(len) = 8 + len rounded up to 8 bytes from an
 * 8-aligned index: its header, one 64-bit word, then its payload. Its
 * producer commits it by storing, with release, the header: len, with
 * LFQ_REC_DISCARD for a discarded one, and the record's lap (its index
 * divided by the ring's size, truncated to 31 bits) in the upper bits.
 * A header word that does not hold this lap's number (0, or a header
 * left from an earlier lap) means "not committed yet".
 *
 * Why the consumer zeroes what it consumed: a record of the next lap may
 * start anywhere in the bytes of this lap, and from the moment a
 * producer reserves it (MPSC: the compare-and-swap of head) until that
 * producer commits it, its header word must not read as committed; a
 * stale payload word could. So the consumer, on release, zeroes the
 * record's payload words before it publishes tail with release, and a
 * producer reserves only below the tail it read with acquire. Every word
 * then holds 0, or a header of an earlier lap, or what this lap's
 * producer wrote. The consumer leaves header words as they are: the
 * recovery of a dead producer's record (kmod/core/lfq_claims.c) walks the
 * headers from tail, and a header zeroed under it would look like a
 * record not yet committed. (The BPF ring buffer writes its headers
 * under a producer spinlock instead; this protocol reserves lock-free.)
 *
 * Nothing read from shared memory is trusted: a header's length is
 * checked against the ring's limit before it is used, so a forged one
 * can stall the consumer (counted in @corrupt) but never move a read or
 * a zeroing outside the double mapping (HOSTILE MEMORY H1-H5,
 * lfq_rules.h). Orderings: ORDERING rec-commit, rec-release below.
 *
 * Overwrite mode (LFQ_CREATE_OVERWRITE, the flight recorder): a producer
 * that finds the ring full takes the oldest committed record itself, as
 * the consumer would, and goes on. Whoever takes the record at tail owns
 * tail first: a compare-and-swap sets a low bit in it (LFQ_REC_TAIL_RECLAIM
 * for a producer, LFQ_REC_TAIL_HELD for the consumer, from its peek to its
 * release), so one taker only, and only the owner reads the header there:
 * with tail owned it is the oldest record's, never a stale position whose
 * word a newer record's payload fills (a header read at a tail read
 * earlier could be). The producer reads the header; a record committed it
 * zeroes and moves tail past, which ends its ownership (ORDERING
 * rec-reclaim); one still being written it leaves, giving tail back, and
 * fails as on a full ring (a drop), as it does when the consumer holds
 * tail. So a record is consumed or overwritten, never both, never torn,
 * and never overwritten while it is written. A snapshot copies records
 * without taking them and keeps a copy only if, after it, neither the
 * record's header changed nor tail reached it (ORDERING rec-snapshot, a
 * seqlock's read side): the consumer marks what it releases
 * (LFQ_REC_RELEASED) before it zeroes it.
 */
#ifndef _LFQ_PROTO_REC_H
#define _LFQ_PROTO_REC_H

#include "lfq_common.h"

/*
 * The header: the record's length, this flag for a discarded one, and
 * the record's lap from bit LFQ_REC_LAP_SHIFT up (lfq_rec_lap()).
 */
#define LFQ_REC_DISCARD		0x100000000ull	/* bit 32 */
#define LFQ_REC_LEN_MASK	0x3fffffffull
/*
 * A record a consumer released. Overwrite mode: marked before its payload
 * is zeroed (a snapshot drops its copy; the kernel finishes the release
 * of a consumer that died in it). Many consumers (lfq_rec_mpmc.h): marked
 * after the zeroing, and it lets tail pass the record.
 */
#define LFQ_REC_RELEASED	0x40000000ull	/* bit 30 */
#define LFQ_REC_FLAGS		(LFQ_REC_DISCARD | LFQ_REC_RELEASED)

/*
 * Overwrite mode only: the low bits of the shared tail (8-aligned
 * otherwise) say who owns the record at tail.
 */
#define LFQ_REC_TAIL_RECLAIM	1ull	/* a producer overwriting it */
#define LFQ_REC_TAIL_HELD	2ull	/* the consumer, peek to release */
#define LFQ_REC_TAIL_RECOVER	4ull	/* the kernel, checking the owner */
#define LFQ_REC_TAIL_BITS	7ull
#define LFQ_REC_LAP_SHIFT	33
#define LFQ_REC_HDR_SIZE	8u

/*
 * Set in a record producer's claim start (8-aligned, so bit 0 is free)
 * once its compare-and-swap took the range: the recovery then knows the
 * claim names a record of this length, not a range another producer won.
 */
#define LFQ_REC_CLAIM_WON	1ull
/*
 * Set in a producer's claim start (the claim covering the tail) while it
 * overwrites the record at tail: the recovery finishes the overwrite of a
 * producer that died owning tail, and waits for a live one's.
 */
#define LFQ_REC_CLAIM_RECLAIM	2ull
/*
 * Set with the range before the compare-and-swap that tries it (pending:
 * without LFQ_REC_CLAIM_WON), promoted with LFQ_REC_CLAIM_WON once the
 * compare-and-swap took it (lfq_rec_claim_promote()), and taken off
 * (LFQ_REC_CLAIM_WON stays) right before the record's header is
 * published: the kernel's lap guard protects a record while its claim
 * says it is held, and drops the mark of a pending claim a lap behind
 * (whose CAS cannot win honestly). A producer that never sets it (an
 * older liblfq) gets no protection and causes no refusal.
 */
#define LFQ_REC_CLAIM_HELD	4ull
#define LFQ_REC_CLAIM_FLAGS	(LFQ_REC_CLAIM_WON | LFQ_REC_CLAIM_RECLAIM | \
				 LFQ_REC_CLAIM_HELD)

/**
 * lfq_rec_order() - log2 of a ring's size.
 * @size:	a power of two.
 *
 * Return: n with 2^n == @size (63 at most).
 */
static inline __u32 lfq_rec_order(__u64 size)
{
	__u32 n = 0;

	while (n < 63 && (1ull << n) < size)
		n++;
	return n;
}

/**
 * lfq_rec_lap() - the lap bits of a header for the record at @pos.
 * @pos:	the record's byte index.
 * @order:	log2 of the ring's size.
 *
 * Return: (@pos >> @order) << LFQ_REC_LAP_SHIFT: the lap, truncated to
 * the header's 31 upper bits.
 */
static inline __u64 lfq_rec_lap(__u64 pos, __u32 order)
{
	return (pos >> order) << LFQ_REC_LAP_SHIFT;
}

/**
 * lfq_rec_hdr_state() - what a header word read at @pos says.
 * @h:		the word, as read.
 * @pos:	the byte index it was read at.
 * @order:	log2 of the ring's size.
 * @max_len:	the ring's limit (lfq_rec_max_len()).
 *
 * Return: 0 if the record at @pos is not committed (a word of another
 * lap, or 0), 1 if it is (whatever its flags), -1 if the word is of this
 * lap but its length is 0 or beyond @max_len (forged: HOSTILE MEMORY).
 */
static inline int lfq_rec_hdr_state(__u64 h, __u64 pos, __u32 order,
				    __u32 max_len)
{
	__u32 len = (__u32)(h & LFQ_REC_LEN_MASK);

	if (!h || (h & ~(LFQ_REC_LEN_MASK | LFQ_REC_FLAGS)) !=
		  lfq_rec_lap(pos, order))
		return 0;
	return len && len <= max_len ? 1 : -1;
}

/**
 * lfq_rec_size() - bytes a record of @len payload bytes takes in the ring.
 * @len:	payload bytes.
 *
 * Return: 8 for the header plus @len rounded up to a multiple of 8.
 */
static inline __u64 lfq_rec_size(__u32 len)
{
	return LFQ_REC_HDR_SIZE + (((__u64)len + 7) & ~7ull);
}

/**
 * lfq_rec_max_len() - the largest payload a ring of @size bytes takes: a
 * quarter of the ring, less its header, so that several records are in
 * flight and a reservation never needs the whole ring.
 * @size:	the ring's bytes.
 *
 * Return: the limit, a multiple of 8; 0 (no record fits, and every header
 * reads as forged) unless @size is a power of two of at least 64 bytes
 * and at most 2^32 (the limit then fits LFQ_REC_LEN_MASK).
 */
static inline __u32 lfq_rec_max_len(__u64 size)
{
	if (size < 64 || size > (1ull << 32) || (size & (size - 1)))
		return 0;
	return (__u32)(size / 4 - LFQ_REC_HDR_SIZE);
}

/**
 * struct lfq_rec_ring - where one record ring's words are.
 * @head:	the shared head (bytes reserved).
 * @tail:	the shared tail (bytes consumed and zeroed).
 * @data:	the first copy of the byte area.
 * @size:	bytes of one copy (a power of two).
 * @need_data:	the consumer's need-wakeup flag, or NULL (a bare ring:
 *		nobody sleeps, commits report no sleeper).
 * @need_space:	the producers' need-wakeup flag, or NULL.
 * @light:	publish with the light half of the asymmetric handshake
 *		(struct lfq_ring_loc.light).
 * @overwrite:	overwrite mode: producers take the oldest records when
 *		the ring is full (struct lfq_ring_loc.overwrite).
 */
struct lfq_rec_ring {
	__u64 *head;
	__u64 *tail;
	unsigned char *data;
	__u64 size;
	__u32 *need_data;
	__u32 *need_space;
	__u32 light;
	__u32 overwrite;
};

/**
 * lfq_rec_ring_init() - locate a record queue's ring in a mapping.
 * @rr:		filled in.
 * @r:		the queue's location (@r->records set).
 */
static inline void lfq_rec_ring_init(struct lfq_rec_ring *rr,
				     const struct lfq_ring_loc *r)
{
	rr->head = r->head;
	rr->tail = r->tail;
	rr->data = r->data;
	rr->size = r->slot_count;
	rr->need_data = r->need_data;
	rr->need_space = r->need_space;
	rr->light = r->light;
	rr->overwrite = r->overwrite;
}

/**
 * struct lfq_rec_prod - a producer's view (private memory).
 * @ring:	the ring.
 * @head:	SPSC: the producer's own head; MPSC: unused.
 * @multi:	MPSC: reserve by compare-and-swap of the shared head.
 * @max_len:	the largest payload.
 * @max_tries:	MPSC: compare-and-swap attempts before a reservation gives
 *		up as if the ring were full; 0 for no limit (HOSTILE MEMORY
 *		H5: a kernel producer sets one, against a process rewriting
 *		head in a loop).
 * @order:	log2 of the ring's size, for the lap bits.
 * @claim:	MPSC: this producer's claim record (crash safety, as
 *		lfq_mpsc.h's: the range it is about to reserve, written
 *		before the compare-and-swap; and the lap guard's mark,
 *		LFQ_REC_CLAIM_HELD), or NULL for none.
 * @overwritten: overwrite mode: committed records (not discarded ones)
 *		this producer took to make room; the caller adds them to
 *		its statistics and clears it.
 * @zero_left:	overwrite mode: bytes this producer may still zero to make
 *		room, ~0 for no limit (a kernel producer sets one: a ring
 *		of huge records must not be zeroed from an NMI).
 * @lap_guard:	MPSC, or NULL: asked for each head a reservation tries,
 *		once tail shows room, whether the range [start, end) may be
 *		taken; 0 fails the reservation as a full ring does. The
 *		kernel's refuses a range that, a lap on, reaches a record
 *		another producer with a claim is still writing, whatever
 *		tail says (HOSTILE MEMORY H6: a forged tail cannot make two
 *		writers share bytes), and drops the mark of a pending claim
 *		that far behind (lfq_rec_claim_promote()).
 * @guard_ctx:	@lap_guard's first argument.
 */
struct lfq_rec_prod {
	struct lfq_rec_ring ring;
	__u64 head;
	__u32 multi;
	__u32 max_len;
	__u32 max_tries;
	__u32 order;
	struct lfq_mpsc_claim *claim;
	__u64 overwritten;
	__u64 zero_left;
	int (*lap_guard)(void *ctx, __u64 start, __u64 end);
	void *guard_ctx;
};

/**
 * struct lfq_rec_resv - one reserved record, until its commit or discard.
 * @pos:	its byte index (the header's).
 * @len:	its payload bytes.
 */
struct lfq_rec_resv {
	__u64 pos;
	__u32 len;
};

/**
 * struct lfq_rec_cons - the consumer's view (private memory).
 * @ring:	the ring.
 * @tail:	the consumer's own tail: the truth, whatever the page says
 *		(overwrite mode: producers move the shared one; read while
 *		the consumer owns it).
 * @held:	bytes of the record the last peek returned (0: none), what
 *		lfq_rec_release() gives back: never a length read again.
 * @own:	overwrite mode: the consumer owns tail (LFQ_REC_TAIL_HELD).
 * @max_len:	the largest payload.
 * @order:	log2 of the ring's size, for the lap bits.
 * @discarded:	discarded records skipped.
 * @corrupt:	times a forged header stopped it, or cut a run short.
 * @wake:	a release (or a skip of discarded records) found producers
 *		asleep waiting for the space it freed: the caller wakes
 *		them and clears it.
 */
struct lfq_rec_cons {
	struct lfq_rec_ring ring;
	__u64 tail;
	__u64 held;
	__u32 own;
	__u32 max_len;
	__u32 order;
	__u64 discarded;
	__u64 corrupt;
	__u32 wake;
};

/**
 * lfq_rec_prod_init() - bind a producer view to a ring.
 * @p:		the view.
 * @r:		the ring.
 * @multi:	1 for an MPSC ring (many producers), 0 for SPSC.
 */
static inline void lfq_rec_prod_init(struct lfq_rec_prod *p,
				     const struct lfq_rec_ring *r, int multi)
{
	p->ring = *r;
	/* HOSTILE MEMORY: records start 8-aligned, whatever the page says. */
	p->head = lfq_load_relaxed(r->head) & ~7ull;
	p->multi = !!multi;
	p->max_len = lfq_rec_max_len(r->size);
	p->max_tries = 0;
	p->order = lfq_rec_order(r->size);
	p->claim = (struct lfq_mpsc_claim *)0;
	p->overwritten = 0;
	p->zero_left = ~0ull;
	p->lap_guard = (void *)0;
	p->guard_ctx = (void *)0;
}

/**
 * lfq_rec_cons_init() - bind the consumer view to a ring.
 * @c:		the view.
 * @r:		the ring.
 */
static inline void lfq_rec_cons_init(struct lfq_rec_cons *c,
				     const struct lfq_rec_ring *r)
{
	c->ring = *r;
	/* HOSTILE MEMORY: records start 8-aligned, whatever the page says. */
	c->tail = lfq_load_relaxed(r->tail) & ~7ull;
	c->held = 0;
	c->own = 0;
	c->max_len = lfq_rec_max_len(r->size);
	c->order = lfq_rec_order(r->size);
	c->discarded = 0;
	c->corrupt = 0;
	c->wake = 0;
}

/**
 * lfq_rec_cons_rebind() - move the consumer view to another ring (an
 * elastic queue's next segment), keeping its counts.
 * @c:		the view (nothing held).
 * @r:		the ring.
 */
static inline void lfq_rec_cons_rebind(struct lfq_rec_cons *c,
				       const struct lfq_rec_ring *r)
{
	__u64 discarded = c->discarded, corrupt = c->corrupt;

	lfq_rec_cons_init(c, r);
	c->discarded = discarded;
	c->corrupt = corrupt;
}

/* The header word of the record at byte index @pos. */
static inline __u64 *lfq_rec_hdr(const struct lfq_rec_ring *r, __u64 pos)
{
	return (__u64 *)(r->data + (pos & (r->size - 1)));
}

/* The same in a record queue's location (the kernel's recovery walk). */
static inline __u64 *lfq_rec_hdr_at(const struct lfq_ring_loc *r, __u64 pos)
{
	return (__u64 *)(r->data + (pos & ((__u64)r->slot_count - 1)));
}

/* Zero the payload words of @need bytes from @b (whole records). */
static inline void lfq_rec_zero(unsigned char *b, __u64 need)
{
	__u64 i;

	/*
	 * Word by word: the words a later lap's header may land on; marked
	 * stores, as a snapshot may be reading them (it checks afterwards).
	 */
	for (i = LFQ_REC_HDR_SIZE; i < need; i += 8)
		lfq_store_relaxed((__u64 *)(b + i), 0);
}

/*
 * A reservation failed: empty the claim, which may still name the range
 * of a compare-and-swap another producer won. Left as it was, it would
 * cover that producer's record; were that one to die, the recovery would
 * wait for us, and we for space (ORDERING claim: a release, as the claim's
 * other stores). Return: NULL, for the caller to return.
 */
static inline void *lfq_rec_unclaim(struct lfq_rec_prod *p)
{
	if (p->claim)
		lfq_claim_empty(p->claim, LFQ_REC_CLAIM_FLAGS);
	return (void *)0;
}

/**
 * lfq_rec_claim_promote() - a pending claim whose compare-and-swap won
 * its range becomes a held record.
 * @cl:		the producer's claim, marked pending (LFQ_REC_CLAIM_HELD
 *		without LFQ_REC_CLAIM_WON) at @pos before the CAS.
 * @pos:	the range's start, as the CAS took it.
 *
 * The kernel's lap guard drops the mark of a pending claim a lap behind
 * the range it reserves (lfq_kclaims_lap_guard()): honestly only a CAS
 * that will fail is that far behind, but a forged tail makes a won one
 * look so too. The two compare-and-swaps on the claim's start decide it:
 * either the mark is promoted first and the guard refuses, or the guard
 * dropped it first and the producer writes nothing in its range
 * (tests/model/rec_lap_guard.pml, PLAIN_PROMOTE). Relaxed: the order of
 * the two on this word decides, and after a promotion the guard writes
 * nothing, so no barrier need come before the payload's writes.
 *
 * The guard leaves exactly @pos. Any other value is a claim two
 * producers share against the rule (each its own claim: a forked child
 * producing through its copy of the parent's handle, or two threads on
 * one handle): the record goes on unprotected, as records of producers
 * without claims do, rather than leave a range no header will close.
 *
 * Return: 1 if the record is to be written, then published; 0 if the
 * guard gave its bytes away.
 */
static inline int lfq_rec_claim_promote(struct lfq_mpsc_claim *cl,
					__u64 pos)
{
	__u64 want = pos | LFQ_REC_CLAIM_HELD;

	return lfq_try_cmpxchg_relaxed(&cl->start, &want,
				       pos | LFQ_REC_CLAIM_WON |
				       LFQ_REC_CLAIM_HELD) || want != pos;
}

/* How often a taker waits for another's overwrite at tail to finish. */
#define LFQ_REC_TAKEN_SPINS	64

/**
 * lfq_rec_reclaim() - overwrite mode: take the oldest record to make room
 * for a reservation.
 * @p:		producer view.
 * @raw:	the shared tail as the producer read it, with acquire.
 *
 * The producer owns tail first (LFQ_REC_TAIL_RECLAIM, by compare-and-swap
 * from the value it checked: one taker only, and a tail that moved since
 * makes it read again), then reads the header there. A committed (or
 * discarded) record it zeroes, as the consumer does on release, and it
 * moves tail past it, which gives tail up. A claimed producer names tail
 * in its claim first: were it to die owning tail, the kernel's recovery
 * finishes the overwrite.
 *
 * Return: 1 if it took the record (counted in @p->overwritten unless it
 * was discarded), 0 if it must read tail again (tail moved, or another
 * taker won), -1 if the ring is full for now: the oldest record is not
 * committed yet (or forged), the consumer holds tail, another producer's
 * overwrite does not finish, or the record is more than @p->zero_left.
 */
static inline int lfq_rec_reclaim(struct lfq_rec_prod *p, __u64 raw)
{
	__u64 t = raw & ~LFQ_REC_TAIL_BITS, h, need;
	__u32 spins = 0;
	int st;

	/* Another producer's overwrite: its tail comes soon, bounded. */
	while (raw & LFQ_REC_TAIL_RECLAIM) {
		if (++spins > LFQ_REC_TAKEN_SPINS)
			return -1;
		/* ORDERING rec-reclaim: pairs with the owner's tail. */
		raw = lfq_load_acquire(p->ring.tail);
		if ((raw & ~LFQ_REC_TAIL_BITS) != t)
			return 0;
	}
	if (raw & LFQ_REC_TAIL_BITS)
		return -1;	/* the consumer holds it (or forged bits) */
	if (p->claim) {
		/* ORDERING claim: the range before the compare-and-swap. */
		lfq_store_release(&p->claim->start, t | LFQ_REC_CLAIM_RECLAIM);
		lfq_store_release(&p->claim->end, t + LFQ_REC_HDR_SIZE);
	}
	/*
	 * ORDERING rec-reclaim: fully ordered, before the header's load and
	 * the zeroing: a snapshot that read a zeroed word reads this tail.
	 */
	if (!lfq_try_cmpxchg_full(p->ring.tail, &raw,
				  t | LFQ_REC_TAIL_RECLAIM))
		return 0;
	/* ORDERING rec-commit: pairs with the producer's header. */
	h = lfq_load_acquire(lfq_rec_hdr(&p->ring, t));
	st = lfq_rec_hdr_state(h, t, p->order, p->max_len);
	if (st <= 0) {
		/* Being written: tail back as it was (nothing changed). */
		lfq_store_release(p->ring.tail, t);
		return -1;
	}
	need = lfq_rec_size((__u32)(h & LFQ_REC_LEN_MASK));
	if (lfq_unlikely(need > p->zero_left)) {
		/* Too big for this producer to zero: tail back, as it was. */
		lfq_store_release(p->ring.tail, t);
		return -1;
	}
	p->zero_left -= need;
	/* ORDERING rec-snapshot: our tail before the zeroing (C11 too). */
	lfq_smp_wmb();
	lfq_rec_zero(p->ring.data + (t & (p->ring.size - 1)), need);
	p->overwritten += !(h & LFQ_REC_DISCARD);
	/*
	 * ORDERING rec-release (rec-reclaim): the zeroing before the tail
	 * that lets producers reserve these bytes and ends our ownership.
	 */
	lfq_store_release(p->ring.tail, t + need);
	return 1;
}

/**
 * lfq_rec_reserve() - reserve a record of @len bytes.
 * @p:		producer view.
 * @len:	payload bytes, 1..max_len.
 * @r:		the reservation, for lfq_rec_commit() or lfq_rec_discard().
 *
 * Lock-free for MPSC: a failed compare-and-swap means another producer
 * reserved, and the loop retries from the head it saw (@p->max_tries
 * times at most, if set).
 *
 * Return: the payload (contiguous, 8-aligned; its header reads 0 until
 * the commit), or NULL if @len is 0 or beyond the limit, or the ring has
 * no room for it, or its head is forged; or, with a claim, if a lap
 * guard took the range its compare-and-swap won (a tail forged past it):
 * head then has moved past a range no header will close.
 */
static inline void *lfq_rec_reserve(struct lfq_rec_prod *p, __u32 len,
				    struct lfq_rec_resv *r)
{
	__u64 need = lfq_rec_size(len), head, tail, raw;
	__u32 tries = 0, fresh = 0;
	int got;

	if (lfq_unlikely(!len || len > p->max_len))
		return (void *)0;
	head = p->multi ? lfq_load_relaxed(p->ring.head) : p->head;
	for (;;) {
		/* HOSTILE MEMORY H5: a bounded number of ways round. */
		if (lfq_unlikely(p->max_tries && tries++ == p->max_tries))
			return lfq_rec_unclaim(p);
		/*
		 * HOSTILE MEMORY: an unaligned head is forged. A sealed one
		 * (an elastic segment's, ORDERING seg-seal) takes no more
		 * records: the producer goes on in the next segment
		 * (tests/model/rec_segments.pml, NO_SEAL_CHECK).
		 */
		if (lfq_unlikely(head & (7 | LFQ_SEG_SEALED)))
			return lfq_rec_unclaim(p);
		/*
		 * ORDERING rec-release: pairs with the consumer's release of
		 * tail; the bytes below it are zeroed before we reuse them.
		 * Overwrite mode: its low bits name an owner (lfq_rec_reclaim).
		 */
		raw = lfq_load_acquire(p->ring.tail);
		tail = p->ring.overwrite ? raw & ~LFQ_REC_TAIL_BITS : raw;
		/*
		 * Our head is older than the consumer's tail (others
		 * reserved and were consumed since we read it): read it
		 * again, once, or the ring would look full. The tail's
		 * acquire orders this load after their head updates.
		 */
		if (p->multi && lfq_unlikely((__s64)(tail - head) > 0) &&
		    !fresh++) {
			head = lfq_load_relaxed(p->ring.head);
			continue;
		}
		/*
		 * HOSTILE MEMORY: a tail ahead of head, or more than a ring
		 * behind less this record, reads as full (need <= size / 4).
		 * In overwrite mode a full ring gives up its oldest record.
		 */
		if (lfq_unlikely(head - tail > p->ring.size - need)) {
			if (!p->ring.overwrite || head - tail > p->ring.size)
				return lfq_rec_unclaim(p);
			got = lfq_rec_reclaim(p, raw);
			if (got < 0)
				return lfq_rec_unclaim(p);
			/*
			 * A record taken is progress (bounded by zero_left),
			 * not a try: room for a large record may take many.
			 */
			if (got > 0 && tries)
				tries--;
			if (p->multi)
				head = lfq_load_relaxed(p->ring.head);
			continue;
		}
		if (!p->multi) {
			p->head = head + need;
			lfq_store_relaxed(p->ring.head, p->head);
			break;
		}
		/*
		 * HOSTILE MEMORY H6: the room tail shows may be forged. (After
		 * an honest overwrite nothing held is a lap behind our range.)
		 */
		if (p->lap_guard &&
		    !p->lap_guard(p->guard_ctx, head, head + need))
			return lfq_rec_unclaim(p);
		if (!p->claim) {
			if (lfq_try_cmpxchg_relaxed(p->ring.head, &head,
						    head + need))
				break;
			continue;
		}
		/*
		 * ORDERING claim: the range, marked pending (held, not won),
		 * then the fully ordered CAS that takes it; the recovery and
		 * the lap guard read head, then the claims.
		 */
		lfq_store_release(&p->claim->start, head | LFQ_REC_CLAIM_HELD);
		lfq_store_release(&p->claim->end, head + need);
		if (lfq_try_cmpxchg_full(p->ring.head, &head, head + need)) {
			if (lfq_rec_claim_promote(p->claim, head))
				break;
			/* A forged tail gave our bytes away: write nothing. */
			return lfq_rec_unclaim(p);
		}
	}
	/*
	 * ORDERING rec-mpmc-torn: head's new value before any write of the
	 * reservation (an MPMC ring's consumers read head after a record to
	 * find it torn). A C11 compare-and-swap orders only what comes before
	 * it; in the kernel a fully ordered one already does this.
	 */
	lfq_smp_wmb();
	r->pos = head;
	r->len = len;
	return p->ring.data + (head & (p->ring.size - 1)) + LFQ_REC_HDR_SIZE;
}

/* Store a record's final header; report a sleeping consumer. */
static inline int lfq_rec_publish(struct lfq_rec_prod *p,
				  const struct lfq_rec_resv *r, __u64 flags)
{
	/*
	 * Not held from here (the kernel's lap guard lets the ring past
	 * it): LFQ_REC_CLAIM_HELD off the claim, which keeps its range and
	 * its LFQ_REC_CLAIM_WON (the recovery's).
	 * ORDERING rec-lap-guard: before the header's release below.
	 */
	if (p->claim)
		lfq_store_relaxed(&p->claim->start,
				  r->pos | LFQ_REC_CLAIM_WON);
	/* ORDERING rec-commit: the payload before the header that shows it. */
	lfq_store_release(lfq_rec_hdr(&p->ring, r->pos),
			  (__u64)r->len | flags | lfq_rec_lap(r->pos, p->order));
	if (!p->ring.need_data)
		return 0;
	/*
	 * ORDERING wake-data (or wake-asym): on any flag, whatever the
	 * sleeper waits for: with commits out of order no producer knows
	 * what is ready.
	 */
	return lfq_wake_flag(p->ring.need_data, p->ring.light) != 0;
}

/**
 * lfq_rec_commit() - publish a reserved record, in any order relative to
 * the other producers'.
 * @p:		producer view.
 * @r:		the reservation, its payload written.
 *
 * Return: true if the consumer announced a sleep and must be woken.
 */
static inline int lfq_rec_commit(struct lfq_rec_prod *p,
				 const struct lfq_rec_resv *r)
{
	return lfq_rec_publish(p, r, 0);
}

/**
 * lfq_rec_discard() - give a reserved record up: the consumer skips it.
 * @p:		producer view.
 * @r:		the reservation.
 *
 * Return: as lfq_rec_commit().
 */
static inline int lfq_rec_discard(struct lfq_rec_prod *p,
				  const struct lfq_rec_resv *r)
{
	return lfq_rec_publish(p, r, LFQ_REC_DISCARD);
}

/*
 * Publish the consumer's tail (overwrite mode: this gives tail up); note
 * producers asleep for the space.
 */
static inline void lfq_rec_tail(struct lfq_rec_cons *c)
{
	__u64 used;
	__u32 want;

	c->own = 0;
	if (!c->ring.need_space) {
		/*
		 * ORDERING rec-release: the zeroing before the tail that
		 * lets producers reserve these bytes again.
		 */
		lfq_store_release(c->ring.tail, c->tail);
		return;
	}
	/* ORDERING rec-release, and wake-space (or wake-asym). */
	want = lfq_publish_index(c->ring.tail, c->tail, c->ring.need_space,
				 c->ring.light);
	if (lfq_likely(!want))
		return;
	/*
	 * HOSTILE MEMORY H8: a count to compare, clamped to the ring (an
	 * elastic segment's head may carry its seal).
	 */
	used = (lfq_load_relaxed(c->ring.head) & ~LFQ_SEG_SEALED) - c->tail;
	if (used > c->ring.size)
		used = c->ring.size;
	c->wake |= lfq_wake_due(want, (__u32)(c->ring.size - used),
				(__u32)c->ring.size);
}

/*
 * Overwrite mode: mark the records of @need bytes at @b released
 * (LFQ_REC_RELEASED) before their zeroing: a snapshot reading them drops
 * its copy, and the kernel finishes the release of a consumer that died
 * in it instead of handing zeroed records out again.
 */
static inline void lfq_rec_mark_released(const struct lfq_rec_cons *c,
					 unsigned char *b, __u64 need)
{
	__u64 off, h;

	if (!c->ring.overwrite)
		return;
	for (off = 0; off < need; off += lfq_rec_size((__u32)(h &
						     LFQ_REC_LEN_MASK))) {
		h = lfq_load_relaxed((__u64 *)(b + off));
		/* HOSTILE MEMORY: a header rewritten since ends the marks. */
		if (!(h & LFQ_REC_LEN_MASK) ||
		    lfq_rec_size((__u32)(h & LFQ_REC_LEN_MASK)) > need - off)
			break;
		lfq_store_relaxed((__u64 *)(b + off), h | LFQ_REC_RELEASED);
	}
	/* ORDERING rec-snapshot: the marks before the zeroing. */
	lfq_smp_wmb();
}

/* Zero the record of @need bytes at the consumer's tail and pass it. */
static inline void lfq_rec_pass(struct lfq_rec_cons *c, __u64 need)
{
	unsigned char *b = c->ring.data + (c->tail & (c->ring.size - 1));

	lfq_rec_mark_released(c, b, need);
	lfq_rec_zero(b, need);
	c->tail += need;
	lfq_rec_tail(c);
}

/**
 * lfq_rec_own() - overwrite mode: own the shared tail for the consumer
 * (LFQ_REC_TAIL_HELD), so that producers leave the records from there on
 * alone until it is published again (a release, or lfq_rec_disown()).
 * @c:		consumer view; its tail is set to the shared one.
 *
 * Return: 1 if the consumer owns tail, 0 if producers kept it (their
 * overwrites come one after another: the caller reads nothing now).
 */
static inline int lfq_rec_own(struct lfq_rec_cons *c)
{
	__u32 spins = 0;
	__u64 raw;

	if (c->own)
		return 1;
	do {
		/* ORDERING rec-reclaim: pairs with a producer's tail. */
		raw = lfq_load_acquire(c->ring.tail);
		/*
		 * ORDERING rec-reclaim: fully ordered, before the header
		 * loads (a producer's overwrite has ended, or not begun).
		 */
		if (!(raw & LFQ_REC_TAIL_BITS) &&
		    lfq_try_cmpxchg_full(c->ring.tail, &raw,
					 raw | LFQ_REC_TAIL_HELD)) {
			c->tail = raw;
			c->own = 1;
			return 1;
		}
	} while (++spins < LFQ_REC_TAKEN_SPINS);
	return 0;
}

/* Overwrite mode: give tail back untouched (nothing was consumed). */
static inline void lfq_rec_disown(struct lfq_rec_cons *c)
{
	if (!c->own)
		return;
	/* ORDERING rec-reclaim: pairs with a producer's acquire of tail. */
	lfq_store_release(c->ring.tail, c->tail);
	c->own = 0;
}

/**
 * lfq_rec_peek() - the next committed record, skipping discarded ones.
 * @c:		consumer view.
 * @len:	set to its payload bytes.
 *
 * The record stays the consumer's until lfq_rec_release(). Records come
 * in the order they were reserved: an uncommitted one holds back those
 * reserved after it.
 *
 * Return: its payload (contiguous), or NULL if none is committed at the
 * tail, or if its header is forged (beyond the limit: counted in
 * @c->corrupt, and the consumer stays there). Discarded records it
 * passed may free space producers sleep for: see @c->wake.
 */
static inline const void *lfq_rec_peek(struct lfq_rec_cons *c, __u32 *len)
{
	__u64 h, n, need;

	int st;

	c->held = 0;
	/* HOSTILE MEMORY: a ring's worth of discarded bytes per call. */
	for (n = 0; n < c->ring.size; n += need) {
		/* Overwrite mode: the header is read with tail owned. */
		if (c->ring.overwrite && !lfq_rec_own(c))
			return (const void *)0;
		/* ORDERING rec-commit: pairs with the producer's header. */
		h = lfq_load_acquire(lfq_rec_hdr(&c->ring, c->tail));
		st = lfq_rec_hdr_state(h, c->tail, c->order, c->max_len);
		if (!st) {
			lfq_rec_disown(c);
			return (const void *)0;
		}
		if (lfq_unlikely(st < 0)) {
			c->corrupt++;
			lfq_rec_disown(c);
			return (const void *)0;
		}
		*len = (__u32)(h & LFQ_REC_LEN_MASK);
		need = lfq_rec_size(*len);
		if (!(h & LFQ_REC_DISCARD)) {
			c->held = need;
			return c->ring.data + (c->tail & (c->ring.size - 1)) +
			       LFQ_REC_HDR_SIZE;
		}
		c->discarded++;
		lfq_rec_pass(c, need);
	}
	lfq_rec_disown(c);
	return (const void *)0;
}

/**
 * lfq_rec_release() - give the peeked record's bytes back to producers:
 * as many as lfq_rec_peek() found, never a length read again.
 * @c:		consumer view.
 */
static inline void lfq_rec_release(struct lfq_rec_cons *c)
{
	if (c->held)
		lfq_rec_pass(c, c->held);
	c->held = 0;
}

/**
 * struct lfq_rec_batch - a run of records handed over at once.
 * @at:		the first record's header (contiguous for @bytes).
 * @bytes:	bytes of the run, headers and discarded records included.
 * @count:	records in it (discarded ones not counted).
 * @discards:	discarded records in it.
 * @cut:	lfq_rec_batch_next() found a header rewritten under it and
 *		stopped early (counted as corrupt when the run is released).
 */
struct lfq_rec_batch {
	const unsigned char *at;
	__u64 bytes;
	__u32 count;
	__u32 discards;
	__u32 cut;
};

/**
 * lfq_rec_peek_batch() - up to @max committed records from the tail, as
 * one run: the batch consume (libbpf's ring_buffer__consume_n()).
 * @c:		consumer view.
 * @max:	records wanted, at least 1.
 * @b:		the run; read it with lfq_rec_batch_next(), give it back
 *		with lfq_rec_release_batch().
 *
 * The run ends before the first record not committed, after @max
 * records, or before a forged header (counted in @c->corrupt when it is
 * the first); discarded records inside it are passed over by the reader
 * and counted in @c->discarded when the run is released.
 *
 * Return: @b->count.
 */
static inline __u32 lfq_rec_peek_batch(struct lfq_rec_cons *c, __u32 max,
				       struct lfq_rec_batch *b)
{
	__u64 h, need, pos;
	__u32 len;
	int st;

	b->bytes = 0;
	b->count = 0;
	b->discards = 0;
	b->cut = 0;
	/*
	 * Overwrite mode: with tail owned, producers leave the run alone
	 * until its release (lfq_rec_release_batch() gives tail up).
	 */
	if (c->ring.overwrite && !lfq_rec_own(c)) {
		b->at = c->ring.data;
		return 0;
	}
	b->at = c->ring.data + (c->tail & (c->ring.size - 1));
	/* HOSTILE MEMORY: a ring's worth at most, so a contiguous span. */
	while (b->count < max && b->bytes < c->ring.size) {
		pos = c->tail + b->bytes;
		/* ORDERING rec-commit: pairs with the producer's header. */
		h = lfq_load_acquire(lfq_rec_hdr(&c->ring, pos));
		st = lfq_rec_hdr_state(h, pos, c->order, c->max_len);
		if (!st)
			break;
		len = (__u32)(h & LFQ_REC_LEN_MASK);
		need = lfq_rec_size(len);
		if (lfq_unlikely(st < 0 || b->bytes + need > c->ring.size)) {
			c->corrupt += !b->bytes;
			break;
		}
		b->bytes += need;
		b->count += !(h & LFQ_REC_DISCARD);
		b->discards += !!(h & LFQ_REC_DISCARD);
	}
	/* Overwrite mode: nothing to hold, tail back at once. */
	if (!b->bytes)
		lfq_rec_disown(c);
	return b->count;
}

/**
 * lfq_rec_batch_next() - the next record of a run.
 * @b:		the run.
 * @off:	the reader's place in it, from 0; advanced past the record.
 * @len:	set to the record's payload bytes.
 *
 * lfq_rec_peek_batch() checked the headers, which are final (only the
 * consumer changes them now, when it releases): an honest producer cannot
 * change them, a hostile one could, so each is read a second time here
 * and checked again against the run's bounds; one that changed ends the
 * run (@b->cut).
 *
 * Return: the record's payload, or NULL at the end of the run.
 */
static inline const void *lfq_rec_batch_next(struct lfq_rec_batch *b,
					     __u64 *off, __u32 *len)
{
	__u64 h, need;

	while (*off < b->bytes) {
		h = lfq_load_relaxed((const __u64 *)(b->at + *off));
		*len = (__u32)(h & LFQ_REC_LEN_MASK);
		need = lfq_rec_size(*len);
		if (lfq_unlikely(!*len || need > b->bytes - *off)) {
			b->cut = 1;
			return (const void *)0;
		}
		*off += need;
		if (!(h & LFQ_REC_DISCARD))
			return b->at + *off - need + LFQ_REC_HDR_SIZE;
	}
	return (const void *)0;
}

/**
 * lfq_rec_batch_cut() - end a run early: only its first @off bytes are
 * released (the reader stopped after the record ending there).
 * @b:		the run.
 * @off:	the reader's place, as lfq_rec_batch_next() left it.
 *
 * Its counts are taken again from the headers before @off.
 */
static inline void lfq_rec_batch_cut(struct lfq_rec_batch *b, __u64 off)
{
	__u64 at = 0, h, need;

	if (off >= b->bytes)
		return;
	b->count = 0;
	b->discards = 0;
	while (at < off) {
		h = lfq_load_relaxed((const __u64 *)(b->at + at));
		need = lfq_rec_size((__u32)(h & LFQ_REC_LEN_MASK));
		/* HOSTILE MEMORY: a header rewritten since, as in _next(). */
		if (need == LFQ_REC_HDR_SIZE || need > off - at)
			break;
		b->count += !(h & LFQ_REC_DISCARD);
		b->discards += !!(h & LFQ_REC_DISCARD);
		at += need;
	}
	b->bytes = at;
}

/**
 * lfq_rec_batch_hand() - hand a run's records to @fn, in order; a non-zero
 * return stops after that record and cuts the run there (the rest stays
 * in the ring for the next call).
 * @b:		the run (lfq_rec_peek_batch()).
 * @fn:		called with @ctx, each record's payload and its length.
 * @ctx:	passed to @fn.
 *
 * Return: the records handed to @fn.
 */
static inline int lfq_rec_batch_hand(struct lfq_rec_batch *b,
				     int (*fn)(void *ctx, const void *rec,
					       __u32 len),
				     void *ctx)
{
	const void *rec;
	__u64 off = 0;
	__u32 len;
	int n = 0;

	while ((rec = lfq_rec_batch_next(b, &off, &len))) {
		n++;
		if (fn(ctx, rec, len)) {
			lfq_rec_batch_cut(b, off);
			break;
		}
	}
	return n;
}

/**
 * lfq_rec_release_batch() - give a whole run back: its bytes zeroed, one
 * store of the tail.
 * @c:		consumer view.
 * @b:		the run from lfq_rec_peek_batch().
 */
static inline void lfq_rec_release_batch(struct lfq_rec_cons *c,
					 const struct lfq_rec_batch *b)
{
	unsigned char *at = c->ring.data + (c->tail & (c->ring.size - 1));
	__u64 off = 0, need;

	c->discarded += b->discards;
	c->corrupt += b->cut;
	/* Overwrite mode: an empty run gives tail back; a cut one, the rest. */
	if (!b->bytes) {
		lfq_rec_disown(c);
		return;
	}
	lfq_rec_mark_released(c, at, b->bytes);
	/*
	 * The payload words of each record, found by its header read once
	 * more; from a header rewritten since the peek on, every word of
	 * the run (HOSTILE MEMORY: never beyond @b->bytes).
	 */
	while (off < b->bytes) {
		need = lfq_rec_size((__u32)(lfq_load_relaxed((const __u64 *)
					(at + off)) & LFQ_REC_LEN_MASK));
		if (lfq_unlikely(need == LFQ_REC_HDR_SIZE ||
				 need > b->bytes - off)) {
			for (; off < b->bytes; off += 8)
				lfq_store_relaxed((__u64 *)(at + off), 0);
			break;
		}
		lfq_rec_zero(at + off, need);
		off += need;
	}
	c->tail += b->bytes;
	lfq_rec_tail(c);
}

/**
 * struct lfq_rec_snap - a snapshot's walk over the records from tail to
 * the head it started at, taking none (private memory).
 * @ring:	the ring.
 * @pos:	the next record's byte index.
 * @end:	the head read at the start (at most a ring past @pos).
 * @at:		the record lfq_rec_snap_next() returned last.
 * @order:	log2 of the ring's size.
 * @max_len:	the largest payload.
 * @skipped:	records passed because they were taken (overwritten,
 *		consumed, held) before or while they were copied.
 * @steps:	headers lfq_rec_snap_next() may read before it pauses.
 * @paused:	lfq_rec_snap_next() returned NULL to pause, not at the
 *		end: the caller may yield, then calls it again.
 */
struct lfq_rec_snap {
	struct lfq_rec_ring ring;
	__u64 pos;
	__u64 end;
	__u64 at;
	__u32 order;
	__u32 max_len;
	__u64 skipped;
	__u32 steps;
	__u32 paused;
};

/* Headers a snapshot reads between two pauses (lfq_rec_snap_next()). */
#define LFQ_REC_SNAP_STEPS	256

/**
 * lfq_rec_snap_init() - start a snapshot of an overwrite-mode ring.
 * @s:		the walk.
 * @r:		the ring.
 */
static inline void lfq_rec_snap_init(struct lfq_rec_snap *s,
				     const struct lfq_rec_ring *r)
{
	s->ring = *r;
	/* ORDERING rec-reclaim: pairs with the tail's store. */
	s->pos = lfq_load_acquire(r->tail) & ~LFQ_REC_TAIL_BITS;
	s->end = lfq_load_relaxed(r->head);
	/* HOSTILE MEMORY: one ring at most. */
	if (s->end - s->pos > r->size)
		s->end = s->pos + r->size;
	s->at = s->pos;
	s->order = lfq_rec_order(r->size);
	s->max_len = lfq_rec_max_len(r->size);
	s->skipped = 0;
	s->steps = LFQ_REC_SNAP_STEPS;
	s->paused = 0;
}

/**
 * lfq_rec_snap_next() - the next record a snapshot may copy.
 * @s:		the walk.
 * @hdr:	set to its header, to pass to lfq_rec_snap_check().
 *
 * Committed records only, not discarded, not released; the walk ends at
 * the first record not committed (or forged). Each header is read before
 * tail: a tail past it means producers overwrote that record (the word
 * read may be a newer record's payload), and the walk jumps to tail.
 *
 * Return: the record's payload, to copy (lfq_rec_snap_copy()) before
 * lfq_rec_snap_check() says whether the copy is whole; NULL at the end,
 * or with @s->paused set after LFQ_REC_SNAP_STEPS headers passed over
 * (a ring of discarded or taken records is long: the kernel yields).
 */
static inline const void *lfq_rec_snap_next(struct lfq_rec_snap *s, __u64 *hdr)
{
	__u64 h, raw, t, need;
	int st;

	s->paused = 0;
	while ((__s64)(s->end - s->pos) > 0) {
		if (!s->steps--) {
			s->steps = LFQ_REC_SNAP_STEPS;
			s->paused = 1;
			return (const void *)0;
		}
		/* ORDERING rec-commit: pairs with the producer's header. */
		h = lfq_load_acquire(lfq_rec_hdr(&s->ring, s->pos));
		/* ORDERING rec-snapshot: tail after the header. */
		raw = lfq_load_acquire(s->ring.tail);
		t = raw & ~LFQ_REC_TAIL_BITS;
		if ((__s64)(t - s->pos) > 0) {
			s->skipped++;	/* at least one overwritten */
			s->pos = t;
			continue;	/* and past @end: all of them */
		}
		st = lfq_rec_hdr_state(h, s->pos, s->order, s->max_len);
		if (st <= 0)
			return (const void *)0;
		need = lfq_rec_size((__u32)(h & LFQ_REC_LEN_MASK));
		s->at = s->pos;
		s->pos += need;
		/* Being taken (overwritten, or held by the consumer). */
		if ((t == s->at && (raw & LFQ_REC_TAIL_BITS)) ||
		    (h & LFQ_REC_RELEASED)) {
			s->skipped++;
			continue;
		}
		if (h & LFQ_REC_DISCARD)
			continue;
		*hdr = h;
		return s->ring.data + (s->at & (s->ring.size - 1)) +
		       LFQ_REC_HDR_SIZE;
	}
	return (const void *)0;
}

/**
 * lfq_rec_snap_check() - whether the copy of the record
 * lfq_rec_snap_next() returned last is whole.
 * @s:		the walk.
 * @hdr:	the header lfq_rec_snap_next() gave.
 *
 * Return: 1 if, after the copy, the header is unchanged (the consumer
 * did not release it) and tail has not reached it (no producer took it,
 * no later lap wrote there): every byte copied is the committed record's;
 * 0 if not (counted in @s->skipped; the copy is to be dropped).
 */
static inline int lfq_rec_snap_check(struct lfq_rec_snap *s, __u64 hdr)
{
	__u64 raw, t;

	/*
	 * ORDERING rec-snapshot: the copy's loads before the header's and
	 * tail's second loads; pairs with a taker's fully ordered ownership
	 * of tail, and the consumer's marks, before their zeroing.
	 */
	lfq_smp_rmb();
	if (lfq_load_relaxed(lfq_rec_hdr(&s->ring, s->at)) != hdr)
		goto torn;
	raw = lfq_load_relaxed(s->ring.tail);
	t = raw & ~LFQ_REC_TAIL_BITS;
	if ((__s64)(t - s->at) > 0 ||
	    (t == s->at && (raw & LFQ_REC_TAIL_BITS)))
		goto torn;
	return 1;
torn:
	s->skipped++;
	return 0;
}

/**
 * lfq_rec_snap_copy() - copy a record's payload for a snapshot, word by
 * word with marked loads (producers may be writing there: the copy is
 * checked afterwards, never trusted before).
 * @dst:	room for @len rounded up to 8 bytes.
 * @src:	the payload lfq_rec_snap_next() returned (8-aligned).
 * @len:	its bytes.
 */
static inline void lfq_rec_snap_copy(void *dst, const void *src, __u32 len)
{
	const __u64 *w = (const __u64 *)src;
	__u64 *d = (__u64 *)dst;
	__u32 i;

	for (i = 0; i < (len + 7) / 8; i++)
		d[i] = lfq_load_relaxed(&w[i]);
}

#endif /* _LFQ_PROTO_REC_H */
