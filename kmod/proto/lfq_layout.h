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
#include "lfq_ring.h"

/**
 * struct lfq_layout - where each part of a queue lives in its mapping.
 * @hdr_offset:	struct lfq_ring_hdr page.
 * @prod_offset: struct lfq_prod_ctl page.
 * @cons_offset: struct lfq_cons_ctl page.
 * @commit_offset: commit words (MPSC), right after the consumer page.
 * @commit_size: bytes of the commit words; 0 for SPSC.
 * @data_offset: first copy of the slot area.
 * @data_size:	bytes of one copy of the slot area.
 * @map_size:	bytes of the whole layout, both copies of the slot area
 *		included.
 */
struct lfq_layout {
	__u64 hdr_offset;
	__u64 prod_offset;
	__u64 cons_offset;
	__u64 commit_offset;
	__u64 commit_size;
	__u64 data_offset;
	__u64 data_size;
	__u64 map_size;
};

static inline int lfq_is_pow2(__u64 x)
{
	return x && !(x & (x - 1));
}

/**
 * lfq_geometry_check() - validate a queue's type and geometry.
 * @type:	LFQ_TYPE_*.
 * @slot_size:	bytes per slot.
 * @slot_count:	slots in the ring.
 * @page_size:	the page size of the memory that will hold the ring.
 *
 * The slot area must be a whole number of pages so that its second mapping
 * starts exactly where the ring wraps.
 *
 * Return: 0, or -EINVAL if any rule is broken.
 */
static inline int lfq_geometry_check(__u32 type, __u32 slot_size,
				     __u32 slot_count, __u64 page_size)
{
	__u64 bytes = (__u64)slot_size * slot_count;

	if (type != LFQ_TYPE_SPSC && type != LFQ_TYPE_MPSC)
		return -EINVAL;
	if (slot_size < LFQ_SLOT_SIZE_MIN || slot_size > LFQ_SLOT_SIZE_MAX ||
	    slot_size % 8)
		return -EINVAL;
	if (slot_count < LFQ_SLOT_COUNT_MIN ||
	    slot_count > LFQ_SLOT_COUNT_MAX || !lfq_is_pow2(slot_count))
		return -EINVAL;
	if (bytes > LFQ_DATA_BYTES_MAX || !lfq_is_pow2(page_size) ||
	    bytes % page_size)
		return -EINVAL;
	return 0;
}

/**
 * lfq_layout_init() - compute the mapping layout of a valid geometry.
 * @l:		layout to fill.
 * @type:	LFQ_TYPE_*: MPSC queues carry a page-aligned array of commit
 *		words (8 bytes per slot) between the consumer page and the
 *		slot area.
 * @slot_size:	bytes per slot.
 * @slot_count:	slots in the ring.
 * @page_size:	page size of the mapping.
 */
static inline void lfq_layout_init(struct lfq_layout *l, __u32 type,
				   __u32 slot_size, __u32 slot_count,
				   __u64 page_size)
{
	__u64 commit = 0;

	if (type == LFQ_TYPE_MPSC)
		commit = ((__u64)slot_count * 8 + page_size - 1) &
			 ~(page_size - 1);
	l->hdr_offset = 0;
	l->prod_offset = page_size;
	l->cons_offset = 2 * page_size;
	l->commit_offset = 3 * page_size;
	l->commit_size = commit;
	l->data_offset = l->commit_offset + commit;
	l->data_size = (__u64)slot_size * slot_count;
	l->map_size = l->data_offset + 2 * l->data_size;
}

/* The parts of a queue's mapping, in layout order. */
enum lfq_part {
	LFQ_PART_HDR,		/* struct lfq_ring_hdr */
	LFQ_PART_PROD,		/* struct lfq_prod_ctl */
	LFQ_PART_CONS,		/* struct lfq_cons_ctl */
	LFQ_PART_COMMIT,	/* MPSC commit words (empty for SPSC) */
	LFQ_PART_DATA,		/* the slot area, both copies */
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
 * when it maps a queue. The header is never writable, the consumer page
 * only by a consumer, the producer page, the commit words and the slots
 * only by a producer.
 *
 * Return: the LFQ_ROLE_* bit a file needs to map the part writable, or 0
 * if no file may.
 */
static inline __u32 lfq_layout_part(const struct lfq_layout *l,
				    unsigned int part, __u64 *off, __u64 *size)
{
	switch (part) {
	case LFQ_PART_HDR:
		*off = l->hdr_offset;
		*size = l->prod_offset - l->hdr_offset;
		return 0;
	case LFQ_PART_PROD:
		*off = l->prod_offset;
		*size = l->cons_offset - l->prod_offset;
		return LFQ_ROLE_PRODUCER;
	case LFQ_PART_CONS:
		*off = l->cons_offset;
		*size = l->commit_offset - l->cons_offset;
		return LFQ_ROLE_CONSUMER;
	case LFQ_PART_COMMIT:
		*off = l->commit_offset;
		*size = l->commit_size;
		return LFQ_ROLE_PRODUCER;
	default:
		*off = l->data_offset;
		*size = 2 * l->data_size;
		return LFQ_ROLE_PRODUCER;
	}
}

/**
 * lfq_ring_hdr_init() - fill the header page of a new queue.
 * @h:		header to fill (zeroed memory).
 * @type:	LFQ_TYPE_*.
 * @flags:	creation flags.
 * @slot_size:	bytes per slot.
 * @slot_count:	slots in the ring.
 * @l:		the queue's layout.
 */
static inline void lfq_ring_hdr_init(struct lfq_ring_hdr *h, __u32 type,
				     __u32 flags, __u32 slot_size,
				     __u32 slot_count,
				     const struct lfq_layout *l)
{
	h->magic = LFQ_RING_MAGIC;
	h->layout_version = LFQ_RING_LAYOUT_VERSION;
	h->type = type;
	h->flags = flags;
	h->slot_size = slot_size;
	h->slot_count = slot_count;
	h->prod_offset = l->prod_offset;
	h->cons_offset = l->cons_offset;
	h->data_offset = l->data_offset;
	h->data_size = l->data_size;
	h->commit_offset = l->commit_offset;
	h->commit_size = l->commit_size;
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
	if (h->magic != LFQ_RING_MAGIC ||
	    h->layout_version != LFQ_RING_LAYOUT_VERSION)
		return -EPROTO;
	if ((h->flags & ~LFQ_CREATE_FLAGS_ALL) ||
	    lfq_geometry_check(h->type, h->slot_size, h->slot_count, page_size))
		return -EINVAL;
	lfq_layout_init(l, h->type, h->slot_size, h->slot_count, page_size);
	if (h->prod_offset != l->prod_offset ||
	    h->cons_offset != l->cons_offset ||
	    h->commit_offset != l->commit_offset ||
	    h->commit_size != l->commit_size ||
	    h->data_offset != l->data_offset || h->data_size != l->data_size)
		return -EINVAL;
	return 0;
}

#endif /* _LFQ_PROTO_LAYOUT_H */
