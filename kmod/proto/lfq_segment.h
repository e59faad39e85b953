/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * lfq_segment.h - the elastic queue's segment protocol, written once for
 * the kernel and liblfq. Modelled in tests/model/segments.pml.
 *
 * An elastic queue is a list of segments; each is a ring of slot_count
 * slots run by lfq_spsc.h or lfq_mpsc.h (a record queue's: of slot_count
 * bytes, run by lfq_rec.h) on its own head and tail words, with global
 * indices: a segment's life starts at its base, the index
 * where the segment before it ended. The producers work in the newest
 * segment. One that finds it full (in liblfq's in-process queues, only
 * when a segment can be had; else the full segment stays a ring):
 *   1. seals it: LFQ_SEG_SEALED in its head word (SPSC: a release store by
 *	the one producer; MPSC: a CAS, so no reservation can follow it); the
 *	rest of the word is where the segment ends;
 *   2. claims the link after it (LFQ_SEG_LINKING; a producer that finds
 *	the link being made retries, a bounded number of times);
 *   3. takes a spare segment (a pool: no allocation where a producer may
 *	run in NMI), opens its life at the sealed end (lfq_seg_open()), and
 *	only then publishes the link (a release store: ORDERING seg-link);
 *   4. moves the producers' hint (the newest segment) to it.
 * The consumer drains a segment in order; once it is sealed, read to its
 * end and linked (lfq_seg_drained()), the consumer moves on and the
 * segment is retired: made unreachable (the hint moved past it), then,
 * after every reader that could still reach it is gone (an RCU grace
 * period in the kernel and in liblfq's in-process queues), reopened from
 * the pool or freed. A frame (the place of a segment in the mapping)
 * therefore holds one life after another; a segment's first lap has no
 * previous lap in its life (lfq_mpsc_lap_free()). In a record segment a
 * record never straddles the segment's end (lfq_rec_seg_full()), and a
 * header left in the frame by an earlier life is of an earlier lap than
 * any index of this one (indices only grow from life to life), so it
 * reads as "not committed", as a header of this life's earlier lap does;
 * the payload words of that life were zeroed by the consumer that drained
 * it (lfq_rec.h's invariant holds across lives). Modelled in
 * tests/model/rec_segments.pml.
 *
 * Every value read from a shared word follows HOSTILE MEMORY (lfq_rules.h):
 * an end is only ever used as an index (masked into the segment), a frame
 * number only after a range check.
 */
#ifndef _LFQ_PROTO_SEGMENT_H
#define _LFQ_PROTO_SEGMENT_H

#include "lfq_common.h"
#include "lfq_layout.h"
#include "lfq_mpsc.h"
#include "lfq_rec.h"

/* struct lfq_seg_meta.next while a producer links a segment after it. */
#define LFQ_SEG_LINKING		0xffffffffu

/* Whether a head word says its segment is sealed. */
static inline int lfq_seg_sealed(__u64 v)
{
	return (v & LFQ_SEG_SEALED) != 0;
}

/* The index a head word stands at: a sealed segment's end. */
static inline __u64 lfq_seg_end(__u64 v)
{
	return v & ~LFQ_SEG_SEALED;
}

/**
 * lfq_seg_loc_init() - where the segment in frame @frame has its words, in
 * a mapping laid out by @l (a process's; the kernel has its own pages).
 * @r:		filled in.
 * @base:	start of the mapping.
 * @h:		a validated private copy of the header.
 * @l:		the layout it implies.
 * @frame:	the frame, < l->seg_max.
 * @seg_base:	the segment's first index in its current life.
 */
static inline void lfq_seg_loc_init(struct lfq_ring_loc *r, void *base,
				    const struct lfq_ring_hdr *h,
				    const struct lfq_layout *l, __u32 frame,
				    __u64 seg_base)
{
	unsigned char *b = (unsigned char *)base;
	unsigned char *f = b + l->frames_offset + (__u64)frame * l->frame_size;

	lfq_ring_loc_init(r, base, h);
	r->head = &((struct lfq_seg_word *)(b + l->heads_offset))[frame].v;
	r->tail = &((struct lfq_seg_word *)(b + l->tails_offset))[frame].v;
	r->commit = (__u64 *)f;
	r->data = f + l->commit_size;
	r->base = seg_base;
	r->segment = 1;
}

/**
 * lfq_seg_full() - whether a producer that failed to reserve in a segment
 * found it full (then it seals and grows), rather than only contended or
 * held back by the lap guard (then it retries or gives up).
 * @r:		the segment.
 * @v:		its head word, as the producer read it (not sealed).
 *
 * ORDERING spsc-tail / mpsc-tail: the acquire of tail.
 *
 * Return: true if every slot of the segment is in use.
 */
static inline int lfq_seg_full(const struct lfq_ring_loc *r, __u64 v)
{
	return lfq_ring_count(lfq_seg_end(v), lfq_load_acquire(r->tail),
			      r->slot_count) == r->slot_count;
}

/**
 * lfq_rec_seg_full() - the same for a record queue's segment (a ring of
 * slot_count bytes): whether it lacks room for a record of @need bytes
 * (lfq_rec_size()), so that the producer seals it and goes on in the next
 * segment. The rest of a sealed segment stays unused: records never
 * straddle two segments.
 * @r:		the segment.
 * @v:		its head word, as the producer read it (not sealed).
 * @need:	the record's bytes in the ring.
 *
 * ORDERING rec-release: the acquire of tail (the consumer's release).
 *
 * Return: true if the record does not fit; a tail ahead of head or a
 * ring behind it (forged: HOSTILE MEMORY H2) reads as full.
 */
static inline int lfq_rec_seg_full(const struct lfq_ring_loc *r, __u64 v,
				   __u64 need)
{
	__u64 used = lfq_seg_end(v) - lfq_load_acquire(r->tail);

	return used > r->slot_count || r->slot_count - used < need;
}

/**
 * lfq_seg_seal() - seal a segment whose head word read @seen, unless a
 * reservation moved it first.
 * @r:		the segment.
 * @seen:	its head word as read.
 *
 * ORDERING seg-seal: a fully ordered CAS (MPSC producers race on it; the
 * one SPSC producer's CAS never fails). Everything reserved before it is
 * below the end; nothing can be reserved after it.
 *
 * Return: true if the segment is sealed now (by us or before).
 */
static inline int lfq_seg_seal(const struct lfq_ring_loc *r, __u64 seen)
{
	__u64 v = seen;

	if (lfq_seg_sealed(v))
		return 1;
	return lfq_try_cmpxchg_full(r->head, &v, v | LFQ_SEG_SEALED) ||
	       lfq_seg_sealed(v);
}

/**
 * lfq_seg_drained() - whether the consumer is done with a segment: it is
 * sealed and the consumer's index stands at its end.
 * @r:		the segment.
 * @tail:	the consumer's private index in it.
 *
 * ORDERING seg-seal: the acquire pairs with the sealing CAS, so every
 * reservation in the segment is below the end read here.
 *
 * Return: true if the consumer may move to the next segment.
 */
static inline int lfq_seg_drained(const struct lfq_ring_loc *r, __u64 tail)
{
	__u64 v = lfq_load_acquire(r->head);

	return lfq_seg_sealed(v) && lfq_seg_end(v) == tail;
}

/**
 * lfq_seg_ready_through() - whether a waiter's count of what is ready in a
 * segment runs to the segment's sealed end, so that what is ready in the
 * next segment adds to it: a consumer waiting for more slots than its
 * segment has left must not sleep while the rest of the queue holds them.
 * @r:		the consumer's segment.
 * @tail:	the consumer's index in it.
 * @n:		what is ready in this segment from @tail (lfq_ready_data(),
 *		below what the waiter still needs: not capped).
 *
 * ORDERING seg-seal: the acquire pairs with the sealing CAS (the end is
 * where the last reservation of the segment ends). A record segment's
 * count is of records, not bytes: it runs through only when nothing is
 * left (record waits ask for one).
 *
 * Return: true if the count may go on in the next segment.
 */
static inline int lfq_seg_ready_through(const struct lfq_ring_loc *r,
					__u64 tail, __u32 n)
{
	__u64 v = lfq_load_acquire(r->head);

	if (!lfq_seg_sealed(v))
		return 0;
	/* HOSTILE MEMORY: both words user-writable; only compared. */
	if (r->records || !n)
		return !n && lfq_seg_end(v) == tail;
	return lfq_seg_end(v) - tail == n;
}

/**
 * lfq_seg_open() - start a spare segment's life at @base, before anyone
 * can reach it: its tail, its table entry, then its head (unsealed last,
 * so a producer holding the frame from an earlier life sees either the
 * seal of a retired segment or a live one).
 * @r:		the segment (r->base is set).
 * @m:		its entry in the segment table.
 * @base:	its first index: the previous segment's end.
 */
static inline void lfq_seg_open(struct lfq_ring_loc *r,
				struct lfq_seg_meta *m, __u64 base)
{
	r->base = base;
	lfq_store_relaxed(&m->base, base);
	lfq_store_relaxed(&m->next, 0u);
	lfq_store_relaxed(&m->state, (__u32)LFQ_SEG_LIVE);
	lfq_store_relaxed(r->tail, base);
	/* ORDERING seg-link: published by the release of the link. */
	lfq_store_relaxed(r->head, base);
}

/**
 * lfq_seg_claim_link() - claim the link after a sealed segment.
 * @m:		the sealed segment's table entry.
 *
 * Return: true if the caller must link the next segment (and then
 * lfq_seg_publish_link(), or give the claim up with lfq_seg_drop_link()).
 */
static inline int lfq_seg_claim_link(struct lfq_seg_meta *m)
{
	__u32 none = 0;

	return lfq_try_cmpxchg_full(&m->next, &none, LFQ_SEG_LINKING);
}

/**
 * lfq_seg_publish_link() - link @frame after the segment of @m.
 * @m:		the sealed segment's table entry, claimed.
 * @frame:	the next segment's frame, opened (lfq_seg_open()).
 *
 * ORDERING seg-link: whoever reads the link (lfq_seg_next()) sees the
 * segment it names initialised.
 */
static inline void lfq_seg_publish_link(struct lfq_seg_meta *m, __u32 frame)
{
	lfq_store_release(&m->next, frame + 1);
}

/* Give up a claimed link (no spare segment): another producer may try. */
static inline void lfq_seg_drop_link(struct lfq_seg_meta *m)
{
	lfq_store_release(&m->next, 0u);
}

/**
 * lfq_seg_next() - the frame linked after a segment.
 * @m:		the segment's table entry.
 * @seg_max:	frames in the queue.
 *
 * ORDERING seg-link: the acquire pairs with lfq_seg_publish_link().
 *
 * Return: the frame, or -1 while none is linked (or one is being linked;
 * a value out of range reads as none: HOSTILE MEMORY H3).
 */
static inline int lfq_seg_next(const struct lfq_seg_meta *m, __u32 seg_max)
{
	__u32 v = lfq_load_acquire(&m->next);

	return v && v != LFQ_SEG_LINKING && v <= seg_max ? (int)(v - 1) : -1;
}

/**
 * lfq_seg_committed() - whether every reservation of a sealed MPSC segment
 * is published (committed or discarded): the last lap of its slots names
 * indices up to its end.
 * @r:		the segment.
 * @end:	where it ends.
 *
 * Return: true if no producer can still be writing a slot of it.
 */
static inline int lfq_seg_committed(const struct lfq_ring_loc *r, __u64 end)
{
	__u64 i, v;

	/* HOSTILE MEMORY: @end came from a user-writable word; whatever it
	 * is, at most slot_count words are read.
	 */
	if ((__s64)(end - r->base) <= 0)
		return 1;	/* nothing was reserved in it */
	i = end - r->base > r->slot_count ? end - r->slot_count : r->base;
	for (; i != end; i++) {
		/* ORDERING mpsc-commit. */
		v = lfq_load_acquire(&r->commit[i & (r->slot_count - 1)]);
		if (lfq_mpsc_outstanding(v, i))
			return 0;
	}
	return 1;
}

#endif /* _LFQ_PROTO_SEGMENT_H */
