/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_queue.h - the queue object: its memory, its lifetime (kref + RCU),
 * the registry that finds it by id, who is admitted to it, and its
 * counters. The core layer: it knows nothing of files, names or event
 * sources (kmod/dev and kmod/sources build on it).
 */
#ifndef _LFQ_CORE_QUEUE_H
#define _LFQ_CORE_QUEUE_H

#include <linux/atomic.h>
#include <linux/irq_work.h>
#include <linux/kref.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "lfq.h"
#include "lfq_ring.h"
#include "proto/lfq_common.h"
#include "proto/lfq_layout.h"

struct lfq_claims;
struct lfq_elastic;
struct lfq_user;

/**
 * struct lfq_queue - one queue and the memory it shares with processes.
 * @ref:	references: each bound file, each in-kernel user.
 * @free_work:	frees the queue one RCU grace period after the last put.
 * @id:		key in the registry.
 * @hdr:	the kernel's own copy of the header page (HOSTILE MEMORY H7).
 * @layout:	the mapping layout.
 * @nr_pages:	distinct pages owned (header, control pages, commit words,
 *		one copy of the slot area; an elastic queue: header, control
 *		pages, segment table, head and tail words).
 * @map_pages:	the mapping layout page by page, the slot area twice;
 *		entries past @nr_pages repeat the slot area's pages. An
 *		elastic queue's frames are not here (lfq_seg.c).
 * @base:	kernel virtual address of the layout (vmap of @map_pages).
 * @ring:	where the ring's words are in @base; every protocol view
 *		the kernel builds of a fixed queue starts from it (an
 *		elastic queue's segments copy its queue-level words).
 * @el:		an elastic queue's segments (lfq_seg.c); NULL if fixed.
 * @user:	the creator's per-user counters (lfq_limits.c).
 * @data_wq:	sleepers waiting for data.
 * @space_wq:	sleepers waiting for free slots.
 * @wake_work:	wakes @data_wq for kernel producers in any context.
 * @space_work:	wakes @space_wq when a segment is linked in any context
 *		(an elastic queue's producers asleep at seg_max).
 * @claims:	MPSC and MPMC producers' claims and the orphan scan
 *		(lfq_claims.c); NULL for SPSC.
 * @cclaims:	MPMC consumers' claims and their recovery (lfq_cclaims.c);
 *		NULL for the other types.
 * @dropped:	kernel reservations that found the ring full.
 * @orphaned:	slots discarded for released producers.
 * @lost:	MPMC slots or records released for dead consumers.
 * @overwritten: records kernel producers overwrote (LFQ_CREATE_OVERWRITE).
 * @torn:	MPMC records the kernel's consumers found overwritten while
 *		they held them (lfq_mpmc_torn()).
 * @lap_refused: record queues: kernel reservations the lap guard refused
 *		(lfq_kclaims_lap_guard(); counted in @dropped too).
 * @wakeups:	wakeups that found a sleeper.
 * @wake_calls:	LFQ_IOC_WAKE calls.
 * @waits:	times an LFQ_IOC_WAIT caller went to sleep.
 * @files:	/dev/lfq files bound to the queue (counted by kmod/dev).
 * @producers:	admitted holders of the producer role (SPSC: at most 1).
 * @consumers:	admitted holders of the consumer role (at most 1; MPMC:
 *		any number).
 */
struct lfq_queue {
	struct kref ref;
	struct rcu_work free_work;
	u32 id;
	struct lfq_ring_hdr hdr;
	struct lfq_layout layout;
	unsigned long nr_pages;
	struct page **map_pages;
	void *base;
	struct lfq_ring_loc ring;
	struct lfq_elastic *el;
	struct lfq_user *user;
	wait_queue_head_t data_wq;
	wait_queue_head_t space_wq;
	struct irq_work wake_work;
	struct irq_work space_work;
	struct lfq_claims *claims;
	struct lfq_cclaims *cclaims;
	atomic64_t dropped;
	atomic64_t orphaned;
	atomic64_t lost;
	atomic64_t overwritten;
	atomic64_t torn;
	atomic64_t lap_refused;
	atomic64_t wakeups;
	atomic64_t wake_calls;
	atomic64_t waits;
	atomic_t files;
	atomic_t producers;
	atomic_t consumers;
};

struct lfq_queue *lfq_queue_create(const struct lfq_geometry *g);
struct lfq_queue *lfq_queue_get(u32 id);
void lfq_queue_put(struct lfq_queue *q);

/* Another reference on a queue the caller holds one on already. */
static inline void lfq_queue_ref(struct lfq_queue *q)
{
	kref_get(&q->ref);
}

int lfq_queue_admit(struct lfq_queue *q, u32 role);
void lfq_queue_leave(struct lfq_queue *q, u32 role);

struct lfq_queue *lfq_queue_find(unsigned long *id);
u64 lfq_queue_head(struct lfq_queue *q, bool acquire);
void lfq_queue_stats(struct lfq_queue *q, struct lfq_stats *st);

int lfq_queue_module_init(void);
void lfq_queue_module_exit(void);

#endif /* _LFQ_CORE_QUEUE_H */
