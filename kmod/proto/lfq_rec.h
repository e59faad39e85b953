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
 */
#ifndef _LFQ_PROTO_REC_H
#define _LFQ_PROTO_REC_H

#include "lfq_common.h"

/*
 * The header: the record's length, this flag for a discarded one, and
 * the record's lap from bit LFQ_REC_LAP_SHIFT up (lfq_rec_lap()).
 */
#define LFQ_REC_DISCARD		0x100000000ull	/* bit 32 */
#define LFQ_REC_LEN_MASK	0xffffffffull
#define LFQ_REC_LAP_SHIFT	33
#define LFQ_REC_HDR_SIZE	8u

/*
 * Set in a record producer's claim start (8-aligned, so bit 0 is free)
 * once its compare-and-swap took the range: the recovery then knows the
 * claim names a record of this length, not a range another producer won.
 */
#define LFQ_REC_CLAIM_WON	1ull

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
 * lap, or 0), 1 if it is, -1 if the word is of this lap but its length
 * is 0 or beyond @max_len (forged: HOSTILE MEMORY).
 */
static inline int lfq_rec_hdr_state(__u64 h, __u64 pos, __u32 order,
				    __u32 max_len)
{
	__u32 len = (__u32)(h & LFQ_REC_LEN_MASK);

	if (!h || (h & ~(LFQ_REC_LEN_MASK | LFQ_REC_DISCARD)) !=
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
 * and at most 2^34.
 */
static inline __u32 lfq_rec_max_len(__u64 size)
{
	if (size < 64 || size > (1ull << 34) || (size & (size - 1)))
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
 */
struct lfq_rec_ring {
	__u64 *head;
	__u64 *tail;
	unsigned char *data;
	__u64 size;
	__u32 *need_data;
	__u32 *need_space;
	__u32 light;
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
 *		before the compare-and-swap), or NULL for none.
 */
struct lfq_rec_prod {
	struct lfq_rec_ring ring;
	__u64 head;
	__u32 multi;
	__u32 max_len;
	__u32 max_tries;
	__u32 order;
	struct lfq_mpsc_claim *claim;
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
 * @tail:	the consumer's own tail: the truth, whatever the page says.
 * @held:	bytes of the record the last peek returned (0: none), what
 *		lfq_rec_release() gives back: never a length read again.
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
	c->max_len = lfq_rec_max_len(r->size);
	c->order = lfq_rec_order(r->size);
	c->discarded = 0;
	c->corrupt = 0;
	c->wake = 0;
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
		lfq_store_release(&p->claim->end,
				  lfq_load_relaxed(&p->claim->start));
	return (void *)0;
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
 * no room for it, or its head is forged.
 */
static inline void *lfq_rec_reserve(struct lfq_rec_prod *p, __u32 len,
				    struct lfq_rec_resv *r)
{
	__u64 need = lfq_rec_size(len), head, tail;
	__u32 tries = 0, fresh = 0;

	if (lfq_unlikely(!len || len > p->max_len))
		return (void *)0;
	head = p->multi ? lfq_load_relaxed(p->ring.head) : p->head;
	for (;;) {
		/* HOSTILE MEMORY H5: a bounded number of ways round. */
		if (lfq_unlikely(p->max_tries && tries++ == p->max_tries))
			return lfq_rec_unclaim(p);
		/* HOSTILE MEMORY: an unaligned head is forged. */
		if (lfq_unlikely(head & 7))
			return lfq_rec_unclaim(p);
		/*
		 * ORDERING rec-release: pairs with the consumer's release of
		 * tail; the bytes below it are zeroed before we reuse them.
		 */
		tail = lfq_load_acquire(p->ring.tail);
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
		 */
		if (lfq_unlikely(head - tail > p->ring.size - need))
			return lfq_rec_unclaim(p);
		if (!p->multi) {
			p->head = head + need;
			lfq_store_relaxed(p->ring.head, p->head);
			break;
		}
		if (!p->claim) {
			if (lfq_try_cmpxchg_relaxed(p->ring.head, &head,
						    head + need))
				break;
			continue;
		}
		/*
		 * ORDERING claim: the range, then the fully ordered CAS that
		 * takes it; the recovery reads head, then the claims.
		 */
		lfq_store_release(&p->claim->start, head);
		lfq_store_release(&p->claim->end, head + need);
		if (lfq_try_cmpxchg_full(p->ring.head, &head, head + need)) {
			/* ORDERING claim: the mark after the range it took. */
			lfq_store_release(&p->claim->start,
					  head | LFQ_REC_CLAIM_WON);
			break;
		}
	}
	r->pos = head;
	r->len = len;
	return p->ring.data + (head & (p->ring.size - 1)) + LFQ_REC_HDR_SIZE;
}

/* Store a record's final header; report a sleeping consumer. */
static inline int lfq_rec_publish(struct lfq_rec_prod *p,
				  const struct lfq_rec_resv *r, __u64 flags)
{
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

/* Zero the payload words of @need bytes from @b (whole records). */
static inline void lfq_rec_zero(unsigned char *b, __u64 need)
{
	__u64 i;

	/* Word by word: the words a later lap's header may land on. */
	for (i = LFQ_REC_HDR_SIZE; i < need; i += 8)
		*(__u64 *)(b + i) = 0;
}

/* Publish the consumer's tail; note producers asleep for the space. */
static inline void lfq_rec_tail(struct lfq_rec_cons *c)
{
	__u64 used;
	__u32 want;

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
	/* HOSTILE MEMORY H8: a count to compare, clamped to the ring. */
	used = lfq_load_relaxed(c->ring.head) - c->tail;
	if (used > c->ring.size)
		used = c->ring.size;
	c->wake |= lfq_wake_due(want, (__u32)(c->ring.size - used),
				(__u32)c->ring.size);
}

/* Zero the record of @need bytes at the consumer's tail and pass it. */
static inline void lfq_rec_pass(struct lfq_rec_cons *c, __u64 need)
{
	lfq_rec_zero(c->ring.data + (c->tail & (c->ring.size - 1)), need);
	c->tail += need;
	lfq_rec_tail(c);
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
		/* ORDERING rec-commit: pairs with the producer's header. */
		h = lfq_load_acquire(lfq_rec_hdr(&c->ring, c->tail));
		st = lfq_rec_hdr_state(h, c->tail, c->order, c->max_len);
		if (!st)
			return (const void *)0;
		if (lfq_unlikely(st < 0)) {
			c->corrupt++;
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

	b->at = c->ring.data + (c->tail & (c->ring.size - 1));
	b->bytes = 0;
	b->count = 0;
	b->discards = 0;
	b->cut = 0;
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
	if (!b->bytes)
		return;
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
				*(__u64 *)(at + off) = 0;
			break;
		}
		lfq_rec_zero(at + off, need);
		off += need;
	}
	c->tail += b->bytes;
	lfq_rec_tail(c);
}

#endif /* _LFQ_PROTO_REC_H */
