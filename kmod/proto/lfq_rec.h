/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * lfq_rec.h - the record ring protocol: records of any size from 1 byte
 * to a limit, one after another in a byte ring, each behind an 8-byte
 * header, for one producer or many (lock-free reservation, commits in
 * any order) and one consumer. Written once for the kernel and for
 * liblfq (see lfq_atomic.h for the shim); modelled in
 * tests/model/records.pml. Not yet a queue type: the first step of
 * variable-size records (issue 15), tested on bare rings
 * (tests/host/rec_mt.c); docs/RECORDS.md has the design and what is
 * left.
 *
 * Layout: a byte area of 2^n bytes, mapped twice back to back so that a
 * record is contiguous wherever it starts; free-running 64-bit byte
 * indices head (producers) and tail (consumer). A record of len bytes
 * takes lfq_rec_size(len) = 8 + len rounded up to 8 bytes from an
 * 8-aligned index: its header, one 64-bit word, then its payload. The
 * header is 0 while the record is being written; its producer commits it
 * by storing len (with LFQ_REC_DISCARD for a discarded one) with release.
 *
 * Why the consumer zeroes what it consumed: a record of the next lap may
 * start anywhere in the bytes of this lap, and its header must read 0
 * from the moment a producer reserves it (MPSC: the compare-and-swap of
 * head) until that producer commits it; otherwise a stale payload word
 * would read as a committed header. So the consumer, on release, zeroes
 * the record's bytes before it publishes tail with release, and a
 * producer reserves only below the tail it read with acquire. A header
 * word is then written by exactly one producer per lap, after the
 * consumer's zeroing of it. (The BPF ring buffer writes its headers
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

#include "lfq_atomic.h"

/* The header: the record's length, and this flag for a discarded one. */
#define LFQ_REC_DISCARD		0x100000000ull	/* bit 32 */
#define LFQ_REC_LEN_MASK	0xffffffffull
#define LFQ_REC_HDR_SIZE	8u

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
 */
struct lfq_rec_ring {
	__u64 *head;
	__u64 *tail;
	unsigned char *data;
	__u64 size;
};

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
 */
struct lfq_rec_prod {
	struct lfq_rec_ring ring;
	__u64 head;
	__u32 multi;
	__u32 max_len;
	__u32 max_tries;
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
 * @discarded:	discarded records skipped.
 * @corrupt:	times a forged header stopped it, or cut a run short.
 */
struct lfq_rec_cons {
	struct lfq_rec_ring ring;
	__u64 tail;
	__u64 held;
	__u32 max_len;
	__u32 __pad;
	__u64 discarded;
	__u64 corrupt;
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
	c->__pad = 0;
	c->discarded = 0;
	c->corrupt = 0;
}

/* The header word of the record at byte index @pos. */
static inline __u64 *lfq_rec_hdr(const struct lfq_rec_ring *r, __u64 pos)
{
	return (__u64 *)(r->data + (pos & (r->size - 1)));
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
	__u32 tries = 0;

	if (lfq_unlikely(!len || len > p->max_len))
		return (void *)0;
	head = p->multi ? lfq_load_relaxed(p->ring.head) : p->head;
	do {
		/* HOSTILE MEMORY H5: a bounded number of ways round. */
		if (lfq_unlikely(p->max_tries && tries++ == p->max_tries))
			return (void *)0;
		/* HOSTILE MEMORY: an unaligned head is forged. */
		if (lfq_unlikely(head & 7))
			return (void *)0;
		/*
		 * ORDERING rec-release: pairs with the consumer's release of
		 * tail; the bytes below it are zeroed before we reuse them.
		 */
		tail = lfq_load_acquire(p->ring.tail);
		/*
		 * HOSTILE MEMORY: a tail ahead of head, or more than a ring
		 * behind less this record, reads as full (need <= size / 4).
		 */
		if (lfq_unlikely(head - tail > p->ring.size - need))
			return (void *)0;
		if (!p->multi) {
			p->head = head + need;
			lfq_store_relaxed(p->ring.head, p->head);
			break;
		}
	} while (!lfq_try_cmpxchg_relaxed(p->ring.head, &head, head + need));
	r->pos = head;
	r->len = len;
	return p->ring.data + (head & (p->ring.size - 1)) + LFQ_REC_HDR_SIZE;
}

/**
 * lfq_rec_commit() - publish a reserved record, in any order relative to
 * the other producers'.
 * @p:		producer view.
 * @r:		the reservation.
 */
static inline void lfq_rec_commit(struct lfq_rec_prod *p,
				  const struct lfq_rec_resv *r)
{
	/* ORDERING rec-commit: the payload before the header that shows it. */
	lfq_store_release(lfq_rec_hdr(&p->ring, r->pos), (__u64)r->len);
}

/**
 * lfq_rec_discard() - give a reserved record up: the consumer skips it.
 * @p:		producer view.
 * @r:		the reservation.
 */
static inline void lfq_rec_discard(struct lfq_rec_prod *p,
				   const struct lfq_rec_resv *r)
{
	/* ORDERING rec-commit (nothing to read, but the header is final). */
	lfq_store_release(lfq_rec_hdr(&p->ring, r->pos),
			  (__u64)r->len | LFQ_REC_DISCARD);
}

/* Zero @need bytes of the record at the consumer's tail and pass it. */
static inline void lfq_rec_pass(struct lfq_rec_cons *c, __u64 need)
{
	unsigned char *b = c->ring.data + (c->tail & (c->ring.size - 1));
	__u64 i;

	/* Word by word: the words a later lap's header may land on. */
	for (i = 0; i < need; i += 8)
		*(__u64 *)(b + i) = 0;
	c->tail += need;
	/*
	 * ORDERING rec-release: the zeroing before the tail that lets
	 * producers reserve these bytes again.
	 */
	lfq_store_release(c->ring.tail, c->tail);
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
 * @c->corrupt, and the consumer stays there).
 */
static inline const void *lfq_rec_peek(struct lfq_rec_cons *c, __u32 *len)
{
	__u64 h, n, need;

	c->held = 0;
	/* HOSTILE MEMORY: a ring's worth of discarded bytes per call. */
	for (n = 0; n < c->ring.size; n += need) {
		/* ORDERING rec-commit: pairs with the producer's header. */
		h = lfq_load_acquire(lfq_rec_hdr(&c->ring, c->tail));
		if (!h)
			return (const void *)0;
		*len = (__u32)(h & LFQ_REC_LEN_MASK);
		if (lfq_unlikely(!*len || *len > c->max_len ||
				 (h & ~(LFQ_REC_LEN_MASK | LFQ_REC_DISCARD)))) {
			c->corrupt++;
			return (const void *)0;
		}
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
	__u64 h, need;
	__u32 len;

	b->at = c->ring.data + (c->tail & (c->ring.size - 1));
	b->bytes = 0;
	b->count = 0;
	b->discards = 0;
	b->cut = 0;
	/* HOSTILE MEMORY: a ring's worth at most, so a contiguous span. */
	while (b->count < max && b->bytes < c->ring.size) {
		/* ORDERING rec-commit: pairs with the producer's header. */
		h = lfq_load_acquire(lfq_rec_hdr(&c->ring, c->tail + b->bytes));
		if (!h)
			break;
		len = (__u32)(h & LFQ_REC_LEN_MASK);
		need = lfq_rec_size(len);
		if (lfq_unlikely(!len || len > c->max_len ||
				 (h & ~(LFQ_REC_LEN_MASK | LFQ_REC_DISCARD)) ||
				 b->bytes + need > c->ring.size)) {
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
 * lfq_rec_release_batch() - give a whole run back: its bytes zeroed, one
 * store of the tail.
 * @c:		consumer view.
 * @b:		the run from lfq_rec_peek_batch().
 */
static inline void lfq_rec_release_batch(struct lfq_rec_cons *c,
					 const struct lfq_rec_batch *b)
{
	c->discarded += b->discards;
	c->corrupt += b->cut;
	if (b->bytes)
		lfq_rec_pass(c, b->bytes);
}

#endif /* _LFQ_PROTO_REC_H */
