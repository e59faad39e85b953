/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * lfq_layout.h - queue geometry rules and the mapping layout, computed the
 * same way by the kernel (when it allocates a queue) and by liblfq (when it
 * lays a queue out in process memory, or checks one it attaches to).
 */
#ifndef _LFQ_PROTO_LAYOUT_H
#define _LFQ_PROTO_LAYOUT_H

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/types.h>
#else
#include <errno.h>
#include <linux/types.h>
#endif

#include "lfq.h"
#include "lfq_common.h"
#include "lfq_ring.h"

/**
 * struct lfq_geometry - what a queue is made of, as created.
 * @type:	LFQ_TYPE_*.
 * @flags:	LFQ_CREATE_* flags.
 * @slot_size:	bytes per slot.
 * @slot_count:	slots in the ring (an elastic queue: in each segment).
 * @seg_min:	LFQ_CREATE_ELASTIC: segments kept at rest; else 0.
 * @seg_max:	LFQ_CREATE_ELASTIC: segments at most; else 0.
 */
struct lfq_geometry {
	__u32 type;
	__u32 flags;
	__u32 slot_size;
	__u32 slot_count;
	__u32 seg_min;
	__u32 seg_max;
};

/**
 * struct lfq_layout - where each part of a queue lives in its mapping.
 * @hdr_offset:	struct lfq_ring_hdr page.
 * @prod_offset: struct lfq_prod_ctl page.
 * @cons_offset: struct lfq_cons_ctl page.
 * @commit_offset: commit words (MPSC), right after the consumer page; for
 *		an elastic queue, frame 0's.
 * @commit_size: bytes of the commit words (0 for SPSC); elastic: of each
 *		frame's.
 * @release_offset: MPMC: the release words, right after the commit
 *		words; else where they would be (@release_size is 0).
 * @release_size: MPMC: their bytes (as many as the commit words); else 0.
 * @data_offset: first copy of the slot area; elastic: frame 0's.
 * @data_size:	bytes of one copy of the slot area; elastic: of one
 *		segment's.
 * @segtab_offset: elastic: the segment table (struct lfq_segtab, then
 *		@seg_max struct lfq_seg_meta); else 0, as the rest below.
 * @segtab_size: its bytes, page aligned.
 * @heads_offset: elastic: the segments' head words.
 * @heads_size:	their bytes, page aligned.
 * @tails_offset: elastic: the segments' tail words.
 * @tails_size:	their bytes, page aligned.
 * @frames_offset: elastic: frame 0.
 * @frame_size:	elastic: bytes of one frame (commit words, slots twice).
 * @seg_max:	elastic: frames in the layout; 0 for a fixed queue.
 * @records:	a record queue (LFQ_CREATE_RECORDS): its consumer writes the
 *		data area too (it zeroes what it consumed, lfq_rec.h).
 * @overwrite:	in overwrite mode (LFQ_CREATE_OVERWRITE): its producers
 *		write the consumer page too (they move tail past the
 *		records they overwrite).
 * @map_size:	bytes of the whole layout, both copies of every slot area
 *		included.
 */
struct lfq_layout {
	__u64 hdr_offset;
	__u64 prod_offset;
	__u64 cons_offset;
	__u64 commit_offset;
	__u64 commit_size;
	__u64 release_offset;
	__u64 release_size;
	__u64 data_offset;
	__u64 data_size;
	__u64 segtab_offset;
	__u64 segtab_size;
	__u64 heads_offset;
	__u64 heads_size;
	__u64 tails_offset;
	__u64 tails_size;
	__u64 frames_offset;
	__u64 frame_size;
	__u64 seg_max;
	__u64 records;
	__u64 overwrite;
	__u64 map_size;
};

static inline int lfq_is_pow2(__u64 x)
{
	return x && !(x & (x - 1));
}

static inline __u64 lfq_page_align(__u64 bytes, __u64 page_size)
{
	return (bytes + page_size - 1) & ~(page_size - 1);
}

/**
 * lfq_geometry_check() - validate a queue's type, flags and geometry.
 * @g:		the geometry.
 * @page_size:	the page size of the memory that will hold the ring.
 *
 * The slot area must be a whole number of pages so that its second mapping
 * starts exactly where the ring wraps. An elastic queue has 1 <= seg_min
 * <= seg_max <= LFQ_SEGS_MAX segments, seg_max 2 at least (a full segment
 * is sealed for good and the queue goes on in the next: with one there is
 * no next), and seg_max of them hold at most LFQ_ELASTIC_BYTES_MAX bytes
 * of slots; a fixed one has neither. A record queue (LFQ_CREATE_RECORDS)
 * is a ring of slot_count bytes (slot_size 1): SPSC or MPSC, fixed or
 * elastic (segments of slot_count bytes), or MPMC and fixed; only a fixed
 * SPSC or MPSC record queue may overwrite (LFQ_CREATE_OVERWRITE), and
 * not block.
 *
 * Return: 0, or -EINVAL if any rule is broken.
 */
static inline int lfq_geometry_check(const struct lfq_geometry *g,
				     __u64 page_size)
{
	__u64 bytes = (__u64)g->slot_size * g->slot_count;

	if (g->type != LFQ_TYPE_SPSC && g->type != LFQ_TYPE_MPSC &&
	    g->type != LFQ_TYPE_MPMC)
		return -EINVAL;
	if (g->flags & ~LFQ_CREATE_FLAGS_ALL)
		return -EINVAL;
	/* Overwrite mode: records only; producers never wait for space. */
	if ((g->flags & LFQ_CREATE_OVERWRITE) &&
	    (!(g->flags & LFQ_CREATE_RECORDS) ||
	     (g->flags & LFQ_CREATE_BLOCK)))
		return -EINVAL;
	/*
	 * A ring of bytes, SPSC or MPSC (lfq_rec.h), fixed or elastic (each
	 * segment a ring of slot_count bytes); an elastic one grows rather
	 * than overwrite. MPMC (lfq_rec_mpmc.h): fixed, and producers never
	 * take what consumers may hold.
	 */
	if (g->flags & LFQ_CREATE_RECORDS) {
		if (g->type == LFQ_TYPE_MPMC &&
		    (g->flags & (LFQ_CREATE_ELASTIC | LFQ_CREATE_OVERWRITE)))
			return -EINVAL;
		if (g->slot_size != 1 ||
		    !lfq_is_pow2(g->slot_count) ||
		    bytes > LFQ_DATA_BYTES_MAX || !lfq_is_pow2(page_size) ||
		    bytes % page_size)
			return -EINVAL;
		if (!(g->flags & LFQ_CREATE_ELASTIC))
			return g->seg_min || g->seg_max ? -EINVAL : 0;
		return (g->flags & LFQ_CREATE_OVERWRITE) || !g->seg_min ||
		       g->seg_min > g->seg_max || g->seg_max < 2 ||
		       g->seg_max > LFQ_SEGS_MAX ||
		       bytes * g->seg_max > LFQ_ELASTIC_BYTES_MAX ? -EINVAL : 0;
	}
	if (g->slot_size < LFQ_SLOT_SIZE_MIN ||
	    g->slot_size > LFQ_SLOT_SIZE_MAX || g->slot_size % 8)
		return -EINVAL;
	if (g->slot_count < LFQ_SLOT_COUNT_MIN ||
	    g->slot_count > LFQ_SLOT_COUNT_MAX || !lfq_is_pow2(g->slot_count))
		return -EINVAL;
	if (bytes > LFQ_DATA_BYTES_MAX || !lfq_is_pow2(page_size) ||
	    bytes % page_size)
		return -EINVAL;
	if (!(g->flags & LFQ_CREATE_ELASTIC))
		return g->seg_min || g->seg_max ? -EINVAL : 0;
	/* Elastic MPMC queues do not exist (yet). */
	if (g->type == LFQ_TYPE_MPMC || !g->seg_min ||
	    g->seg_min > g->seg_max || g->seg_max < 2 ||
	    g->seg_max > LFQ_SEGS_MAX ||
	    bytes * g->seg_max > LFQ_ELASTIC_BYTES_MAX)
		return -EINVAL;
	return 0;
}

/**
 * lfq_layout_init() - compute the mapping layout of a valid geometry.
 * @l:		layout to fill.
 * @g:		the geometry: MPSC queues carry a page-aligned array of
 *		commit words (8 bytes per slot) before each slot area; an
 *		elastic queue carries a segment table, head and tail words,
 *		and seg_max frames.
 * @page_size:	page size of the mapping.
 */
static inline void lfq_layout_init(struct lfq_layout *l,
				   const struct lfq_geometry *g,
				   __u64 page_size)
{
	__u64 commit = 0, segs = g->seg_max;

	/* Record queues commit in their headers: no commit words. */
	if (lfq_type_committed(g->type) && !(g->flags & LFQ_CREATE_RECORDS))
		commit = lfq_page_align((__u64)g->slot_count * 8, page_size);
	l->hdr_offset = 0;
	l->prod_offset = page_size;
	l->cons_offset = 2 * page_size;
	l->commit_offset = 3 * page_size;
	l->commit_size = commit;
	l->release_offset = l->commit_offset + commit;
	l->release_size = g->type == LFQ_TYPE_MPMC ? commit : 0;
	l->data_size = (__u64)g->slot_size * g->slot_count;
	l->seg_max = segs;
	l->records = !!(g->flags & LFQ_CREATE_RECORDS);
	l->overwrite = !!(g->flags & LFQ_CREATE_OVERWRITE);
	if (!(g->flags & LFQ_CREATE_ELASTIC)) {
		l->data_offset = l->release_offset + l->release_size;
		l->segtab_offset = 0;
		l->segtab_size = 0;
		l->heads_offset = 0;
		l->heads_size = 0;
		l->tails_offset = 0;
		l->tails_size = 0;
		l->frames_offset = 0;
		l->frame_size = 0;
		l->map_size = l->data_offset + 2 * l->data_size;
		return;
	}
	l->segtab_offset = 3 * page_size;
	l->segtab_size = lfq_page_align(sizeof(struct lfq_segtab) +
					segs * sizeof(struct lfq_seg_meta),
					page_size);
	l->heads_offset = l->segtab_offset + l->segtab_size;
	l->heads_size = lfq_page_align(segs * sizeof(struct lfq_seg_word),
				       page_size);
	l->tails_offset = l->heads_offset + l->heads_size;
	l->tails_size = l->heads_size;
	l->frames_offset = l->tails_offset + l->tails_size;
	l->frame_size = commit + 2 * l->data_size;
	l->commit_offset = l->frames_offset;
	l->release_offset = l->frames_offset + commit;
	l->data_offset = l->frames_offset + commit;
	l->map_size = l->frames_offset + segs * l->frame_size;
}

/* The parts of a queue's mapping, in layout order. */
enum lfq_part {
	LFQ_PART_HDR,		/* struct lfq_ring_hdr */
	LFQ_PART_PROD,		/* struct lfq_prod_ctl */
	LFQ_PART_CONS,		/* struct lfq_cons_ctl */
	LFQ_PART_COMMIT,	/* MPSC commit words (empty for SPSC, elastic) */
	LFQ_PART_RELEASE,	/* MPMC release words (empty for the others) */
	LFQ_PART_DATA,		/* the slot area, both copies (empty: elastic) */
	LFQ_PART_SEGTAB,	/* elastic: the segment table */
	LFQ_PART_HEADS,		/* elastic: the segments' head words */
	LFQ_PART_TAILS,		/* elastic: the segments' tail words */
	LFQ_PART_FRAMES,	/* elastic: the frames */
	LFQ_PARTS
};

/**
 * lfq_layout_part() - where a part of the mapping lies, and who writes it.
 * @l:		the layout.
 * @part:	an enum lfq_part.
 * @off:	set to the part's offset.
 * @size:	set to its bytes (0 for an empty part).
 *
 * This is the ROLES rule of lfq_rules.h, the only place it is written
 * as code: the kernel applies it to every mmap() and liblfq follows it
 * when it maps a queue. The header and the segment table are never
 * writable, the consumer page, the release words (MPMC) and the segments'
 * tail words only by a consumer, the rest (producer page, commit words,
 * slots, head words, frames) only by a producer; but a record queue's
 * data area or frames by both (its consumer zeroes the records it
 * consumed), and
 * in overwrite mode its consumer page by both (producers move tail).
 *
 * Return: the LFQ_ROLE_* bits a file needs one of to map the part
 * writable, or 0
 * if no file may.
 */
static inline __u32 lfq_layout_part(const struct lfq_layout *l,
				    unsigned int part, __u64 *off, __u64 *size)
{
	__u64 page = l->prod_offset - l->hdr_offset;	/* one page each */
	int fixed = !l->seg_max;

	switch (part) {
	case LFQ_PART_HDR:
		*off = l->hdr_offset;
		*size = page;
		return 0;
	case LFQ_PART_PROD:
		*off = l->prod_offset;
		*size = page;
		return LFQ_ROLE_PRODUCER;
	case LFQ_PART_CONS:
		*off = l->cons_offset;
		*size = page;
		return l->overwrite ? LFQ_ROLE_ALL : LFQ_ROLE_CONSUMER;
	case LFQ_PART_COMMIT:
		*off = l->commit_offset;
		*size = fixed ? l->commit_size : 0;
		return LFQ_ROLE_PRODUCER;
	case LFQ_PART_RELEASE:
		*off = l->release_offset;
		*size = l->release_size;
		return LFQ_ROLE_CONSUMER;
	case LFQ_PART_DATA:
		*off = l->data_offset;
		*size = fixed ? 2 * l->data_size : 0;
		return l->records ? LFQ_ROLE_ALL : LFQ_ROLE_PRODUCER;
	case LFQ_PART_SEGTAB:
		*off = l->segtab_offset;
		*size = l->segtab_size;
		return 0;
	case LFQ_PART_HEADS:
		*off = l->heads_offset;
		*size = l->heads_size;
		return LFQ_ROLE_PRODUCER;
	case LFQ_PART_TAILS:
		*off = l->tails_offset;
		*size = l->tails_size;
		return LFQ_ROLE_CONSUMER;
	default:
		*off = l->frames_offset;
		*size = l->seg_max * l->frame_size;
		return l->records ? LFQ_ROLE_ALL : LFQ_ROLE_PRODUCER;
	}
}

/**
 * lfq_ring_hdr_init() - fill the header page of a new queue.
 * @h:		header to fill (zeroed memory).
 * @g:		the geometry.
 * @l:		the queue's layout.
 */
static inline void lfq_ring_hdr_init(struct lfq_ring_hdr *h,
				     const struct lfq_geometry *g,
				     const struct lfq_layout *l)
{
	h->magic = LFQ_RING_MAGIC;
	h->layout_version = g->flags & LFQ_CREATE_ELASTIC ?
			    LFQ_RING_LAYOUT_ELASTIC : LFQ_RING_LAYOUT_VERSION;
	h->type = g->type;
	/* wake_mode says it; readers that predate it need not know. */
	h->flags = g->flags & ~LFQ_CREATE_WAKE_SYMMETRIC;
	h->slot_size = g->slot_size;
	h->slot_count = g->slot_count;
	h->prod_offset = l->prod_offset;
	h->cons_offset = l->cons_offset;
	h->data_offset = l->data_offset;
	h->data_size = l->data_size;
	h->commit_offset = l->commit_offset;
	h->commit_size = l->commit_size;
	h->seg_min = g->seg_min;
	h->seg_max = g->seg_max;
	h->segtab_offset = l->segtab_offset;
	h->heads_offset = l->heads_offset;
	h->tails_offset = l->tails_offset;
	h->frames_offset = l->frames_offset;
	h->frame_size = l->frame_size;
	h->wake_mode = LFQ_WAKE_SYMMETRIC;	/* lfq_ring_hdr_set_wake() */
	h->__reserved = 0;
}

/**
 * lfq_ring_hdr_set_wake() - record a new queue's wakeup fencing.
 * @h:		its header, from lfq_ring_hdr_init().
 * @mode:	LFQ_WAKE_ASYMMETRIC or LFQ_WAKE_SYMMETRIC.
 *
 * An asymmetric queue's layout version is one that readers which predate
 * it refuse (they would sleep without the heavy fence).
 */
static inline void lfq_ring_hdr_set_wake(struct lfq_ring_hdr *h, __u32 mode)
{
	if (mode != LFQ_WAKE_ASYMMETRIC)
		return;
	h->wake_mode = LFQ_WAKE_ASYMMETRIC;
	h->layout_version = h->seg_max ? LFQ_RING_LAYOUT_ELASTIC_ASYM :
					 LFQ_RING_LAYOUT_ASYM;
}

/* The geometry a header states. */
static inline void lfq_ring_hdr_geometry(const struct lfq_ring_hdr *h,
					 struct lfq_geometry *g)
{
	g->type = h->type;
	g->flags = h->flags;
	g->slot_size = h->slot_size;
	g->slot_count = h->slot_count;
	g->seg_min = h->seg_min;
	g->seg_max = h->seg_max;
}

/**
 * lfq_ring_hdr_check() - validate a header found in memory someone else
 * wrote, against the layout its geometry implies.
 * @h:		the header (read once by the caller into private memory).
 * @page_size:	page size of the mapping.
 * @l:		filled with the layout on success.
 *
 * Return: 0, -EPROTO on a bad magic or version, -EINVAL on unknown flags,
 * a bad geometry or offsets that do not match it.
 */
static inline int lfq_ring_hdr_check(const struct lfq_ring_hdr *h,
				     __u64 page_size, struct lfq_layout *l)
{
	struct lfq_geometry g;
	__u32 version;

	lfq_ring_hdr_geometry(h, &g);
	if (g.flags & LFQ_CREATE_ELASTIC)
		version = h->wake_mode == LFQ_WAKE_ASYMMETRIC ?
			  LFQ_RING_LAYOUT_ELASTIC_ASYM :
			  LFQ_RING_LAYOUT_ELASTIC;
	else
		version = h->wake_mode == LFQ_WAKE_ASYMMETRIC ?
			  LFQ_RING_LAYOUT_ASYM : LFQ_RING_LAYOUT_VERSION;
	if (h->magic != LFQ_RING_MAGIC || h->layout_version != version)
		return -EPROTO;
	if (h->wake_mode > LFQ_WAKE_ASYMMETRIC || h->__reserved)
		return -EINVAL;
	if (lfq_geometry_check(&g, page_size))
		return -EINVAL;
	lfq_layout_init(l, &g, page_size);
	if (h->prod_offset != l->prod_offset ||
	    h->cons_offset != l->cons_offset ||
	    h->commit_offset != l->commit_offset ||
	    h->commit_size != l->commit_size ||
	    h->data_offset != l->data_offset || h->data_size != l->data_size ||
	    h->segtab_offset != l->segtab_offset ||
	    h->heads_offset != l->heads_offset ||
	    h->tails_offset != l->tails_offset ||
	    h->frames_offset != l->frames_offset ||
	    h->frame_size != l->frame_size)
		return -EINVAL;
	return 0;
}

#endif /* _LFQ_PROTO_LAYOUT_H */
