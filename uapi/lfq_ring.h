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
 *   commit_offset commit_size bytes (MPSC, MPMC; else 0): one __u64 commit
 *                word per slot; slot i is committed when the word of
 *                (i & (slot_count - 1)) holds i + 1 (see lfq_mpsc.h)
 *                MPMC: commit words, then as many bytes of release words
 *                (slot i released when its word holds i + 1; lfq_mpmc.h)
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
 *
 * An elastic queue (LFQ_CREATE_ELASTIC) replaces the commit words and the
 * slot area by segments: each is a ring of slot_count slots with its own
 * head and tail word and a frame of the mapping (its commit words, its
 * slots twice). Indices run on from one segment to the next: a producer
 * that finds its segment full seals it (LFQ_SEG_SEALED in its head word;
 * the index where it ends is the rest of that word) and continues in the
 * segment linked after it, whose first index is that end. The layout:
 *
 *   hdr, prod, cons	as above (prod->head, cons->tail unused)
 *   segtab_offset	read-only: struct lfq_segtab, then seg_max struct
 *			lfq_seg_meta, written only by the kernel
 *   heads_offset	seg_max struct lfq_seg_word: each segment's head,
 *			written by producers
 *   tails_offset	seg_max struct lfq_seg_word: each segment's tail,
 *			written by the consumer
 *   frames_offset	seg_max frames of frame_size bytes: frame f holds
 *			the pages of the segment allocated in frame f, from
 *			its allocation to its free (live, retired or a
 *			spare: a producer descheduled in a retired segment
 *			reads this queue's own words, never faults); a
 *			frame without a segment reads as zeros and is a
 *			SIGBUS to write (the kernel zaps a frame from every
 *			mapping when a segment is allocated in it or freed).
 */
#ifndef _UAPI_LINUX_LFQ_RING_H
#define _UAPI_LINUX_LFQ_RING_H

#include <linux/types.h>

#define LFQ_RING_MAGIC		0x3151464cu	/* "LFQ1" in little-endian bytes */
#define LFQ_RING_LAYOUT_VERSION	1u
#define LFQ_RING_LAYOUT_ELASTIC	2u	/* LFQ_CREATE_ELASTIC: segments */
/*
 * A fixed queue whose wake_mode is LFQ_WAKE_ASYMMETRIC: the layout of
 * version 1, under a number that readers which predate wake_mode refuse
 * (they would sleep without the heavy fence).
 */
#define LFQ_RING_LAYOUT_ASYM	3u
/* The same for an elastic queue: the layout of version 2. */
#define LFQ_RING_LAYOUT_ELASTIC_ASYM	4u
#define LFQ_CACHELINE		64

/**
 * struct lfq_ring_hdr - the read-only first page of a queue's mapping.
 * @magic:	LFQ_RING_MAGIC.
 * @layout_version: LFQ_RING_LAYOUT_VERSION, _ELASTIC, _ASYM or
 *		_ELASTIC_ASYM.
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
 *		MPMC: the release words follow the commit words, as many
 *		bytes, at commit_offset + commit_size.
 * @seg_min:	elastic queues: segments kept at rest (else 0).
 * @seg_max:	elastic queues: segments at most (else 0).
 * @segtab_offset: elastic queues: offset of struct lfq_segtab.
 * @heads_offset: elastic queues: offset of the head words.
 * @tails_offset: elastic queues: offset of the tail words.
 * @frames_offset: elastic queues: offset of frame 0.
 * @frame_size:	elastic queues: bytes per frame.
 * @wake_mode:	LFQ_WAKE_SYMMETRIC or LFQ_WAKE_ASYMMETRIC: how the
 *		wakeup handshake is fenced on this queue (0 in headers
 *		written before the field existed: symmetric).
 * @__reserved:	zero.
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
	__u32 seg_min;
	__u32 seg_max;
	__u64 segtab_offset;
	__u64 heads_offset;
	__u64 tails_offset;
	__u64 frames_offset;
	__u64 frame_size;
	__u32 wake_mode;
	__u32 __reserved;
};

/*
 * struct lfq_ring_hdr.wake_mode. The wakeup handshake (a publisher stores
 * its index and reads the peer's need-wakeup flag; a sleeper stores its
 * flag and re-reads the index) needs a full barrier between the store and
 * the load on both sides, or one side may miss the other's store.
 *
 * SYMMETRIC: both sides execute that full barrier.
 * ASYMMETRIC: publishers may order the two with a compiler barrier only;
 * every sleeper pays instead with a heavy fence between arming its flag
 * and its last re-check, which makes every CPU execute a full barrier (the
 * kernel: an IPI to each CPU; processes: membarrier(2)
 * MEMBARRIER_CMD_GLOBAL_EXPEDITED, whose publishers registered). A
 * publisher may always choose the full barrier; a sleeper may never skip
 * the heavy fence on an asymmetric queue.
 */
#define LFQ_WAKE_SYMMETRIC	0u
#define LFQ_WAKE_ASYMMETRIC	1u

/* In a segment's head word: sealed, no reservation may follow. */
#define LFQ_SEG_SEALED		0x8000000000000000ull	/* bit 63 */

/* struct lfq_seg_meta.state */
#define LFQ_SEG_FREE		0	/* no segment's life in the frame */
#define LFQ_SEG_LIVE		1	/* linked in the queue */
#define LFQ_SEG_RETIRED		2	/* unlinked; freed after a grace period */

/**
 * struct lfq_segtab - the head of an elastic queue's segment table
 * (read-only, written by the kernel).
 * @pseg:	the frame of the producers' current segment (the newest):
 *		where a producer without a segment of its own starts.
 * @cseg:	the frame of the oldest live segment, where the consumer is
 *		or was last seen.
 * @__pad:	to a cache line.
 */
struct lfq_segtab {
	__u32 pseg;
	__u32 cseg;
	__u8 __pad[LFQ_CACHELINE - 8];
};

/**
 * struct lfq_seg_meta - one frame's segment (read-only, kernel-written).
 * @base:	the segment's first index in its current life.
 * @next:	the frame of the segment linked after it, plus one; 0 while
 *		none is (the release store that sets it comes after the
 *		segment it names is initialised).
 * @state:	LFQ_SEG_LIVE, LFQ_SEG_RETIRED or LFQ_SEG_FREE. A segment
 *		is grown (linked after) only by someone who saw it LIVE
 *		inside a read-side section (it is marked RETIRED before its
 *		grace period begins).
 */
struct lfq_seg_meta {
	__u64 base;
	__u32 next;
	__u32 state;
};

/**
 * struct lfq_seg_word - one segment's head (or tail) word, on its own cache
 * line. A head word holds the next index to reserve, or, once LFQ_SEG_SEALED
 * (bit 63) is set, the index where the segment ends.
 * @v:		the word.
 * @__pad:	to a cache line.
 */
struct lfq_seg_word {
	__u64 v;
	__u8 __pad[LFQ_CACHELINE - 8];
};

/* Claim records in the producer page: one per registered MPSC producer. */
#define LFQ_MPSC_CLAIMS		60
/* Claim records in the consumer page: one per registered MPMC consumer. */
#define LFQ_MPMC_CLAIMS		60

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
 * @overwritten: overwrite mode: records process producers overwrote
 *		(statistics; kernel producers count theirs in the kernel).
 * @claims:	MPSC: the producers' claim records, by LFQ_IOC_CLAIM index.
 */
struct lfq_prod_ctl {
	__u64 head;
	__u8 __pad0[LFQ_CACHELINE - 8];
	__u32 need_space;
	__u32 __pad1;
	__u8 __pad2[LFQ_CACHELINE - 8];
	__u64 full_events;
	__u64 overwritten;
	__u8 __pad3[LFQ_CACHELINE - 16];
	struct lfq_mpsc_claim claims[LFQ_MPSC_CLAIMS];
};

/**
 * struct lfq_cons_ctl - consumer state, on its own page.
 * @tail:	index of the next slot to consume; slots below it are free.
 *		Written only by the consumer, with release ordering (an
 *		MPMC slot queue: its claim index, moved by compare-and-swap;
 *		an MPMC record queue: the release boundary, carried on by
 *		compare-and-swap by any consumer, lfq_rec_mpmc.h).
 * @need_data:	non-zero while a consumer sleeps waiting for data: whoever
 *		commits slots must wake it. Set by the waiter, cleared by
 *		the waker.
 * @empty_events: times the consumer found the ring empty (statistics).
 * @seg:	elastic queues: the frame of the segment the consumer reads,
 *		which is not retired while it is named here, whatever its
 *		tail word says. Set by the kernel when a consumer file is
 *		admitted; the consumer stores the next frame, with release
 *		ordering, when it moves on (it never touches the old segment
 *		again).
 * @torn:	MPMC: records process consumers found overwritten while
 *		they held them (statistics; see lfq_stats.torn).
 * @rec_claim:	MPMC record queues: the consumers' shared claim index, a
 *		byte index: records below it are taken (by compare-and-swap),
 *		those below @tail also released (lfq_rec_mpmc.h). Unused by
 *		the other queues.
 * @claims:	MPMC: the consumers' claim records, by LFQ_IOC_CLAIM
 *		(LFQ_CLAIM_CONSUMER) index: the range a consumer is claiming
 *		or holds (lfq_mpmc.h).
 */
struct lfq_cons_ctl {
	__u64 tail;
	__u8 __pad0[LFQ_CACHELINE - 8];
	__u32 need_data;
	__u32 __pad1;
	__u8 __pad2[LFQ_CACHELINE - 8];
	__u64 empty_events;
	__u32 seg;
	__u32 __pad3;
	__u64 torn;
	__u64 rec_claim;
	__u8 __pad4[LFQ_CACHELINE - 32];
	struct lfq_mpsc_claim claims[LFQ_MPMC_CLAIMS];
};

#endif /* _UAPI_LINUX_LFQ_RING_H */
