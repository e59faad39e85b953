/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * lfq_ring.h - the memory layout a queue shares between the kernel and every
 * process that maps it. Declarations only; the algorithms that read and
 * write it live once, in kmod/proto/, for both sides.
 *
 * The mmap layout of a queue (offsets are reported by LFQ_IOC_INFO and are
 * repeated in the header page):
 *
 *   hdr_offset   one page, read-only for everyone: struct lfq_ring_hdr
 *   prod_offset  one page, producer state: struct lfq_prod_ctl
 *   cons_offset  one page, consumer state: struct lfq_cons_ctl
 *   commit_offset commit_size bytes (MPSC only, else 0): one __u64 commit
 *                word per slot; slot i is committed when the word of
 *                (i & (slot_count - 1)) holds i + 1 (see lfq_mpsc.h)
 *   data_offset  data_size bytes: slot_count slots of slot_size bytes,
 *                then the same pages again, so that any run of up to
 *                slot_count consecutive slots is one contiguous span.
 *
 * MPSC producers also own one claim record each in their page (struct
 * lfq_mpsc_claim), so the kernel can tell the slots of a producer that died
 * holding them from those of live ones (see lfq_mpsc.h).
 *
 * Indices are free-running 64-bit counters: slot i lives at
 * (i & (slot_count - 1)) * slot_size, and head - tail is the number of
 * slots in use (SPSC: committed; MPSC: reserved), so all slot_count slots
 * are usable.
 */
#ifndef _UAPI_LINUX_LFQ_RING_H
#define _UAPI_LINUX_LFQ_RING_H

#include <linux/types.h>

#define LFQ_RING_MAGIC		0x3151464cu	/* "LFQ1" in little-endian bytes */
#define LFQ_RING_LAYOUT_VERSION	1u
#define LFQ_CACHELINE		64

/**
 * struct lfq_ring_hdr - the read-only first page of a queue's mapping.
 * @magic:	LFQ_RING_MAGIC.
 * @layout_version: LFQ_RING_LAYOUT_VERSION.
 * @type:	LFQ_TYPE_* (see lfq.h).
 * @flags:	creation flags.
 * @slot_size:	bytes per slot, a multiple of 8.
 * @slot_count:	slots in the ring, a power of two.
 * @prod_offset: offset of struct lfq_prod_ctl from the start of the mapping.
 * @cons_offset: offset of struct lfq_cons_ctl.
 * @data_offset: offset of the first copy of the slot area.
 * @data_size:	bytes of one copy of the slot area (page aligned).
 * @commit_offset: offset of the commit words (MPSC).
 * @commit_size: bytes of the commit words (page aligned); 0 for SPSC.
 */
struct lfq_ring_hdr {
	__u32 magic;
	__u32 layout_version;
	__u32 type;
	__u32 flags;
	__u32 slot_size;
	__u32 slot_count;
	__u64 prod_offset;
	__u64 cons_offset;
	__u64 data_offset;
	__u64 data_size;
	__u64 commit_offset;
	__u64 commit_size;
};

/* Claim records in the producer page: one per registered MPSC producer. */
#define LFQ_MPSC_CLAIMS		60

/**
 * struct lfq_mpsc_claim - the slots an MPSC producer may hold, one cache
 * line in the producer page, registered with LFQ_IOC_CLAIM.
 * @start:	first index of the reservation being made or held.
 * @end:	one past its last index; [start, end) is written before the
 *		reservation's compare-and-swap, so it covers (at least) every
 *		slot the producer holds. A stale range is harmless: its slots
 *		are committed already.
 * @__pad:	to the end of the cache line.
 */
struct lfq_mpsc_claim {
	__u64 start;
	__u64 end;
	__u8 __pad[LFQ_CACHELINE - 16];
};

/**
 * struct lfq_prod_ctl - producer state, on its own page.
 * @head:	SPSC: index of the next slot to commit; slots below it are
 *		readable; written only by the producer, with release
 *		ordering. MPSC: index of the next slot to reserve, advanced
 *		by compare-and-swap; commit words say what is readable.
 * @need_space:	non-zero while a producer sleeps waiting for free slots:
 *		whoever releases slots must wake it. Set by the waiter,
 *		cleared by the waker.
 * @full_events: times the producer found the ring full (statistics).
 * @claims:	MPSC: the producers' claim records, by LFQ_IOC_CLAIM index.
 */
struct lfq_prod_ctl {
	__u64 head;
	__u8 __pad0[LFQ_CACHELINE - 8];
	__u32 need_space;
	__u32 __pad1;
	__u8 __pad2[LFQ_CACHELINE - 8];
	__u64 full_events;
	__u8 __pad3[LFQ_CACHELINE - 8];
	struct lfq_mpsc_claim claims[LFQ_MPSC_CLAIMS];
};

/**
 * struct lfq_cons_ctl - consumer state, on its own page.
 * @tail:	index of the next slot to consume; slots below it are free.
 *		Written only by the consumer, with release ordering.
 * @need_data:	non-zero while a consumer sleeps waiting for data: whoever
 *		commits slots must wake it. Set by the waiter, cleared by
 *		the waker.
 * @empty_events: times the consumer found the ring empty (statistics).
 */
struct lfq_cons_ctl {
	__u64 tail;
	__u8 __pad0[LFQ_CACHELINE - 8];
	__u32 need_data;
	__u32 __pad1;
	__u8 __pad2[LFQ_CACHELINE - 8];
	__u64 empty_events;
};

#endif /* _UAPI_LINUX_LFQ_RING_H */
