/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_seg.h - the segments of an elastic queue in the kernel (lfq_seg.c):
 * their memory, the pool producers in any context take spares from, the
 * links (by the protocol of proto/lfq_segment.h), retirement through RCU,
 * and how segments enter and leave process mappings.
 */
#ifndef _LFQ_CORE_SEG_H
#define _LFQ_CORE_SEG_H

#include <linux/atomic.h>
#include <linux/irq_work.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "proto/lfq_segment.h"

struct address_space;
struct lfq_queue;
struct lfq_stats;
struct mem_cgroup;

/**
 * struct lfq_seg - one segment: a ring of its own in a frame of the queue.
 * @el:		its queue's elastic part.
 * @frame:	its frame, for its whole allocation.
 * @ring:	its words in the kernel's address space: head and tail in
 *		the queue's word arrays, commit words and slots in @vaddr.
 * @pages:	its pages: the commit words' (MPSC), then the slots'.
 * @vaddr:	vmap of the commit words, the slots, the slots again.
 * @retire:	after a grace period: to the pool.
 * @free_next:	the next segment of a batch being freed (idle work).
 */
struct lfq_seg {
	struct lfq_elastic *el;
	u32 frame;
	struct lfq_ring_loc ring;
	struct page **pages;
	void *vaddr;
	struct rcu_work retire;
	struct lfq_seg *free_next;
};

/**
 * struct lfq_elastic - an elastic queue's segments.
 * @q:		the queue.
 * @seg_min:	segments kept allocated at rest.
 * @seg_max:	segments at most.
 * @commit_pages: pages of a segment's commit words (MPSC).
 * @data_pages:	pages of a segment's slots.
 * @frames:	frame -> segment allocated there (RCU: readers take a
 *		frame's segment from a link; it is freed a grace period
 *		after the frame is emptied).
 * @pseg:	the producers' segment, the newest (RCU).
 * @cseg:	the oldest live segment (RCU; changed under @lock).
 * @kcons:	the segment an in-kernel consumer reads, which is never
 *		retired under it whatever the consumer's tail word says;
 *		NULL without one.
 * @pool:	frames holding a spare segment (bitmap; lock-free).
 * @live:	segments linked in the queue.
 * @pooled:	spare segments.
 * @pool_low:	the pool's low-water mark while the queue may grow (@work
 *		refills it to twice this): LFQ_POOL_LOW, doubled (up to
 *		LFQ_POOL_LOW_MAX and seg_max) each time a producer found
 *		the pool empty, back to LFQ_POOL_LOW after an idle period.
 *		Written under @lock.
 * @starved:	set by a producer that found the pool empty.
 * @nomem:	set when a process producer's growth found no spare and
 *		could not allocate one (the user's byte limit, or no
 *		memory); cleared when a spare is pooled. Meanwhile a waiter
 *		for space counts the newest segment, as at seg_max.
 * @allocated:	segments allocated (live, pooled or being retired).
 * @peak:	@live at most.
 * @grows:	segments linked.
 * @shrinks:	segments retired.
 * @last_grow:	jiffies of the last link.
 * @lock:	allocation, retirement, the pool's refills, and faults.
 * @kick:	queues @work from any context.
 * @work:	reclaims drained segments and refills the pool.
 * @idle:	frees the pool down to @seg_min after an idle period.
 * @retired:	woken when a retired segment joins the pool.
 * @dying:	set (under @lock) when the queue is being freed: nothing is
 *		retired, refilled or kicked from then on.
 * @memcg:	the creator's memory cgroup: segments are charged to it.
 * @inode:	owns the address_space every mapping of the queue is in, so
 *		a frame can be zapped from all of them.
 * @segtab:	the segment table's head (read-only to processes).
 * @meta:	the segment table (read-only to processes).
 * @heads:	the segments' head words (producer-writable).
 * @tails:	the segments' tail words (consumer-writable).
 */
struct lfq_elastic {
	struct lfq_queue *q;
	u32 seg_min;
	u32 seg_max;
	u32 commit_pages;
	u32 data_pages;
	struct lfq_seg __rcu **frames;
	struct lfq_seg __rcu *pseg;
	struct lfq_seg __rcu *cseg;
	struct lfq_seg *kcons;
	unsigned long *pool;
	atomic_t live;
	atomic_t pooled;
	u32 pool_low;
	atomic_t starved;
	atomic_t nomem;
	atomic_t allocated;
	atomic_t peak;
	atomic64_t grows;
	atomic64_t shrinks;
	unsigned long last_grow;
	struct mutex lock;	/* see above */
	struct irq_work kick;
	struct work_struct work;
	struct delayed_work idle;
	wait_queue_head_t retired;
	bool dying;
	struct mem_cgroup *memcg;
	struct inode *inode;
	struct lfq_segtab *segtab;
	struct lfq_seg_meta *meta;
	struct lfq_seg_word *heads;
	struct lfq_seg_word *tails;
};

int lfq_seg_init(struct lfq_queue *q);
void lfq_seg_destroy(struct lfq_queue *q);

struct lfq_seg *lfq_seg_producer(struct lfq_elastic *el);
struct lfq_seg *lfq_seg_newest(struct lfq_elastic *el);
struct lfq_seg *lfq_seg_advance(struct lfq_elastic *el, struct lfq_seg *s,
				int *err);
int lfq_seg_grow_frame(struct lfq_queue *q, u32 frame);

void lfq_seg_consumer_admit(struct lfq_elastic *el);
struct lfq_seg *lfq_seg_consumer_start(struct lfq_elastic *el);
struct lfq_seg *lfq_seg_consumer_next(struct lfq_elastic *el,
				      struct lfq_seg *s);
void lfq_seg_consumer_stop(struct lfq_elastic *el);

void lfq_seg_walk(struct lfq_elastic *el,
		  void (*fn)(const struct lfq_ring_loc *r, u64 head, void *arg),
		  void *arg);
u32 lfq_seg_ready_data(struct lfq_elastic *el, u32 max, bool arm);
u32 lfq_seg_ready_space(struct lfq_elastic *el, u32 max, bool arm);
void lfq_seg_kick(struct lfq_elastic *el);
void lfq_seg_reclaim_sync(struct lfq_elastic *el);
u64 lfq_seg_consumed(struct lfq_elastic *el);
bool lfq_seg_rec_committed(struct lfq_elastic *el, u64 pos);
bool lfq_seg_may_grow(struct lfq_elastic *el, struct lfq_seg *s);
void lfq_seg_stats(struct lfq_elastic *el, struct lfq_stats *st);

struct address_space *lfq_seg_mapping(struct lfq_elastic *el);
struct page *lfq_seg_frame_page(struct lfq_elastic *el, u64 pgoff);
void lfq_seg_lock(struct lfq_elastic *el);
void lfq_seg_unlock(struct lfq_elastic *el);

int lfq_seg_module_init(void);
void lfq_seg_module_exit(void);

#endif /* _LFQ_CORE_SEG_H */
