/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_queue.h - the queue object: its memory, its lifetime (kref + RCU),
 * the registry that finds it by id, and the in-kernel API other modules
 * use to create, find and release queues.
 */
#ifndef _LFQ_QUEUE_H
#define _LFQ_QUEUE_H

#include <linux/atomic.h>
#include <linux/irq_work.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "lfq.h"
#include "lfq_layout.h"
#include "lfq_ring.h"

struct lfq_claims;
struct lfq_src;

/**
 * struct lfq_queue_params - what a queue is created with.
 * @type:	LFQ_TYPE_*.
 * @flags:	LFQ_CREATE_* flags.
 * @slot_size:	bytes per slot.
 * @slot_count:	slots in the ring.
 */
struct lfq_queue_params {
	u32 type;
	u32 flags;
	u32 slot_size;
	u32 slot_count;
};

/**
 * struct lfq_queue - one queue and the memory it shares with processes.
 * @ref:	references: each bound file, each in-kernel user.
 * @free_work:	frees the queue one RCU grace period after the last put.
 * @id:		key in the registry.
 * @hdr:	the kernel's own copy of the header page (the shared one is
 *		never read back); feed it to lfq_spsc_*_init().
 * @layout:	the mapping layout.
 * @nr_pages:	distinct pages owned (header, control pages, one copy of
 *		the slot area).
 * @map_pages:	the mapping layout page by page, the slot area twice;
 *		entries past @nr_pages repeat the slot area's pages.
 * @base:	kernel virtual address of the whole layout (vmap of
 *		@map_pages).
 * @prod:	producer control page in @base (user-writable).
 * @cons:	consumer control page in @base (user-writable).
 * @commit:	MPSC commit words in @base (user-writable); unused for SPSC.
 * @data_wq:	sleepers waiting for data.
 * @space_wq:	sleepers waiting for free slots.
 * @wake_work:	wakes @data_wq for kernel producers in any context.
 * @claims:	MPSC producers' claims and the orphan scan (lfq_claims.c);
 *		NULL for SPSC.
 * @dropped:	kernel reservations that found the ring full.
 * @orphaned:	slots discarded for released producers.
 * @wakeups:	wakeups that found a sleeper.
 * @wake_calls:	LFQ_IOC_WAKE calls.
 * @waits:	times an LFQ_IOC_WAIT caller went to sleep.
 * @sources_lock: serialises attaching and detaching event sources.
 * @sources:	attached event sources (lfq_source.c), by source id.
 * @kconsumer:	an in-kernel consumer (an ECHO source) owns the consumer
 *		side; changed under @sources_lock and the echo lock
 *		(lfq_source_echo.c).
 * @files:	/dev/lfq files bound to the queue.
 * @producers:	of which hold the producer role (SPSC: at most 1).
 * @consumers:	of which hold the consumer role (at most 1).
 * @named:	the queue's name is in the name registry (lfq_names.c);
 *		changed under its lock, which also guards the fields below.
 * @name_node:	link in the name registry's hash table.
 * @name:	the name while @named (kept, but unused, after an unlink).
 * @uid:	owner of a named queue (the creator's fsuid).
 * @gid:	group of a named queue (the creator's fsgid).
 * @mode:	permission bits of a named queue.
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
	struct lfq_prod_ctl *prod;
	struct lfq_cons_ctl *cons;
	u64 *commit;
	wait_queue_head_t data_wq;
	wait_queue_head_t space_wq;
	struct irq_work wake_work;
	struct lfq_claims *claims;
	atomic64_t dropped;
	atomic64_t orphaned;
	atomic64_t wakeups;
	atomic64_t wake_calls;
	atomic64_t waits;
	struct mutex sources_lock;	/* guards @sources, @kconsumer */
	struct lfq_src *sources[LFQ_SOURCES_MAX];
	bool kconsumer;
	atomic_t files;
	atomic_t producers;
	atomic_t consumers;
	bool named;
	struct hlist_node name_node;
	char name[LFQ_NAME_MAX];
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
};

struct lfq_queue *lfq_queue_create(const struct lfq_queue_params *params);
struct lfq_queue *lfq_queue_get(u32 id);
void lfq_queue_put(struct lfq_queue *q);

int lfq_queue_admit(struct lfq_queue *q, u32 role);
void lfq_queue_leave(struct lfq_queue *q, u32 role);

/* The registry walked in id order (lfq_names.c: LIST and debugfs). */
struct lfq_queue *lfq_queue_find(unsigned long *id, bool named_only);
void lfq_queue_mark_named(struct lfq_queue *q, bool named);

/* lfq_wait.c: the irq_work behind @wake_work; waking blocked producers. */
void lfq_queue_wake_work(struct irq_work *work);
void lfq_queue_wake_producers(struct lfq_queue *q);

int lfq_queue_module_init(void);
void lfq_queue_module_exit(void);

#endif /* _LFQ_QUEUE_H */
